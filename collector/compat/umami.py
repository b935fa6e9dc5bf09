"""Umami's collect payload (POST /api/send) as Teller event requests.

Umami's tracker and @umami/node send {"type": "event", "payload": {"website": <uuid>, "hostname",
"url", "referrer", "screen": "1920x1080", "language", "title", "name", "data"}}; a payload without a
name is a page view. "identify" payloads carry visitor properties, which Teller does not keep.
"""

from typing import Any

from collector.ingest.request import MAX_NAME, MAX_URL, EventRequest, RequestError, parse_event

MAX_HOSTNAME = 253


def _text(payload: dict[str, Any], key: str, limit: int) -> str:
    """A string field of the payload, "" when missing; RequestError when not a string or too long."""
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RequestError(f"payload field '{key}' must be a string")
    if len(value) > limit:
        raise RequestError(f"payload field '{key}' is longer than {limit} characters")
    return value


def screen_width(screen: str) -> int:
    """The width of Umami's "1920x1080" screen field, 0 when it has none."""
    width = screen.partition("x")[0].strip()
    return min(int(width), 65535) if width.isdigit() else 0


def umami_request(body: Any, site_of_website: dict[str, str]) -> EventRequest | None:
    """The event request of an Umami body, or None for a payload Teller does not count (identify)."""
    if not isinstance(body, dict):
        raise RequestError("the body must be a JSON object")
    kind = body.get("type", "event")
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise RequestError("field 'payload' must be an object")
    if kind == "identify":
        return None
    if kind != "event":
        raise RequestError("field 'type' must be 'event' or 'identify'")
    website = _text(payload, "website", 100).strip().lower()
    if not website:
        raise RequestError("payload field 'website' is required")
    hostname = _text(payload, "hostname", MAX_HOSTNAME).strip().lower()
    site = site_of_website.get(website) or hostname or website
    url = _text(payload, "url", MAX_URL)
    if not url.startswith(("http://", "https://")):
        # Older trackers send the path and query only.
        url = f"https://{hostname or site}{url if url.startswith('/') else '/' + url}"
    name = _text(payload, "name", MAX_NAME).strip() or "pageview"
    data = payload.get("data")
    event = {
        "n": name,
        "u": url,
        "d": site,
        "r": _text(payload, "referrer", MAX_URL),
        "w": screen_width(_text(payload, "screen", 20)),
    }
    if isinstance(data, dict) and name != "pageview":
        event["p"] = {key: value for key, value in data.items() if isinstance(value, str | int | float | bool)}
    return parse_event(event)
