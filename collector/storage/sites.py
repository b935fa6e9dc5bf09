"""Registered sites, stored in ClickHouse so every collector process sees the same list."""

import re
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from collector.storage.store import Store

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


@dataclass(frozen=True)
class Site:
    """A website whose events Teller accepts."""

    domain: str
    timezone: str


def normalise_domain(domain: str) -> str:
    """Lower-case a domain and drop a scheme, path, port and leading www.; raise ValueError if invalid."""
    value = domain.strip().lower()
    value = re.sub(r"^[a-z]+://", "", value).split("/", 1)[0].split(":", 1)[0]
    value = value.removeprefix("www.")
    if not _DOMAIN.match(value):
        raise ValueError(f"not a valid domain: {domain!r}")
    return value


def add_site(store: Store, domain: str, timezone: str = "UTC") -> Site:
    """Register a site (or update its time zone); return it."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone: {timezone!r}") from None
    site = Site(normalise_domain(domain), timezone)
    now = time.time()
    store.insert(
        "sites",
        ["domain", "timezone", "created_at", "deleted", "version"],
        [[site.domain], [site.timezone], [int(now)], [0], [time.time_ns()]],
    )
    return site


def remove_site(store: Store, domain: str) -> None:
    """Mark a site deleted; its events stay until retention removes them."""
    store.insert(
        "sites",
        ["domain", "timezone", "created_at", "deleted", "version"],
        [[normalise_domain(domain)], [""], [int(time.time())], [1], [time.time_ns()]],
    )


def list_sites(store: Store) -> list[Site]:
    """Every live site, newest version of each row."""
    rows = store.query(
        "SELECT domain, argMax(timezone, version), argMax(deleted, version) FROM sites GROUP BY domain ORDER BY domain"
    )
    return [Site(domain, tz) for domain, tz, deleted in rows if not deleted]
