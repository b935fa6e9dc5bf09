"""Umami's and Matomo's collect endpoints, so sites keep those trackers unchanged and count into Teller.

Both run behind ClientPrefixMiddleware (the address is the /24 or /48 prefix before a route sees it)
and through the same IngestService, pipeline, rate limit and drop reasons as /api/event; a dropped
event is reported in X-Teller-Dropped. Matomo's cip and cdt parameters are ignored (see matomo.py).
"""

import time
from collections.abc import Callable

import orjson
from fastapi import APIRouter, Request, Response

from collector.compat.matomo import matomo_request, query_params
from collector.compat.umami import umami_request
from collector.ingest.answers import MAX_USER_AGENT, charge, request_facts
from collector.ingest.batcher import BufferFull
from collector.ingest.request import EventRequest, RequestError, decode_json
from collector.ingest.service import IngestService, Outcome
from storage.store import Store, StoreError
from storage.tracker_ids import tracker_ids

# A 1x1 transparent GIF: what matomo.php answers an image request with.
GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
# Umami's tracker sends back the body of its last answer in x-umami-cache.
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Content-Type, x-umami-cache"}
IDS_TTL = 10.0


class TrackerIdCache:
    """The tracker id mappings, reloaded from ClickHouse at most every IDS_TTL seconds."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self.loaded_at = -IDS_TTL
        self.ids: dict[tuple[str, str], str] = {}

    def of(self, kind: str) -> dict[str, str]:
        """{tracker id: site} of one tracker kind."""
        if self.clock() - self.loaded_at >= IDS_TTL:
            try:
                self.ids = tracker_ids(self.store)
                self.loaded_at = self.clock()
            except StoreError:
                pass  # the last mapping stays until ClickHouse answers again
        return {tracker_id: site for (k, tracker_id), site in self.ids.items() if k == kind}


class BodyTooLarge(Exception):
    """The request body passes its limit."""


async def limited_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes limit bytes (or declares more)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str) -> Response:
    """A JSON error answer."""
    return Response(orjson.dumps({"error": message}), status, media_type="application/json", headers=CORS)


def _dropped(outcome: Outcome) -> dict[str, str]:
    """X-Teller-Dropped when nothing of the request was kept."""
    return {"X-Teller-Dropped": outcome.dropped[0]} if outcome.dropped and not outcome.buffered else {}


def build_compat_router(
    service: IngestService, store: Store, max_body_bytes: int, max_batch_bytes: int, max_batch_events: int
) -> APIRouter:
    """POST /api/send (Umami); GET and POST /matomo.php and /piwik.php (Matomo)."""
    router = APIRouter(include_in_schema=False)
    ids = TrackerIdCache(store)

    def ingest(request: Request, events: list[EventRequest], user_agent: str | None = None) -> Outcome | Response:
        facts = request_facts(request.scope.get("client"), request.scope["headers"])
        refused = charge(service.limiter, facts.ip_prefix, max(len(events), 1))
        if refused is not None:
            return Response(refused.body, refused.status, media_type=refused.media_type, headers=refused.headers)
        agent = (user_agent or facts.user_agent)[:MAX_USER_AGENT]
        try:
            return service.ingest_many(events, facts.ip_prefix, agent, facts.prefetch, facts.do_not_track)
        except BufferFull:
            return Response(b'{"error":"the collector is overloaded"}', 503, headers={"Retry-After": "5", **CORS})

    @router.options("/api/send")
    def umami_preflight() -> Response:
        return Response(status_code=204, headers={**CORS, "Access-Control-Allow-Methods": "POST, OPTIONS"})

    @router.post("/api/send")
    async def umami_send(request: Request) -> Response:
        try:
            raw = await limited_body(request, max_body_bytes)
            event = umami_request(decode_json(raw), ids.of("umami"))
        except BodyTooLarge:
            return _error(413, f"the body is larger than {max_body_bytes} bytes")
        except RequestError as error:
            return _error(400, str(error))
        if event is None:
            return Response(b"{}", 200, media_type="application/json", headers=CORS)
        outcome = ingest(request, [event])
        if isinstance(outcome, Response):
            return outcome
        return Response(b"{}", 200, media_type="application/json", headers={**CORS, **_dropped(outcome)})

    async def matomo(request: Request) -> Response:
        try:
            params = query_params(request.url.query)
            queries = [params] if params else []
            if request.method == "POST":
                raw = await limited_body(request, max_batch_bytes)
                queries += _posted_queries(raw, max_batch_events)
            site_of = ids.of("matomo")
            events = [event for event in (matomo_request(q, site_of) for q in queries) if event is not None]
        except BodyTooLarge:
            return _error(413, f"the body is larger than {max_batch_bytes} bytes")
        except RequestError as error:
            return _error(400, str(error))
        user_agent = next((q["ua"] for q in queries if q.get("ua")), None)
        outcome = ingest(request, events, user_agent) if events else Outcome()
        if isinstance(outcome, Response):
            return outcome
        if request.method == "POST" and not params:
            body = {"status": "success", "tracked": outcome.buffered, "invalid": 0}
            return Response(orjson.dumps(body), 200, media_type="application/json", headers=CORS)
        if params.get("send_image") == "0":
            return Response(status_code=204, headers={**CORS, **_dropped(outcome)})
        return Response(GIF, 200, media_type="image/gif", headers={**CORS, **_dropped(outcome)})

    for path in ("/matomo.php", "/piwik.php"):
        router.add_api_route(path, matomo, methods=["GET", "POST"])
    return router


def _posted_queries(raw: bytes, max_events: int) -> list[dict[str, str]]:
    """The tracking requests of a POST body: {"requests": ["?idsite=...", ...]} or one form-encoded query."""
    text = raw.strip()
    if not text:
        return []
    if text.startswith(b"{"):
        body = decode_json(text)
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not all(isinstance(item, str) for item in requests):
            raise RequestError("field 'requests' must be a list of query strings")
        if len(requests) > max_events:
            raise RequestError(f"a bulk request holds at most {max_events} tracking requests")
        return [query_params(item.partition("?")[2] if "?" in item else item) for item in requests]
    return [query_params(text.decode("latin-1"))]
