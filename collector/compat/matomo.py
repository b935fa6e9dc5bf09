"""Matomo's HTTP tracking API (matomo.php, piwik.php) as Teller event requests.

Read: idsite, rec, url, urlref, action_name (the title, not stored), e_c/e_a/e_n/e_v (an event: its
action is the event name, category and name become properties), search and search_count (a site
search: counted as an aggregate only), res (the screen width), ua. Parameters that need Matomo's
token_auth, such as cip (another client address) and cdt (another time), are never read: the address
is always the connection's, already cut to its prefix, and the time is the arrival time.
"""

from collections.abc import Mapping
from urllib.parse import parse_qsl

from collector.compat.umami import screen_width
from collector.ingest.request import MAX_NAME, MAX_PROP_VALUE, MAX_URL, EventRequest, RequestError, parse_event
from collector.ingest.search_terms import SEARCH_EVENT

MAX_QUERY = 8192


def query_params(query: str) -> dict[str, str]:
    """The first value of each parameter of a query string ("?" in front allowed)."""
    if len(query) > MAX_QUERY:
        raise RequestError(f"a tracking request is longer than {MAX_QUERY} characters")
    params: dict[str, str] = {}
    for key, value in parse_qsl(query.removeprefix("?"), keep_blank_values=True):
        params.setdefault(key, value)
    return params


def _param(params: Mapping[str, str], key: str, limit: int) -> str:
    """A parameter cut to limit characters."""
    return params.get(key, "")[:limit]


def matomo_request(params: Mapping[str, str], site_of_idsite: dict[str, str]) -> EventRequest | None:
    """The event request of one tracking request, or None when it records nothing (rec is not 1)."""
    if params.get("rec") != "1":
        return None
    idsite = params.get("idsite", "").strip()
    if not idsite:
        raise RequestError("parameter 'idsite' is required")
    url = params.get("url", "")
    if len(url) > MAX_URL:
        raise RequestError(f"parameter 'url' is longer than {MAX_URL} characters")
    site = site_of_idsite.get(idsite.lower(), f"matomo-site-{idsite[:20]}")
    event: dict = {
        "u": url,
        "d": site,
        "r": _param(params, "urlref", MAX_URL),
        "w": screen_width(params.get("res", "")),
    }
    if params.get("search"):
        event["n"] = SEARCH_EVENT
        event["p"] = {"term": _param(params, "search", MAX_PROP_VALUE)}
        if params.get("search_count", "").isdigit():
            event["p"]["results"] = params["search_count"]
    elif params.get("e_c") or params.get("e_a"):
        event["n"] = _param(params, "e_a", MAX_NAME) or _param(params, "e_c", MAX_NAME)
        props = {"category": params.get("e_c", ""), "name": params.get("e_n", ""), "value": params.get("e_v", "")}
        event["p"] = {key: value[:MAX_PROP_VALUE] for key, value in props.items() if value}
    else:
        event["n"] = "pageview"
    return parse_event(event)
