"""Registered sites, stored in ClickHouse so every collector process sees the same list."""

import re
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.search_params import parse_search_params
from storage.store import Store
from storage.versioned import VersionedTable

SITES = VersionedTable("sites", key="domain")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


@dataclass(frozen=True)
class Site:
    """A website whose events Teller accepts."""

    domain: str
    timezone: str
    search_params: str = ""  # comma-separated query parameter names; "" = defaults, "-" = none
    respect_dnt: bool = True  # drop events sent with DNT: 1 or Sec-GPC: 1


def normalise_domain(domain: str) -> str:
    """Lower-case a domain and drop a scheme, path, port and leading www.; raise ValueError if invalid."""
    value = domain.strip().lower()
    value = re.sub(r"^[a-z]+://", "", value).split("/", 1)[0].split(":", 1)[0]
    value = value.removeprefix("www.")
    if not _DOMAIN.match(value):
        raise ValueError(f"not a valid domain: {domain!r}")
    return value


def add_site(
    store: Store, domain: str, timezone: str = "UTC", search_params: str | None = None, respect_dnt: bool | None = None
) -> Site:
    """Register a site (or update its time zone); search_params None keeps the current ones. Return it."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone: {timezone!r}") from None
    name = normalise_domain(domain)
    params = _stored_search_params(store, name) if search_params is None else parse_search_params(search_params)
    dnt = _stored_respect_dnt(store, name) if respect_dnt is None else respect_dnt
    site = Site(name, timezone, params, respect_dnt=dnt)
    SITES.insert(
        store,
        domain=site.domain,
        timezone=site.timezone,
        created_at=int(time.time()),
        deleted=0,
        search_params=site.search_params,
        respect_dnt=int(dnt),
    )
    return site


def _stored_search_params(store: Store, domain: str) -> str:
    """The latest search_params stored for a domain, or "" (the defaults)."""
    rows = store.query(SITES.latest("search_params", where="domain = %(d)s"), {"d": domain})
    return rows[0][1] if rows and rows[0][1] is not None else ""


def set_search_params(store: Store, domain: str, search_params: str) -> Site:
    """Set the query parameters that carry a registered site's search terms; return the site."""
    name = normalise_domain(domain)
    site = next((s for s in list_sites(store) if s.domain == name), None)
    if site is None:
        raise ValueError(f"{name} is not a registered site")
    return add_site(store, name, site.timezone, search_params)


def _stored_respect_dnt(store: Store, domain: str) -> bool:
    """The latest respect_dnt stored for a domain; True for a new one."""
    rows = store.query(SITES.latest("respect_dnt", where="domain = %(d)s"), {"d": domain})
    return not rows or bool(rows[0][1])


def set_respect_dnt(store: Store, domain: str, respect_dnt: bool) -> Site:
    """Turn honouring Do-Not-Track and Global Privacy Control on or off for a registered site."""
    name = normalise_domain(domain)
    site = next((s for s in list_sites(store) if s.domain == name), None)
    if site is None:
        raise ValueError(f"{name} is not a registered site")
    return add_site(store, name, site.timezone, respect_dnt=respect_dnt)


def remove_site(store: Store, domain: str) -> None:
    """Mark a site deleted; its events stay until retention removes them."""
    SITES.insert(store, domain=normalise_domain(domain), timezone="", created_at=int(time.time()), deleted=1)


def list_sites(store: Store) -> list[Site]:
    """Every live site, newest version of each row."""
    rows = store.query(SITES.latest("timezone", "deleted", "search_params", "respect_dnt", order_by="domain"))
    return [Site(domain, tz, params, respect_dnt=bool(dnt)) for domain, tz, deleted, params, dnt in rows if not deleted]
