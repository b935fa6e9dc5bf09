"""Parse and validate the body the Plausible trackers (and Teller's snippet) send to /api/event."""

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

# Limits, documented in docs/ingest.md; Plausible's own server uses the same url/name/props sizes.
MAX_NAME = 120
MAX_URL = 2000
MAX_DOMAIN = 1000
# Plausible's tracker names a handful of sites at most; each distinct one is a stored row, so the bound
# is what one event may cost (66 copies of one domain used to store 66 rows).
MAX_DOMAINS = 10
MAX_PROPS = 30
MAX_PROP_KEY = 300
MAX_PROP_VALUE = 2000
MAX_ENGAGEMENT_MS = 24 * 3600 * 1000


# C0 controls and DEL: a browser percent-encodes them, so in a URL or name they mean a forged request.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RequestError(ValueError):
    """The body is malformed; the message says what is wrong."""


@dataclass(slots=True)
class EventRequest:
    """One validated tracker payload, before enrichment."""

    name: str
    url: str
    domains: list[str]
    referrer: str = ""
    props: dict[str, str] = field(default_factory=dict)
    hash_mode: bool = False
    screen_width: int = 0
    interactive: bool = True
    scroll_depth: int = 0
    engagement_ms: int = 0


def _pick(body: dict[str, Any], short: str, long: str) -> Any:
    """Value under the short key, else under the long one."""
    value = body.get(short)
    return body.get(long) if value is None else value


def _string(body: dict[str, Any], short: str, long: str, limit: int, required: bool) -> str:
    """A string field that must fit in limit characters."""
    value = _pick(body, short, long)
    if value is None:
        if required:
            raise RequestError(f"field '{long}' ('{short}') is required")
        return ""
    if not isinstance(value, str):
        raise RequestError(f"field '{long}' must be a string")
    if len(value) > limit:
        raise RequestError(f"field '{long}' is longer than {limit} characters")
    if not value.isprintable() and _CONTROL.search(value):
        raise RequestError(f"field '{long}' contains a control character")
    return value


def _integer(body: dict[str, Any], key: str, low: int, high: int) -> int:
    """An optional integer field, clamped into [low, high]; booleans and floats are accepted."""
    value = body.get(key)
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        value = int(value)
    if not isinstance(value, int):
        raise RequestError(f"field '{key}' must be a number")
    return min(max(value, low), high)


def _props(body: dict[str, Any]) -> dict[str, str]:
    """Custom properties: an object or a JSON-encoded object (legacy tracker) of scalar values."""
    value = _pick(body, "p", "props")
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        if len(value) > MAX_PROPS * (MAX_PROP_KEY + MAX_PROP_VALUE):
            raise RequestError("field 'props' is too long")
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise RequestError("field 'props' is a string but not a JSON object") from None
    if not isinstance(value, dict):
        raise RequestError("field 'props' must be an object")
    if len(value) > MAX_PROPS:
        raise RequestError(f"field 'props' has more than {MAX_PROPS} keys")
    props: dict[str, str] = {}
    for key, item in value.items():
        if item is None:
            continue
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, int | float):
            item = str(item)
        elif not isinstance(item, str):
            raise RequestError(f"property '{key[:50]}' must be a string, number or boolean")
        if len(key) > MAX_PROP_KEY or len(item) > MAX_PROP_VALUE:
            raise RequestError(f"property '{key[:50]}' is longer than allowed")
        if "\x00" in key or "\x00" in item:
            raise RequestError("properties must not contain NUL characters")
        if not item.isprintable():
            # Free text (a form field, say) may hold line breaks; stored values are kept on one line.
            item = _CONTROL.sub(" ", item)
        if key:
            props[key] = item
    return props


def _domains(value: str) -> list[str]:
    """The distinct sites of a comma-separated domain field, normalised as sites are (lower case, no www.)."""
    names = (part.strip().lower().removeprefix("www.") for part in value.split(","))
    domains = [name for name in dict.fromkeys(names) if name]
    if not domains:
        raise RequestError("field 'domain' must name at least one site")
    if len(domains) > MAX_DOMAINS:
        raise RequestError(f"field 'domain' names more than {MAX_DOMAINS} sites")
    return domains


def parse_event(body: Any) -> EventRequest:
    """Validate one decoded JSON payload into an EventRequest."""
    if not isinstance(body, dict):
        raise RequestError("the event must be a JSON object")
    name = _string(body, "n", "name", MAX_NAME, required=True)
    if not name.strip():
        raise RequestError("field 'name' must not be empty")
    url = _string(body, "u", "url", MAX_URL, required=True)
    if not url.startswith(("http://", "https://")):
        raise RequestError("field 'url' must be an absolute http(s) URL")
    domains = _domains(_string(body, "d", "domain", MAX_DOMAIN, required=True))
    interactive = body.get("i", body.get("interactive", True))
    return EventRequest(
        name=name.strip(),
        url=url,
        domains=domains,
        referrer=_string(body, "r", "referrer", MAX_URL, required=False),
        props=_props(body),
        hash_mode=bool(_integer(body, "h", 0, 1)),
        screen_width=_integer(body, "w", 0, 65535),
        interactive=interactive is not False and interactive != 0,
        scroll_depth=_integer(body, "sd", 0, 100),
        engagement_ms=_integer(body, "e", 0, MAX_ENGAGEMENT_MS),
    )


def decode_json(raw: bytes) -> Any:
    """Decode a request body as JSON, or raise RequestError with the reason."""
    if not raw.strip():
        raise RequestError("the request body is empty")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise RequestError(f"the body is not valid JSON: {error}") from None
