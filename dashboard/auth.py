"""Bearer-key authentication for the stats API against hashed keys kept in ClickHouse."""

import threading
import time

from starlette.responses import Response

from dashboard.json_response import json_error
from storage.api_keys import KEY_REVOCATIONS, hash_key, key_is_live, key_is_valid, live_key_hashes
from storage.store import Store, StoreError

# A key revoked in another process stops working here within this many seconds (in the process that
# revoked it, at once); the same bound as the dashboard's sessions.
CACHE_SECONDS = 5.0


class ApiKeyAuth:
    """Checks presented keys against a cached set of live key hashes, asking ClickHouse on a miss."""

    def __init__(self, store: Store, max_age: float = CACHE_SECONDS) -> None:
        self.store = store
        self.max_age = max_age
        self.monotonic = time.monotonic  # the cache's clock
        self._hashes: set[str] = set()
        self._loaded_at = float("-inf")
        # Counts revocations: a lookup that started before one does not add its key.
        self._generation = 0
        self._lock = threading.Lock()
        KEY_REVOCATIONS.listen(self.forget)

    def is_valid(self, key: str) -> bool:
        """True for a live key; new keys work at once, revoked ones stop within max_age seconds."""
        with self._lock:
            if self.monotonic() - self._loaded_at >= self.max_age:
                self._hashes = live_key_hashes(self.store)
                self._loaded_at = self.monotonic()
            if key_is_valid(key, self._hashes):
                return True
            generation = self._generation
        # A point lookup on the table's sort key: one cheap query per unknown key.
        if key_is_live(self.store, hash_key(key)):
            with self._lock:
                if generation == self._generation:
                    self._hashes.add(hash_key(key))
            return True
        return False

    def forget(self, key_hash: str) -> None:
        """Drop a key this process just revoked, so it stops working here at once."""
        with self._lock:
            self._generation += 1
            self._hashes.discard(key_hash)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an 'Authorization: Bearer <token>' header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def refusal(auth: ApiKeyAuth, authorization: str | None) -> Response | None:
    """None when the Authorization header carries a live key, else the 401 (or 503) to answer."""
    token = bearer_token(authorization)
    try:
        if token is not None and auth.is_valid(token):
            return None
    except StoreError:
        return json_error(503, "the database is not reachable")
    return json_error(401, "a valid API key is required (Authorization: Bearer <key>)", {"WWW-Authenticate": "Bearer"})
