"""Referrer spam: referring hosts on Matomo's community list or on the TELLER_REFERRER_SPAM setting."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

LIST_FILE = Path(__file__).with_name("referrer_spam.tsv")


def _ascii(host: str) -> str:
    """The IDNA (punycode) form of an internationalised host name, as the list writes them."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def normalise_host(host: str) -> str:
    """A list entry as a bare host: lowercased, without scheme, path, port, trailing dot or leading "www."."""
    # The setting is typed by people, who paste "https://spam.example/" as often as "spam.example".
    bare = host.strip().lower().partition("://")[2] or host.strip().lower()
    bare = bare.partition("/")[0].partition(":")[0].rstrip(".")
    return _ascii(bare.removeprefix("www."))


def read_list(path: Path = LIST_FILE) -> frozenset[str]:
    """The hosts of a list file: one a line, blank lines and "#" comments skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(normalise_host(line) for line in lines if line.strip() and not line.startswith("#"))


SHIPPED = read_list()


class ReferrerSpam:
    """The shipped list plus custom hosts; a host matches when it or one of its parent domains is listed."""

    def __init__(self, custom: Iterable[str] = ()) -> None:
        self.custom = frozenset(host for host in map(normalise_host, custom) if host)
        self.hosts = SHIPPED | self.custom

    def __contains__(self, host: str) -> bool:
        """Tell whether a referrer host (lowercased, without port) or one of its parent domains is listed."""
        # Matomo matches substrings, so "semalt.com" also catches "semalt.semalt.com"; parent domains do the
        # same without "notsemalt.com". A host has a handful of labels: as many set lookups, no cache needed.
        name = _ascii(host.rstrip("."))
        while name:
            if name in self.hosts:
                return True
            name = name.partition(".")[2]
        return False
