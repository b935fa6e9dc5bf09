"""Per-network rate limiting of ingest requests."""

import math
from pathlib import Path

import pytest
from harness import Harness

from collector.ingest.rate_limit import PrefixRateLimiter
from storage.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_refills_at_the_rate() -> None:
    clock = Clock()
    limiter = PrefixRateLimiter(rate=10, burst=5, clock=clock)
    assert all(limiter.allow("195.159.103.0") for _ in range(5))
    assert not limiter.allow("195.159.103.0")
    assert limiter.allow("85.214.132.0")  # another network has its own bucket
    clock.now += 0.1  # one token back
    assert limiter.allow("195.159.103.0") and not limiter.allow("195.159.103.0")


def test_a_cost_takes_all_its_tokens_or_none_and_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = PrefixRateLimiter(rate=10, burst=100, clock=clock)
    assert limiter.take("195.159.103.0", 60) == 0.0
    assert limiter.take("195.159.103.0", 50) == pytest.approx(1.0)  # 10 tokens short at 10 per second
    assert limiter.take("195.159.103.0", 40) == 0.0  # the refused cost took nothing
    clock.now += 2.0
    assert limiter.take("195.159.103.0", 20, paid=1) == 0.0 and limiter.take("195.159.103.0", 2) > 0
    assert limiter.take("195.159.103.0", 101) == math.inf  # more than the bucket ever holds
    assert PrefixRateLimiter(rate=0, burst=1).take("195.159.103.0", 1000) == 0.0


def test_off_and_loopback_are_unlimited() -> None:
    assert all(PrefixRateLimiter(rate=0, burst=1).allow("195.159.103.0") for _ in range(1000))
    limiter = PrefixRateLimiter(rate=1, burst=1)
    assert all(limiter.allow("127.0.0.0") for _ in range(1000))


def test_memory_is_bounded_under_spoofed_networks() -> None:
    limiter = PrefixRateLimiter(rate=1, burst=2)
    for index in range(250_000):
        limiter.allow(f"10.{index // 65536}.{(index // 256) % 256}.0")
    assert len(limiter._buckets) <= 100_000


def test_flood_from_one_network_gets_429(store: Store, tmp_path: Path) -> None:
    # One token per 5 s: the refill cannot reach the test's requests even on a loaded machine.
    harness = Harness(store, tmp_path, rate_limit=0.2, rate_limit_burst=5)
    harness.start()
    try:
        harness.add_site("limited.test")
        answers = [harness.pageview("limited.test", "/", ip="195.159.103.82").status_code for _ in range(8)]
        assert answers[:5] == [202] * 5 and set(answers[5:]) == {429}
        other = harness.pageview("limited.test", "/", ip="85.214.132.117")
        assert other.status_code == 202
        limited = harness.pageview("limited.test", "/", ip="195.159.103.9")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "5"
        assert "too many requests" in limited.json()["error"]
    finally:
        harness.stop()
