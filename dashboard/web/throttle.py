"""Login throttling per (account, network) and per network, counted in ClickHouse for every process.

An attempt is reserved (written) before its password is checked and only then counted: a row is seen
by every count that starts after its INSERT returned, so the k-th reservation to complete sees at least
k attempts, and no more than a limit's worth of passwords are checked however many arrive at once,
in one process or several. No limit covers an account from every network: that is what let anyone who
knew an e-mail address lock its owner out.
"""

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.login_attempts import Attempt, Counted, counted_attempts, drop_old_attempts, refuse, reserve, succeed
from storage.store import Store

MINUTE, HOUR = 60, 3600


@dataclass(frozen=True)
class Limit:
    """At most attempts failed logins within seconds."""

    attempts: int
    seconds: int


# A short and a long window per key: a guesser waits 15 minutes after 5 guesses, and after 20 in a
# day until that day's first ones age out, while the owner's own network keeps its full budget.
ACCOUNT_NETWORK_LIMITS = (Limit(5, 15 * MINUTE), Limit(20, 24 * HOUR))
NETWORK_LIMITS = (Limit(20, 15 * MINUTE), Limit(100, 24 * HOUR))
# A refusal is answered from memory for up to this long, so a flood of posts costs no writes.
KNOWN_REFUSAL_SECONDS = MINUTE
LONGEST_WINDOW = max(limit.seconds for limit in ACCOUNT_NETWORK_LIMITS + NETWORK_LIMITS)


@dataclass(frozen=True)
class Reservation:
    """A reserved attempt; retry_after > 0 when it was refused (seconds until an attempt may be checked)."""

    attempt: Attempt | None
    retry_after: int = 0


def retry_after(attempts: list[Counted], own: Attempt, limits: tuple[Limit, ...]) -> int:
    """Seconds until a new attempt fits every limit, given the attempts that count; 0 when this one fits."""
    others = sorted((a.ts for a in attempts if a.attempt_id != own.attempt_id), reverse=True)
    now = own.ts
    wait = 0
    for limit in limits:
        inside = [ts for ts in others if ts >= now - limit.seconds]
        if len(inside) + 1 > limit.attempts:
            # Counted while ts >= now - seconds: the limit-th newest other attempt must age out first.
            wait = max(wait, inside[limit.attempts - 1] + limit.seconds + 1 - now)
    return wait


class LoginThrottle:
    """Reserves login attempts and refuses those over the limits of their account-and-network or network."""

    def __init__(self, store: Store, secret: Callable[[], bytes], clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.secret = secret
        self.clock = clock
        self._refused: dict[str, tuple[float, float]] = {}  # key: (answered from memory until, retry at)
        self._last_cleanup = 0.0
        self._lock = threading.Lock()

    def _keys(self, email: str, prefix: str) -> tuple[str, str]:
        """Keyed hashes, so the table holds neither e-mail addresses nor network prefixes."""
        secret = self.secret()
        account = email.strip().lower().encode()
        pair = hmac.new(secret, b"account-network:" + account + b"\0" + prefix.encode(), hashlib.sha256).hexdigest()
        network = hmac.new(secret, b"prefix:" + prefix.encode(), hashlib.sha256).hexdigest()
        return pair, network

    def _known_refusal(self, keys: tuple[str, str], now: float) -> int:
        """Seconds to wait by an earlier refusal in this process of a key of these, or 0 (then ask ClickHouse)."""
        wait = 0.0
        with self._lock:
            for key in keys:
                answer_until, retry_at = self._refused.get(key, (0.0, 0.0))
                if now < answer_until:
                    wait = max(wait, retry_at - now)
        return max(1, int(wait + 0.999)) if wait else 0

    def reserve(self, email: str, prefix: str) -> Reservation:
        """Reserve an attempt for the account from the network prefix; refused when a limit is used up."""
        now = self.clock()
        keys = self._keys(email, prefix)
        known = self._known_refusal(keys, now)
        if known:
            return Reservation(None, known)
        attempt = reserve(self.store, list(keys), now)
        counted = counted_attempts(self.store, list(keys), now - LONGEST_WINDOW)
        pair, network = keys
        waits = {
            pair: retry_after(_failing(counted[pair], reset=True), attempt, ACCOUNT_NETWORK_LIMITS),
            network: retry_after(_failing(counted[network], reset=False), attempt, NETWORK_LIMITS),
        }
        wait = max(waits.values())
        if not wait:
            self._cleanup(now)
            return Reservation(attempt)
        refuse(self.store, attempt)
        with self._lock:
            if len(self._refused) > 10_000:
                self._refused.clear()
            for key, key_wait in waits.items():
                if key_wait:
                    # Not for the whole wait: in a burst it counts attempts that are being refused at the same time.
                    self._refused[key] = (now + min(key_wait, KNOWN_REFUSAL_SECONDS), now + key_wait)
        return Reservation(attempt, wait)

    def succeeded(self, reservation: Reservation) -> None:
        """The password was right: the attempt stops counting, and its account-and-network key starts afresh."""
        if reservation.attempt is not None:
            succeed(self.store, reservation.attempt)

    def _cleanup(self, now: float) -> None:
        """Drop old days now and then."""
        with self._lock:
            if now - self._last_cleanup < HOUR:
                return
            self._last_cleanup = now
        drop_old_attempts(self.store, now)


def _failing(attempts: list[Counted], reset: bool) -> list[Counted]:
    """The attempts that count: not succeeded and, when a success resets the key, newer than its latest one."""
    since = max((a.seq for a in attempts if a.succeeded), default=0) if reset else 0
    return [a for a in attempts if not a.succeeded and a.seq > since]
