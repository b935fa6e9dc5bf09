"""Split a page URL into the parts Teller stores: host, path and UTM parameters."""

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
MAX_PATH = 1024
MAX_UTM = 200


@dataclass(frozen=True, slots=True)
class PageUrl:
    """The stored parts of a page URL; the query string itself is never stored."""

    hostname: str
    pathname: str
    utm: tuple[str, str, str, str, str]
    query: tuple[tuple[str, str], ...]


@lru_cache(maxsize=20_000)
def parse_page_url(url: str, hash_mode: bool = False) -> PageUrl:
    """Host without www., path (plus the #fragment in hash-routing mode), UTM values; ValueError if broken."""
    parts = urlsplit(url)
    hostname = (parts.hostname or "").removeprefix("www.")
    pathname = parts.path or "/"
    if hash_mode and parts.fragment:
        pathname += "#" + parts.fragment
    query = tuple(parse_qsl(parts.query, keep_blank_values=False)) if parts.query else ()
    found = dict(query)
    utm = tuple(found.get(key, "").strip()[:MAX_UTM] for key in UTM_KEYS)
    return PageUrl(hostname, pathname[:MAX_PATH], utm, query)  # type: ignore[arg-type]
