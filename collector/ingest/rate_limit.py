"""A token bucket per IP prefix (/24 or /48), to blunt floods from one network.

A request costs one token per row it asks to store (every site of every valid event), so a batch, or
an event naming several sites, pays for what it stores: at one token per request, one batch of 1000
events naming a domain 66 times stored 66,000 rows.
"""

import math
import time
from collections.abc import Callable

# Loopback is a local reverse proxy or a load test; a proxy should be listed in TELLER_TRUSTED_PROXIES
# so that limits apply to the real client networks behind it.
_EXEMPT = ("127.", "::1", "0.0.0.0")
MAX_TRACKED = 100_000


class PrefixRateLimiter:
    """Allows `rate` tokens per second per prefix with bursts up to `burst`; rate 0 turns it off."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, prefix: str, cost: float = 1.0) -> bool:
        """Take cost tokens from the prefix's bucket; False when it lacks them."""
        return self.take(prefix, cost) == 0.0

    def take(self, prefix: str, cost: float = 1.0, paid: float = 0.0) -> float:
        """Take cost tokens less `paid` taken before for the request: 0.0, or the seconds until they are there (inf)."""
        if self.rate <= 0 or prefix.startswith(_EXEMPT):
            return 0.0
        if cost > self.burst:
            return math.inf
        cost -= paid
        if cost <= 0:
            return 0.0
        now = self.clock()
        tokens, last = self._buckets.get(prefix, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < cost:
            self._buckets[prefix] = (tokens, now)
            return (cost - tokens) / self.rate
        if len(self._buckets) >= MAX_TRACKED and prefix not in self._buckets:
            # Full buckets carry no information; dropping them all bounds memory under a spoofed flood.
            self._buckets = {p: b for p, b in self._buckets.items() if b[0] < self.burst}
            if len(self._buckets) >= MAX_TRACKED:
                self._buckets.clear()
        self._buckets[prefix] = (tokens - cost, now)
        return 0.0
