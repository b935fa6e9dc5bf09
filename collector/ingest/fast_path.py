"""The ingest endpoints, answered straight from ASGI before the framework's routing.

POST /api/event and /api/events, and their CORS preflight, never reach FastAPI: measured on one core
with the load-test mix, its middleware stack, router and dependency solving cost ~45 us of the ~95 us
a tracker event took through a route. The answers come from the pure functions in answers.py; the
OpenAPI document describes the POSTs from openapi.py.
"""

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from collector.ingest.answers import (
    METHOD_NOT_ALLOWED,
    PREFLIGHT,
    Answer,
    BodyTooLarge,
    answer_batch,
    answer_event,
    batch_too_large,
    check_declared_length,
    event_too_large,
    request_facts,
)
from collector.ingest.service import IngestService

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

INGEST_PATHS = frozenset(("/api/event", "/api/events"))


class ClientGone(Exception):
    """The client disconnected before its body arrived."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body, or BodyTooLarge as soon as it passes limit bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_answer(send: Send, answer: Answer) -> None:
    """Send an Answer with the headers, in the order, that Starlette's Response would send."""
    media_type = answer.media_type + "; charset=utf-8" if answer.media_type.startswith("text/") else answer.media_type
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers.items()]
    # Starlette sends no length with a 204 and no type without a media type (the CORS preflight).
    if answer.status != 204:
        headers.append((b"content-length", str(len(answer.body)).encode()))
    if media_type:
        headers.append((b"content-type", media_type.encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


class IngestFastPath:
    """ASGI middleware: every request to the two ingest paths is answered here, the rest goes on to the app."""

    def __init__(
        self, app: ASGIApp, service: IngestService, max_body_bytes: int, max_batch_events: int, max_batch_bytes: int
    ) -> None:
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes
        self.max_batch_events = max_batch_events
        self.max_batch_bytes = max_batch_bytes
        # One batch is decoded and run at a time: on one event loop interleaving them gains no throughput,
        # and each holds its parsed objects (up to ~14 MB for a 1 MiB batch of long properties) meanwhile.
        self._batch_turn = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if path not in INGEST_PATHS or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method != "POST":
            await send_answer(send, PREFLIGHT if method == "OPTIONS" else METHOD_NOT_ALLOWED)
            return
        facts = request_facts(scope.get("client"), scope["headers"])
        single = path == "/api/event"
        limit = self.max_body_bytes if single else self.max_batch_bytes
        try:
            check_declared_length(facts, limit)
            raw = await read_body(receive, limit)
        except BodyTooLarge:
            if single:
                await send_answer(send, event_too_large(self.max_body_bytes))
            else:
                await send_answer(send, batch_too_large(self.max_batch_bytes))
            return
        except ClientGone:
            return
        if single:
            await send_answer(send, answer_event(self.service, raw, facts))
            return
        async with self._batch_turn:
            answer = await answer_batch(self.service, raw, facts, self.max_batch_events)
        await send_answer(send, answer)
