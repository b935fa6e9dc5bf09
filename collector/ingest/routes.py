"""HTTP endpoints of the ingest path: POST /api/event (tracker) and POST /api/events (batches).

The answers are built from plain values (Facts, the raw body) so that the ASGI fast path in
fast_path.py and these FastAPI routes give byte-identical responses.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from collector.ingest.buffer import BufferFull
from collector.ingest.openapi import BATCH_BODY, EVENT_BODY, RESPONSES
from collector.ingest.request import RequestError, decode_json, parse_event
from collector.ingest.service import IngestService

CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}
MAX_USER_AGENT = 1024
_FACT_HEADERS = frozenset((b"user-agent", b"sec-purpose", b"purpose", b"x-moz", b"dnt", b"sec-gpc", b"content-length"))


class BodyTooLarge(Exception):
    """The body is longer than the configured limit."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What the ingest path reads from a request besides its body; the address is already truncated."""

    ip_prefix: str
    user_agent: str
    prefetch: bool
    do_not_track: bool
    content_length: str | None


@dataclass(frozen=True, slots=True)
class Answer:
    """Status, body, media type and extra headers of an ingest response."""

    status: int
    body: bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=lambda: CORS_HEADERS)


def request_facts(client: tuple[str, int] | None, headers: Iterable[tuple[bytes, bytes]]) -> Facts:
    """Facts from the ASGI client and raw header list, in one pass (the first of repeated headers wins)."""
    found: dict[bytes, str] = {}
    for name, value in headers:
        if name in _FACT_HEADERS and name not in found:
            found[name] = value.decode("latin-1")
    purpose = found.get(b"sec-purpose") or found.get(b"purpose") or found.get(b"x-moz") or ""
    return Facts(
        ip_prefix=client[0] if client else "0.0.0.0",
        user_agent=found.get(b"user-agent", "")[:MAX_USER_AGENT],
        prefetch="prefetch" in purpose.lower(),
        do_not_track=found.get(b"dnt", "").strip() == "1" or found.get(b"sec-gpc", "").strip() == "1",
        content_length=found.get(b"content-length"),
    )


def check_declared_length(facts: Facts, limit: int) -> None:
    """Refuse a body whose Content-Length is malformed or above limit, before reading it."""
    declared = facts.content_length
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge


async def read_limited_body(request: Request, limit: int) -> bytes:
    """Read the body, refusing early (from Content-Length) or mid-stream once it passes limit bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def error_answer(status: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    """A JSON error body {"error": message} with CORS headers."""
    return Answer(status, orjson.dumps({"error": message}), "application/json", {**CORS_HEADERS, **(headers or {})})


def event_too_large(max_body_bytes: int) -> Answer:
    """413 for POST /api/event."""
    return error_answer(413, f"the body is larger than {max_body_bytes} bytes")


def batch_too_large(max_body_bytes: int, max_batch_events: int) -> Answer:
    """413 for POST /api/events."""
    return error_answer(413, f"the body is larger than {batch_limit(max_body_bytes, max_batch_events)} bytes")


def batch_limit(max_body_bytes: int, max_batch_events: int) -> int:
    """Largest accepted body of a batch."""
    return max_body_bytes * max_batch_events


RATE_LIMITED = error_answer(429, "too many requests from this network, slow down", {"Retry-After": "1"})


def answer_event(service: IngestService, raw: bytes, facts: Facts) -> Answer:
    """Validate and ingest one tracker event."""
    if not service.limiter.allow(facts.ip_prefix):
        return RATE_LIMITED
    try:
        event_request = parse_event(decode_json(raw))
        outcome = service.ingest(event_request, facts.ip_prefix, facts.user_agent, facts.prefetch, facts.do_not_track)
    except RequestError as error:
        return error_answer(400, str(error))
    except BufferFull:
        return error_answer(503, "the collector is overloaded, try again later", {"Retry-After": "5"})
    if outcome.dropped and not outcome.buffered:
        return Answer(202, b"ok", "text/plain", {**CORS_HEADERS, "X-Teller-Dropped": outcome.dropped[0]})
    return Answer(202, b"ok", "text/plain")


def answer_batch(service: IngestService, raw: bytes, facts: Facts, max_batch_events: int) -> Answer:
    """Validate and ingest a JSON array of events; malformed items are reported by index."""
    if not service.limiter.allow(facts.ip_prefix):
        return RATE_LIMITED
    try:
        body: Any = decode_json(raw)
    except RequestError as error:
        return error_answer(400, str(error))
    if not isinstance(body, list):
        return error_answer(400, "the body must be a JSON array of events")
    if len(body) > max_batch_events:
        return error_answer(413, f"a batch holds at most {max_batch_events} events")
    requests, errors = [], []
    for index, item in enumerate(body):
        try:
            requests.append(parse_event(item))
        except RequestError as error:
            errors.append({"index": index, "error": str(error)})
    try:
        outcome = service.ingest_many(requests, facts.ip_prefix, facts.user_agent, facts.prefetch, facts.do_not_track)
    except BufferFull:
        return error_answer(503, "the collector is overloaded, retry the batch", {"Retry-After": "5"})
    dropped: dict[str, int] = {}
    for reason in outcome.dropped:
        dropped[reason] = dropped.get(reason, 0) + 1
    body = {"accepted": outcome.buffered, "dropped": dropped, "errors": errors}
    return Answer(202, orjson.dumps(body), "application/json")


def _response(answer: Answer) -> Response:
    """An Answer as a Starlette response."""
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type, headers=answer.headers)


def build_router(service: IngestService, max_body_bytes: int, max_batch_events: int) -> APIRouter:
    """Routes bound to one ingest service (the fast path answers the POSTs first when it is installed)."""
    router = APIRouter()

    @router.options("/api/event", include_in_schema=False)
    @router.options("/api/events", include_in_schema=False)
    async def preflight() -> Response:
        return Response(status_code=204, headers=PREFLIGHT_HEADERS)

    @router.post(
        "/api/event",
        status_code=202,
        summary="Record one event (Plausible tracker format)",
        responses=RESPONSES,
        openapi_extra=EVENT_BODY,
    )
    async def record_event(request: Request) -> Response:
        facts = request_facts(request.scope.get("client"), request.scope["headers"])
        try:
            raw = await read_limited_body(request, max_body_bytes)
        except BodyTooLarge:
            return _response(event_too_large(max_body_bytes))
        return _response(answer_event(service, raw, facts))

    @router.post(
        "/api/events",
        status_code=202,
        summary="Record a batch of events (a JSON array)",
        responses=RESPONSES,
        openapi_extra=BATCH_BODY,
    )
    async def record_events(request: Request) -> Response:
        facts = request_facts(request.scope.get("client"), request.scope["headers"])
        try:
            raw = await read_limited_body(request, batch_limit(max_body_bytes, max_batch_events))
        except BodyTooLarge:
            return _response(batch_too_large(max_body_bytes, max_batch_events))
        return _response(answer_batch(service, raw, facts, max_batch_events))

    return router
