"""Tests for client address truncation and trusted-proxy resolution."""

from __future__ import annotations

import pytest

from collector.ingest.client_ip import TrustedProxies, truncate_ip


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("195.159.103.82", "195.159.103.0"),
        ("8.8.8.8", "8.8.8.0"),
        ("10.0.0.255", "10.0.0.0"),
        ("0.0.0.0", "0.0.0.0"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"),
        ("2001:67c:2e8:22::c100:68b", "2001:67c:2e8::"),
        ("2001:DB8:ABCD:FFFF::1", "2001:db8:abcd::"),
        ("::1", "::"),
        ("fe80::1%eth0", "fe80::"),
        ("::ffff:195.159.103.82", "195.159.103.0"),
        ("::FFFF:8.8.4.4", "8.8.4.0"),
        ("", None),
        ("garbage", None),
        ("256.1.1.1", None),
        ("1.2.3", None),
        ("01.2.3.4", None),
        (" 1.2.3.4", None),
        ("1.2.3.4:8080", None),
        ("[2001:db8::1]:443", None),
        ("2001:db8::g", None),
        ("unknown", None),
    ],
)
def test_truncate_ip(ip: str, expected: str | None) -> None:
    assert truncate_ip(ip) == expected


PROXIES = TrustedProxies(["10.0.0.0/8", "192.168.1.10", "2001:db8:ffff::/48", " ", "::ffff:172.16.0.0/108"])


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # Untrusted peer: a forged header is ignored.
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),
        ("203.0.113.9", None, "203.0.113.9"),
        # Trusted peer (CIDR and single address) with one client hop.
        ("10.1.2.3", "198.51.100.7", "198.51.100.7"),
        ("192.168.1.10", "198.51.100.7", "198.51.100.7"),
        ("192.168.1.11", "198.51.100.7", "192.168.1.11"),
        # Chain through two trusted proxies; the forged leftmost entry is not reached.
        ("10.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        ("10.0.0.1", "6.6.6.6,198.51.100.7,192.168.1.10", "198.51.100.7"),
        # Every hop trusted: the leftmost.
        ("10.0.0.1", "10.9.9.9, 10.0.0.2", "10.9.9.9"),
        # Trusted peer without a header: the peer itself.
        ("10.0.0.1", None, "10.0.0.1"),
        ("10.0.0.1", "", "10.0.0.1"),
        # Malformed hop: fall back to the peer.
        ("10.0.0.1", "198.51.100.7, garbage", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.7:5555", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.7,,", "10.0.0.1"),
        # IPv6 proxy and IPv6 client.
        ("2001:db8:ffff::5", "2a00:1450:4001:82a::200e", "2a00:1450:4001:82a::200e"),
        ("2001:db8:ffff::5", "195.159.103.82, 2001:db8:ffff::6", "195.159.103.82"),
        ("2001:db8:fffe::5", "195.159.103.82", "2001:db8:fffe::5"),
        # IPv4-mapped peers match IPv4 trust, and mapped entries match IPv4 ranges.
        ("::ffff:10.0.0.1", "198.51.100.7", "198.51.100.7"),
        ("172.16.5.5", "198.51.100.7", "198.51.100.7"),
        # Missing or malformed peer.
        (None, "198.51.100.7", None),
        ("", "198.51.100.7", ""),
        ("not-an-ip", "198.51.100.7", "not-an-ip"),
    ],
)
def test_client_ip(peer: str | None, forwarded_for: str | None, expected: str | None) -> None:
    assert PROXIES.client_ip(peer, forwarded_for) == expected


def test_no_trusted_proxies_returns_peer() -> None:
    proxies = TrustedProxies([])
    assert not proxies
    assert proxies.client_ip("10.0.0.1", "198.51.100.7") == "10.0.0.1"
    assert proxies.client_ip(None, "198.51.100.7") is None


def test_is_trusted() -> None:
    assert PROXIES
    assert PROXIES.is_trusted("10.255.0.1")
    assert not PROXIES.is_trusted("11.0.0.1")
    assert not PROXIES.is_trusted(None)
    assert not PROXIES.is_trusted("garbage")


def test_invalid_proxy_entry_raises() -> None:
    with pytest.raises(ValueError):
        TrustedProxies(["10.0.0.0/33"])
