"""HTTP endpoints of the ingest path: POST /api/event (tracker) and POST /api/events (batches)."""

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from collector.ingest.buffer import BufferFull
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


class BodyTooLarge(Exception):
    """The body is longer than the configured limit."""


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


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A JSON error body {"error": message} with CORS headers."""
    return Response(
        orjson.dumps({"error": message}),
        status_code=status,
        media_type="application/json",
        headers={**CORS_HEADERS, **(headers or {})},
    )


def _request_facts(request: Request) -> tuple[str, str, bool]:
    """(IP prefix, user agent, prefetch) of a request; the middleware already truncated the address."""
    headers = request.headers
    user_agent = headers.get("user-agent", "")[:MAX_USER_AGENT]
    purpose = headers.get("sec-purpose") or headers.get("purpose") or headers.get("x-moz") or ""
    prefetch = "prefetch" in purpose.lower()
    client = request.client
    return (client.host if client else "0.0.0.0"), user_agent, prefetch


def _do_not_track(request: Request) -> bool:
    """The browser asks not to be tracked (Do-Not-Track or Global Privacy Control)."""
    return request.headers.get("dnt", "").strip() == "1" or request.headers.get("sec-gpc", "").strip() == "1"


def build_router(service: IngestService, max_body_bytes: int, max_batch_events: int) -> APIRouter:
    """Routes bound to one ingest service."""
    router = APIRouter()

    @router.options("/api/event", include_in_schema=False)
    @router.options("/api/events", include_in_schema=False)
    async def preflight() -> Response:
        return Response(status_code=204, headers=PREFLIGHT_HEADERS)

    @router.post(
        "/api/event",
        status_code=202,
        summary="Record one event (Plausible tracker format)",
        responses={400: {"description": "Malformed event"}, 413: {"description": "Body too large"}},
    )
    async def record_event(request: Request) -> Response:
        ip_prefix, user_agent, prefetch = _request_facts(request)
        try:
            raw = await read_limited_body(request, max_body_bytes)
            event_request = parse_event(decode_json(raw))
            outcome = service.ingest(event_request, ip_prefix, user_agent, prefetch, _do_not_track(request))
        except BodyTooLarge:
            return _error(413, f"the body is larger than {max_body_bytes} bytes")
        except RequestError as error:
            return _error(400, str(error))
        except BufferFull:
            return _error(503, "the collector is overloaded, try again later", {"Retry-After": "5"})
        headers = dict(CORS_HEADERS)
        if outcome.dropped and not outcome.buffered:
            headers["X-Teller-Dropped"] = outcome.dropped[0]
        return Response(b"ok", status_code=202, media_type="text/plain", headers=headers)

    @router.post(
        "/api/events",
        status_code=202,
        summary="Record a batch of events (a JSON array)",
        responses={400: {"description": "Malformed batch"}, 413: {"description": "Batch too large"}},
    )
    async def record_events(request: Request) -> Response:
        ip_prefix, user_agent, prefetch = _request_facts(request)
        do_not_track = _do_not_track(request)
        limit = max_body_bytes * max_batch_events
        try:
            body: Any = decode_json(await read_limited_body(request, limit))
        except BodyTooLarge:
            return _error(413, f"the body is larger than {limit} bytes")
        except RequestError as error:
            return _error(400, str(error))
        if not isinstance(body, list):
            return _error(400, "the body must be a JSON array of events")
        if len(body) > max_batch_events:
            return _error(413, f"a batch holds at most {max_batch_events} events")
        accepted, dropped, errors = 0, {}, []
        for index, item in enumerate(body):
            try:
                outcome = service.ingest(parse_event(item), ip_prefix, user_agent, prefetch, do_not_track)
            except RequestError as error:
                errors.append({"index": index, "error": str(error)})
                continue
            except BufferFull:
                return _error(
                    503,
                    f"the collector is overloaded after {index} events, retry the rest",
                    {"Retry-After": "5"},
                )
            accepted += outcome.buffered
            for reason in outcome.dropped:
                dropped[reason] = dropped.get(reason, 0) + 1
        return Response(
            orjson.dumps({"accepted": accepted, "dropped": dropped, "errors": errors}),
            status_code=202,
            media_type="application/json",
            headers=CORS_HEADERS,
        )

    return router
