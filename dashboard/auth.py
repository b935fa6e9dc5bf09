"""Bearer-key authentication for the stats API against hashed keys kept in ClickHouse."""

import threading
import time

from collector.storage.api_keys import key_is_valid, live_key_hashes
from collector.storage.store import Store

# An unknown key reloads the hashes at most this often, so guessing keys cannot flood ClickHouse.
RELOAD_INTERVAL = 1.0


class ApiKeyAuth:
    """Checks presented keys against a cached set of live key hashes."""

    def __init__(self, store: Store, max_age: float = 30.0) -> None:
        self.store = store
        self.max_age = max_age
        self._hashes: set[str] = set()
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def _reload(self, min_age: float) -> None:
        """Reload the hashes if the cache is older than min_age seconds."""
        with self._lock:
            if time.monotonic() - self._loaded_at >= min_age:
                self._hashes = live_key_hashes(self.store)
                self._loaded_at = time.monotonic()

    def is_valid(self, key: str) -> bool:
        """True for a live key; new keys are found within a second, revoked ones within max_age."""
        self._reload(self.max_age)
        if key_is_valid(key, self._hashes):
            return True
        self._reload(RELOAD_INTERVAL)
        return key_is_valid(key, self._hashes)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an 'Authorization: Bearer <token>' header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
