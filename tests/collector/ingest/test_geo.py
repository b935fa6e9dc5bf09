"""Tests for the offline country lookup."""

from __future__ import annotations

import pytest

from collector.ingest.geo import country_of


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
