"""A token bucket per IP prefix (/24 or /48), to blunt floods from one network."""

import time
from collections.abc import Callable

# Loopback is a local reverse proxy or a load test; a proxy should be listed in TELLER_TRUSTED_PROXIES
# so that limits apply to the real client networks behind it.
_EXEMPT = ("127.", "::1", "0.0.0.0")
MAX_TRACKED = 100_000


class PrefixRateLimiter:
    """Allows `rate` requests per second per prefix with bursts up to `burst`; rate 0 turns it off."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, prefix: str, cost: float = 1.0) -> bool:
        """Take cost tokens from the prefix's bucket; False when it is empty."""
        if self.rate <= 0 or prefix.startswith(_EXEMPT):
            return True
        now = self.clock()
        tokens, last = self._buckets.get(prefix, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < cost:
            self._buckets[prefix] = (tokens, now)
            return False
        if len(self._buckets) >= MAX_TRACKED and prefix not in self._buckets:
            # Full buckets carry no information; dropping them all bounds memory under a spoofed flood.
            self._buckets = {p: b for p, b in self._buckets.items() if b[0] < self.burst}
            if len(self._buckets) >= MAX_TRACKED:
                self._buckets.clear()
        self._buckets[prefix] = (tokens - cost, now)
        return True
