"""Referrer and utm_source into a source name as Plausible names it, and a source class."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from storage.channels import AI_ASSISTANTS, EMAIL, SEARCH, SHOPPING, SOCIAL, VIDEO, source_category
from storage.value_names import DIRECT_SOURCE

SOURCES_FILE = Path(__file__).with_name("sources.tsv")

MAX_HOST_LENGTH = 253
MAX_UTM_SOURCE_LENGTH = 100

# Source classes stored in events.source_class: the source's category in the acquisition channel list.
DIRECT = "direct"
OTHER = "other"
_CLASSES = {
    SEARCH: "search",
    SOCIAL: "social",
    VIDEO: "video",
    SHOPPING: "shopping",
    EMAIL: "email",
    AI_ASSISTANTS: "ai_assistants",
}


@dataclass(frozen=True, slots=True)
class Referrer:
    """Referring host (lowercased, without port), source name and source class."""

    host: str
    source: str
    source_class: str


DIRECT_REFERRER = Referrer("", DIRECT_SOURCE, DIRECT)


def _load() -> tuple[dict[str, str], dict[str, str]]:
    """Hosts of the referer database, and the lowercased names and keys Source.find_mapping looks up."""
    hosts: dict[str, str] = {}
    names: dict[str, str] = {}
    custom: list[tuple[str, str]] = []
    for line in SOURCES_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        kind, key, name = line.split("\t")
        if kind == "custom":
            custom.append((key, name))
        else:
            hosts[key] = name
            names[name.lower()] = name
    # Source.init/0 inserts the database's names first, then each custom key and its lowercased name.
    for key, name in custom:
        names[key] = name
        names[name.lower()] = name
    return hosts, names


_HOSTS, _NAMES = _load()

# The Google hosts of referers.yml: google.<tld>, google.co.<cc>, google.com.<cc>, with or without "www.",
# and their news., images. and blogsearch. sites.
_GOOGLE = re.compile(r"(?:(?P<site>news|images|blogsearch)\.)?google\.(?:com?\.)?[a-z]{2,3}")
_GOOGLE_SITES = {None: "Google", "news": "Google News", "images": "Google Images", "blogsearch": "Google Blogsearch"}

# Source.valid_referrer?/1: only these schemes name a source.
_SCHEMES = ("http", "https", "android-app")
# scheme "://" [userinfo "@"] host; the host stops at port, path, query or fragment.
_HOST_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://(?:[^@/?#\\]*@)?(\[[^\]/?#]*\]|[^:/?#\\]*)")


def _strip_www(host: str) -> str:
    """Drop one leading "www."."""
    return host[4:] if host.startswith("www.") else host


def _parse(referrer: str) -> tuple[str, str]:
    """The lowercased scheme and host (at most 253 chars) of a URL, ("", "") when it has none."""
    match = _HOST_RE.match(referrer.strip())
    if match is None:
        return "", ""
    return match.group(1).lower(), match.group(2)[:MAX_HOST_LENGTH].lower()


def referrer_host(referrer: str) -> str:
    """Extract the lowercased host (no port, no userinfo, at most 253 chars) of a URL, or ""."""
    return _parse(referrer)[1]


@lru_cache(maxsize=1024)
def _site_key(page_host: str) -> str:
    """Normalise the page host for self-referral comparison: lowercase, no port, no "www."."""
    host = page_host.strip().lower()
    # A bracketed IPv6 literal contains colons of its own.
    host = host.partition("]")[0] + "]" if host.startswith("[") else host.partition(":")[0]
    return _strip_www(host)


def find_mapping(source: str) -> str:
    """Plausible's Source.find_mapping/1: a known name for any casing of a name, key or shorthand."""
    return _NAMES.get(source.lower(), source)


def _known_host(host: str) -> str | None:
    """The referer database's name for a host or its nearest listed parent domain, as RefInspector matches."""
    name = host
    while True:
        known = _HOSTS.get(name)
        if known is not None:
            return known
        google = _GOOGLE.fullmatch(name)
        if google is not None:
            return _GOOGLE_SITES[google["site"]]
        dot = name.find(".")
        if dot < 0:
            return None
        name = name[dot + 1 :]


@lru_cache(maxsize=10_000)
def _host_source(scheme: str, host: str) -> Referrer:
    """Source.parse/1 then find_mapping/1 for an external referrer: a known name, else the host without "www."."""
    bare = _strip_www(host)
    known = _known_host(bare)
    if known is None:
        # Source.format_referrer_host/1 keeps the scheme of app referrers.
        known = ("android-app://" if scheme == "android-app" else "") + bare
    source = find_mapping(known)
    return Referrer(host, source, _source_class(source))


def _source_class(source: str) -> str:
    """The class of a non-empty source: its channel category, "other" when it has none."""
    return _CLASSES.get(source_category(source), OTHER)


@lru_cache(maxsize=1024)
def _tagged_source(host: str, tagged: str) -> Referrer:
    """A visit tagged with utm_source: the tag wins over the referrer (Source.resolve/1)."""
    source = find_mapping(tagged)
    return Referrer(host, source, _source_class(source))


def classify_referrer(referrer: str | None, page_host: str, utm_source: str | None = None) -> Referrer:
    """The source of a visit as Plausible's Source.resolve/1: utm_source first, then an external referrer."""
    host = ""
    scheme = ""
    if referrer:
        scheme, host = _parse(referrer)
        # Self-referrals and localhost are no referral (Source.has_referral?/1), nor are other schemes.
        if not host or scheme not in _SCHEMES or host == "localhost" or _strip_www(host) == _site_key(page_host):
            host = ""
    tagged = utm_source.strip()[:MAX_UTM_SOURCE_LENGTH] if utm_source else ""
    if tagged:
        return _tagged_source(host, tagged)
    if host:
        return _host_source(scheme, host)
    return DIRECT_REFERRER
