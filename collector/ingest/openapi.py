"""OpenAPI description of the ingest POSTs, which the ASGI fast path answers outside FastAPI's router."""

import copy
from typing import Any

_STRING_OR_NULL = {"anyOf": [{"type": "string"}, {"type": "null"}]}

EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One event as the Plausible trackers send it; short and long field names are accepted.",
    "properties": {
        "n": {"type": "string", "maxLength": 120, "description": "Event name: pageview, engagement or custom."},
        "u": {"type": "string", "maxLength": 2000, "description": "Absolute URL of the page."},
        "d": {"type": "string", "maxLength": 1000, "description": "Site domain(s), comma-separated."},
        "r": {**_STRING_OR_NULL, "description": "Referrer URL."},
        "p": {
            "anyOf": [
                {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                {"type": "string"},
            ],
            "description": "Custom properties, or the same as a JSON string.",
        },
        "h": {"type": "integer", "description": "1 when the site uses hash routing."},
        "w": {"type": "integer", "description": "Screen width in pixels."},
        "i": {"type": "boolean", "description": "False for non-interactive events."},
        "sd": {"type": "integer", "description": "Maximum scroll depth in percent (engagement)."},
        "e": {"type": "integer", "description": "Engaged milliseconds (engagement)."},
        "name": {"type": "string"},
        "url": {"type": "string"},
        "domain": {"type": "string"},
        "referrer": _STRING_OR_NULL,
        "props": {"type": "object"},
    },
    "example": {"n": "pageview", "u": "https://example.com/a", "d": "example.com", "r": "https://www.google.com/"},
}

_ERROR = {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}}}}}


def body(schema: dict[str, Any]) -> dict[str, Any]:
    """An operation's requestBody accepting schema as JSON or text/plain (the trackers' content type)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}, "text/plain": {"schema": {"type": "string"}}},
        }
    }


EVENT_BODY = body(EVENT_SCHEMA)
BATCH_BODY = body({"type": "array", "items": EVENT_SCHEMA, "maxItems": 1000})
RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Taken; X-Teller-Dropped names a reason when it is not stored"},
    400: {"description": "Malformed body", "content": _ERROR},
    413: {"description": "Body too large", "content": _ERROR},
    429: {"description": "Too many requests from this network", "content": _ERROR},
    503: {"description": "Overloaded; retry after Retry-After seconds", "content": _ERROR},
}


def _post(summary: str, operation_id: str, request_body: dict[str, Any]) -> dict[str, Any]:
    """One POST operation, copied so that a caller editing the schema cannot change the shared dictionaries."""
    responses = {str(status): response for status, response in RESPONSES.items()}
    operation = {"summary": summary, "operationId": operation_id, **request_body, "responses": responses}
    return {"post": copy.deepcopy(operation)}


def ingest_paths() -> dict[str, Any]:
    """The `paths` entries of POST /api/event and POST /api/events, to merge into the app's schema."""
    return {
        "/api/event": _post("Record one event (Plausible tracker format)", "record_event_api_event_post", EVENT_BODY),
        "/api/events": _post("Record a batch of events (a JSON array)", "record_events_api_events_post", BATCH_BODY),
    }
