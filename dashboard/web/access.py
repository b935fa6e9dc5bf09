"""Who is asking: login sessions (cookie), share links (URL token), CSRF tokens; cached a few seconds."""

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable

from storage.dashboard_sessions import create_session, find_session, hash_session_id, revoke_session
from storage.share_links import embed_origins_of, hash_token, site_of_token
from storage.store import Store
from storage.users import USER_CHANGES, User, get_user

COOKIE_NAME = "teller_session"
# A logout, a changed or removed user or a revoked link reaches other processes within this many seconds
# (this process drops its cached entries at once).
CACHE_SECONDS = 5.0
LOGIN_TOKEN_SECONDS = 2 * 3600
# Between a right password and its second factor.
TWO_FACTOR_TOKEN_SECONDS = 5 * 60


class Access:
    """Resolves session ids and share tokens against ClickHouse, with a short per-process cache."""

    def __init__(
        self, store: Store, secret: Callable[[], bytes], session_lifetime: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.secret = secret
        self.session_lifetime = session_lifetime
        self.clock = clock
        self.max_age = CACHE_SECONDS
        self.monotonic = time.monotonic  # the cache's clock
        self._sessions: dict[str, tuple[float, User | None]] = {}
        self._shares: dict[str, tuple[float, tuple[str | None, tuple[str, ...]]]] = {}
        # Counts the entries dropped by a change: a lookup that started before one does not cache its answer.
        self._generation = 0
        self._lock = threading.Lock()
        USER_CHANGES.listen(self.forget_user)

    def _cached(self, cache: dict, key: str) -> tuple[bool, object, int]:
        """(hit, value) of a cache entry younger than max_age, and the generation to store a fresh value with."""
        with self._lock:
            entry = cache.get(key)
            if entry is not None and self.monotonic() - entry[0] < self.max_age:
                return True, entry[1], self._generation
            if len(cache) > 10_000:
                cache.clear()
            return False, None, self._generation

    def _store(self, cache: dict, key: str, value: object, generation: int) -> None:
        """Cache a value looked up in ClickHouse, unless a change dropped entries meanwhile."""
        with self._lock:
            if generation == self._generation:
                cache[key] = (self.monotonic(), value)

    def user_of(self, session_id: str | None) -> User | None:
        """The user a session id belongs to, or None once the session or that version of the user has ended."""
        if not session_id or len(session_id) > 200:
            return None
        key = hash_session_id(session_id)
        hit, value, generation = self._cached(self._sessions, key)
        if hit:
            return value  # type: ignore[return-value]
        row = find_session(self.store, session_id, self.clock())
        user = get_user(self.store, row.email) if row else None
        if user is not None and row is not None and user.version != row.user_version:
            user = None  # the password, the role or the user changed since the login (or was removed and re-added)
        self._store(self._sessions, key, user, generation)
        return user

    def log_in(self, user: User) -> str:
        """Start a session for the version of the user that just logged in; return the cookie value."""
        return create_session(self.store, user.email, self.session_lifetime, self.clock(), user.version)

    def log_out(self, session_id: str) -> None:
        """End a session everywhere (other processes within CACHE_SECONDS)."""
        revoke_session(self.store, session_id)
        with self._lock:
            self._generation += 1
            self._sessions.pop(hash_session_id(session_id), None)

    def forget_user(self, email: str) -> None:
        """Drop the cached sessions of a user whose row this process just wrote, so the change counts at once."""
        with self._lock:
            self._generation += 1
            for key in [k for k, (_, user) in self._sessions.items() if user is not None and user.email == email]:
                del self._sessions[key]

    def share(self, token: str) -> tuple[str | None, tuple[str, ...]]:
        """The site a live share token opens (or None) and the origins that may frame it."""
        if not token or len(token) > 200:
            return None, ()
        key = hash_token(token)
        hit, value, generation = self._cached(self._shares, key)
        if hit:
            return value  # type: ignore[return-value]
        site = site_of_token(self.store, token)
        found = (site, embed_origins_of(self.store, token) if site else ())
        self._store(self._shares, key, found, generation)
        return found

    def site_of_share(self, token: str) -> str | None:
        """The site a live share token opens, or None."""
        return self.share(token)[0]

    def forget_share(self, token_hash: str) -> None:
        """Drop a revoked link from this process's cache at once."""
        with self._lock:
            self._generation += 1
            self._shares.pop(token_hash, None)

    def _sign(self, message: str) -> str:
        return hmac.new(self.secret(), message.encode(), hashlib.sha256).hexdigest()

    def csrf_token(self, session_id: str) -> str:
        """The form token of a session: bound to it, useless without it."""
        return self._sign("csrf:" + session_id)

    def csrf_valid(self, session_id: str, token: str) -> bool:
        """True when token is the session's form token."""
        return bool(token) and hmac.compare_digest(self.csrf_token(session_id), token)

    def login_token(self) -> str:
        """A token for the login form: proves the form came from this Teller in the last two hours."""
        issued = str(int(self.clock()))
        return f"{issued}.{self._sign('login:' + issued)}"

    def login_token_valid(self, token: str) -> bool:
        """True for a login token issued here in the last two hours."""
        issued, _, signature = token.partition(".")
        if not issued.isdigit() or not hmac.compare_digest(self._sign("login:" + issued), signature):
            return False
        return 0 <= self.clock() - int(issued) <= LOGIN_TOKEN_SECONDS

    def two_factor_token(self, user: User) -> str:
        """Proof that this version of the user gave the right password just now; the code form carries it."""
        issued = str(int(self.clock()))
        email = base64.urlsafe_b64encode(user.email.encode()).decode()
        message = f"{issued}.{email}.{user.version}"
        return f"{message}.{self._sign('2fa:' + message)}"

    def two_factor_user(self, token: str) -> User | None:
        """The user a two-factor token was issued for, while it is fresh and that version of the user lives."""
        message, _, signature = token.rpartition(".")
        if not message or not hmac.compare_digest(self._sign("2fa:" + message), signature):
            return None
        issued, email, version = message.split(".")
        if not 0 <= self.clock() - int(issued) <= TWO_FACTOR_TOKEN_SECONDS:
            return None
        user = get_user(self.store, base64.urlsafe_b64decode(email).decode())
        return user if user is not None and str(user.version) == version else None
