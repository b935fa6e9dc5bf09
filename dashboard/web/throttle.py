"""Login throttling per account and per client network prefix, counted in ClickHouse for every process."""

import hashlib
import hmac
import threading
import time
from collections.abc import Callable

from storage.login_failures import count_failures, drop_old_failures, record_failure
from storage.store import Store

WINDOW_SECONDS = 15 * 60
MAX_PER_ACCOUNT = 5
MAX_PER_PREFIX = 20


class LoginThrottle:
    """Refuses logins for an account or a network prefix with too many recent failures."""

    def __init__(self, store: Store, secret: Callable[[], bytes], clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.secret = secret
        self.clock = clock
        self._last_cleanup = 0.0
        self._lock = threading.Lock()

    def _keys(self, email: str, prefix: str) -> tuple[str, str]:
        """Keyed hashes, so the table holds neither e-mail addresses nor network prefixes."""
        secret = self.secret()
        account = hmac.new(secret, b"account:" + email.strip().lower().encode(), hashlib.sha256).hexdigest()
        network = hmac.new(secret, b"prefix:" + prefix.encode(), hashlib.sha256).hexdigest()
        return account, network

    def blocked(self, email: str, prefix: str) -> bool:
        """True when the account or the prefix has used up its failures in the window."""
        account, network = self._keys(email, prefix)
        counts = count_failures(self.store, [account, network], self.clock() - WINDOW_SECONDS)
        return counts.get(account, 0) >= MAX_PER_ACCOUNT or counts.get(network, 0) >= MAX_PER_PREFIX

    def failed(self, email: str, prefix: str) -> None:
        """Count a failed login for the account and the prefix; drop old days now and then."""
        now = self.clock()
        record_failure(self.store, list(self._keys(email, prefix)), now)
        with self._lock:
            if now - self._last_cleanup < 3600:
                return
            self._last_cleanup = now
        drop_old_failures(self.store, now)
