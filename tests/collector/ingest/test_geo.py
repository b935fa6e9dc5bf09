"""Tests for the offline country lookup."""

from __future__ import annotations

import pytest

from collector.ingest.geo import DATA_FILE, country_of


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("195.159.103.0", "NO"),
        ("8.8.8.0", "US"),
        ("2001:67c:2e8::", "NL"),
        ("::ffff:195.159.103.0", "NO"),
        ("10.0.0.0", ""),
        ("192.168.1.0", ""),
        ("127.0.0.0", ""),
        ("100.64.0.0", ""),
        ("::", ""),
        ("::1", ""),
        ("fe80::", ""),
        ("2001:db8::", ""),
        ("", ""),
        ("garbage", ""),
        ("1", ""),
        ("195.159.103.0/24", ""),
    ],
)
def test_country_of(prefix: str, expected: str) -> None:
    assert country_of(prefix) == expected


def test_the_compact_table_answers_as_geoip2fast_does() -> None:
    """40,000 random /24 and /48 prefixes: the same country as geoip2fast's own lookup of its database."""
    import os
    import random
    from ipaddress import IPv4Address, IPv6Address

    saved = dict(os.environ)
    import geoip2fast  # rewrites os.environ on import (see collector/ingest/geo.py)

    os.environ.clear()
    os.environ.update(saved)
    reference = geoip2fast.GeoIP2Fast(
        geoip2fast_data_file=os.path.join(os.path.dirname(geoip2fast.__file__), DATA_FILE)
    )
    rng = random.Random(7)
    prefixes = [f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.0" for _ in range(30_000)]
    starts = (0x2001, 0x2400, 0x2403, 0x2600, 0x2800, 0x2A00, 0x2A02, 0x2C0F)
    prefixes += [str(IPv6Address(rng.choice(starts) << 112 | rng.getrandbits(32) << 80)) for _ in range(10_000)]
    found = 0
    for prefix in prefixes:
        address = IPv6Address(prefix) if ":" in prefix else IPv4Address(prefix)
        code = reference.lookup(prefix).country_code
        expected = code if address.is_global and len(code) == 2 and code.isalpha() else ""
        assert country_of(prefix) == expected, prefix
        found += bool(expected)
    assert found > 25_000  # most of them lie in some country's network
