"""Referrer classification into source name and channel class."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

DIRECT = "direct"
SEARCH = "search"
SOCIAL = "social"
EMAIL = "email"
OTHER = "other"

MAX_HOST_LENGTH = 253
MAX_UTM_SOURCE_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Referrer:
    """Referring host (lowercased, without port), human source name and channel class."""

    host: str
    source: str
    source_class: str


DIRECT_REFERRER = Referrer("", "Direct / None", DIRECT)

# Registrable hosts (without "www.") mapped to (source name, class). Subdomains match their parent
# unless listed themselves, so "mail.google.com" is email while "l.facebook.com" is Facebook.
_DOMAINS: dict[str, tuple[str, str]] = {
    # Search engines; google.<any TLD> is matched by _SEARCH_BRANDS below.
    "bing.com": ("Bing", SEARCH),
    "duckduckgo.com": ("DuckDuckGo", SEARCH),
    "yahoo.com": ("Yahoo", SEARCH),
    "search.yahoo.com": ("Yahoo", SEARCH),
    "yandex.ru": ("Yandex", SEARCH),
    "yandex.com": ("Yandex", SEARCH),
    "ya.ru": ("Yandex", SEARCH),
    "baidu.com": ("Baidu", SEARCH),
    "ecosia.org": ("Ecosia", SEARCH),
    "startpage.com": ("Startpage", SEARCH),
    "qwant.com": ("Qwant", SEARCH),
    "kvasir.no": ("Kvasir", SEARCH),
    "sesam.no": ("Sesam", SEARCH),
    "search.brave.com": ("Brave Search", SEARCH),
    "seznam.cz": ("Seznam", SEARCH),
    "naver.com": ("Naver", SEARCH),
    "com.google.android.googlequicksearchbox": ("Google", SEARCH),
    # Social networks. Mastodon instances are deliberately absent: there are too many to list.
    "facebook.com": ("Facebook", SOCIAL),
    "fb.com": ("Facebook", SOCIAL),
    "fb.me": ("Facebook", SOCIAL),
    "messenger.com": ("Facebook", SOCIAL),
    "instagram.com": ("Instagram", SOCIAL),
    "threads.net": ("Threads", SOCIAL),
    "t.co": ("X", SOCIAL),
    "twitter.com": ("X", SOCIAL),
    "x.com": ("X", SOCIAL),
    "linkedin.com": ("LinkedIn", SOCIAL),
    "lnkd.in": ("LinkedIn", SOCIAL),
    "reddit.com": ("Reddit", SOCIAL),
    "youtube.com": ("YouTube", SOCIAL),
    "youtu.be": ("YouTube", SOCIAL),
    "pinterest.com": ("Pinterest", SOCIAL),
    "pin.it": ("Pinterest", SOCIAL),
    "tiktok.com": ("TikTok", SOCIAL),
    "bsky.app": ("Bluesky", SOCIAL),
    "news.ycombinator.com": ("Hacker News", SOCIAL),
    "vk.com": ("VK", SOCIAL),
    "snapchat.com": ("Snapchat", SOCIAL),
    "tumblr.com": ("Tumblr", SOCIAL),
    "quora.com": ("Quora", SOCIAL),
    "com.facebook.katana": ("Facebook", SOCIAL),
    "com.linkedin.android": ("LinkedIn", SOCIAL),
    "com.reddit.frontpage": ("Reddit", SOCIAL),
    # Webmail.
    "mail.google.com": ("Gmail", EMAIL),
    "com.google.android.gm": ("Gmail", EMAIL),
    "outlook.live.com": ("Outlook", EMAIL),
    "outlook.office.com": ("Outlook", EMAIL),
    "outlook.office365.com": ("Outlook", EMAIL),
    "mail.yahoo.com": ("Yahoo Mail", EMAIL),
    "mail.proton.me": ("Proton Mail", EMAIL),
    "mail.yandex.ru": ("Yandex Mail", EMAIL),
}

# Search brands that run a site per country TLD: google.no, google.co.uk, yandex.kz, ...
_SEARCH_BRANDS = {"google": "Google", "bing": "Bing", "yahoo": "Yahoo", "yandex": "Yandex"}
_BRAND_HOST = re.compile(r"(?P<brand>google|bing|yahoo|yandex)\.(?:com?\.)?[a-z]{2,3}")

# Lowercased utm_source values naming a known source; any other value is class "other".
_UTM_CLASSES: dict[str, str] = {name.lower(): cls for name, cls in _DOMAINS.values()}
_UTM_CLASSES.update({domain: cls for domain, (_, cls) in _DOMAINS.items()})
_UTM_CLASSES.update(
    {
        "brave": SEARCH,
        "fb": SOCIAL,
        "ig": SOCIAL,
        "twitter": SOCIAL,
        "hn": SOCIAL,
        "email": EMAIL,
        "e-mail": EMAIL,
        "mail": EMAIL,
        "newsletter": EMAIL,
    }
)

# scheme "://" [userinfo "@"] host; the host stops at port, path, query or fragment.
_HOST_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://(?:[^@/?#\\]*@)?(\[[^\]/?#]*\]|[^:/?#\\]*)")


def _strip_www(host: str) -> str:
    """Drop one leading "www." label."""
    return host[4:] if host.startswith("www.") else host


def referrer_host(referrer: str) -> str:
    """Extract the lowercased host (no port, no userinfo, at most 253 chars) of a URL, or ""."""
    match = _HOST_RE.match(referrer)
    if match is None:
        return ""
    return match.group(1)[:MAX_HOST_LENGTH].lower()


@lru_cache(maxsize=1024)
def _site_key(page_host: str) -> str:
    """Normalise the page host for self-referral comparison: lowercase, no port, no "www."."""
    host = page_host.strip().lower()
    # A bracketed IPv6 literal contains colons of its own.
    host = host.partition("]")[0] + "]" if host.startswith("[") else host.partition(":")[0]
    return _strip_www(host)


@lru_cache(maxsize=10_000)
def _classify_host(host: str) -> Referrer:
    """Classify an external referrer host."""
    bare = _strip_www(host)
    name = bare
    while True:
        known = _DOMAINS.get(name)
        if known is not None:
            return Referrer(host, known[0], known[1])
        dot = name.find(".")
        if dot < 0:
            break
        name = name[dot + 1 :]
    # Only the bare brand host counts: news.google.com or docs.google.com are not searches.
    brand = _BRAND_HOST.fullmatch(bare)
    if brand is not None:
        return Referrer(host, _SEARCH_BRANDS[brand["brand"]], SEARCH)
    return Referrer(host, bare, OTHER)


@lru_cache(maxsize=1024)
def _classify_utm(source: str) -> Referrer:
    """Classify a campaign source given without a referrer."""
    return Referrer("", source, _UTM_CLASSES.get(source.lower(), OTHER))


def classify_referrer(referrer: str | None, page_host: str, utm_source: str | None = None) -> Referrer:
    """Classify a visit's origin from its referrer URL, falling back to utm_source when there is none."""
    if referrer:
        host = referrer_host(referrer)
        if host and _strip_www(host) != _site_key(page_host):
            return _classify_host(host)
    if utm_source:
        source = utm_source.strip()[:MAX_UTM_SOURCE_LENGTH]
        if source:
            return _classify_utm(source)
    return DIRECT_REFERRER
