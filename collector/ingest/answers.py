"""Answers of the ingest endpoints, built from plain values (Facts, the raw body) for the ASGI fast path.

POST /api/event takes one tracker event, POST /api/events a JSON array of them; OPTIONS on either is
the browsers' CORS preflight.
"""

import asyncio
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from collector.ingest.batcher import BufferFull
from collector.ingest.rate_limit import PrefixRateLimiter
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
# A batch gives the event loop back this often, so single events are answered between its slices: a
# maximum batch (1 MiB, 1000 events) takes ~10-70 ms of parsing and pipeline work on this machine.
SLICE_SECONDS = 0.002
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
    """Status, body, media type ("" for none) and extra headers of an ingest response."""

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


def error_answer(status: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    """A JSON error body {"error": message} with CORS headers."""
    return Answer(status, orjson.dumps({"error": message}), "application/json", {**CORS_HEADERS, **(headers or {})})


def event_too_large(max_body_bytes: int) -> Answer:
    """413 for POST /api/event."""
    return error_answer(413, f"the body is larger than {max_body_bytes} bytes")


def batch_too_large(max_batch_bytes: int) -> Answer:
    """413 for POST /api/events."""
    return error_answer(413, f"the body is larger than {max_batch_bytes} bytes")


RATE_LIMITED = error_answer(429, "too many requests from this network, slow down", {"Retry-After": "1"})
OVERLOADED = error_answer(503, "the collector is overloaded, try again later", {"Retry-After": "5"})
BATCH_OVERLOADED = error_answer(503, "the collector is overloaded, retry the batch", {"Retry-After": "5"})
PREFLIGHT = Answer(204, b"", "", PREFLIGHT_HEADERS)
# The body and media type FastAPI gives a 405, without CORS headers: no browser is allowed these methods.
METHOD_NOT_ALLOWED = Answer(405, b'{"detail":"Method Not Allowed"}', "application/json", {"Allow": "POST, OPTIONS"})


def charge(limiter: PrefixRateLimiter, prefix: str, rows: int, paid: int = 0) -> Answer | None:
    """Take a token per row from the network's bucket (less paid); None, or the 429 or 413 refusing the request."""
    wait = limiter.take(prefix, rows, paid)
    if not wait:
        return None
    if wait == math.inf:
        message = f"this request would store {rows} rows; one network may send at most {limiter.burst:.0f} at once"
        return error_answer(413, message)
    if wait <= 1.0:
        return RATE_LIMITED
    return error_answer(429, "too many requests from this network, slow down", {"Retry-After": str(math.ceil(wait))})


class Slices:
    """Tells a long loop when its time slice is over, so it can let the event loop answer other requests."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.perf_counter() + seconds

    async def pause(self) -> None:
        """Yield to the event loop if the slice is over, and start the next one."""
        if time.perf_counter() >= self.end:
            await asyncio.sleep(0)
            self.end = time.perf_counter() + self.seconds


def answer_event(service: IngestService, raw: bytes, facts: Facts) -> Answer:
    """Validate and ingest one tracker event; it costs a token per site it names (one if malformed)."""
    try:
        event_request = parse_event(decode_json(raw))
    except RequestError as error:
        return charge(service.limiter, facts.ip_prefix, 1) or error_answer(400, str(error))
    refused = charge(service.limiter, facts.ip_prefix, len(event_request.domains))
    if refused:
        return refused
    try:
        outcome = service.ingest(event_request, facts.ip_prefix, facts.user_agent, facts.prefetch, facts.do_not_track)
    except BufferFull:
        return OVERLOADED
    if outcome.dropped and not outcome.buffered:
        return Answer(202, b"ok", "text/plain", {**CORS_HEADERS, "X-Teller-Dropped": outcome.dropped[0]})
    return Answer(202, b"ok", "text/plain")


async def answer_batch(
    service: IngestService, raw: bytes, facts: Facts, max_batch_events: int, slice_seconds: float = SLICE_SECONDS
) -> Answer:
    """Validate and ingest a JSON array of events; malformed items are reported by index."""
    # A token per row the batch would store (a malformed item costs one): the first before the body is
    # decoded, so an empty bucket refuses it before any work, the rest once the items are parsed.
    limiter, prefix = service.limiter, facts.ip_prefix
    refused = charge(limiter, prefix, 1)
    if refused:
        return refused
    try:
        body: Any = decode_json(raw)
    except RequestError as error:
        return error_answer(400, str(error))
    if not isinstance(body, list):
        return error_answer(400, "the body must be a JSON array of events")
    if len(body) > max_batch_events:
        return error_answer(413, f"a batch holds at most {max_batch_events} events")
    slices = Slices(slice_seconds)
    requests, errors, rows = [], [], 0
    for index, item in enumerate(body):
        try:
            request = parse_event(item)
        except RequestError as error:
            errors.append({"index": index, "error": str(error)})
            rows += 1
        else:
            requests.append(request)
            rows += len(request.domains)
        await slices.pause()
    del body
    refused = charge(limiter, prefix, max(rows, 1), paid=1)
    if refused:
        return refused
    pending = service.begin(prefix, facts.user_agent, facts.prefetch, facts.do_not_track)
    for request in requests:
        pending.add(request)
        await slices.pause()
    try:
        outcome = service.commit(pending)
    except BufferFull:
        return BATCH_OVERLOADED
    dropped: dict[str, int] = {}
    for reason in outcome.dropped:
        dropped[reason] = dropped.get(reason, 0) + 1
    answer = {"accepted": outcome.buffered, "dropped": dropped, "errors": errors}
    return Answer(202, orjson.dumps(answer), "application/json")
