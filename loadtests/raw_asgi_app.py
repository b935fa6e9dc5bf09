"""The raw ASGI limit: the same answers as the bare FastAPI endpoint, with no framework at all."""

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
_TEXT = [(b"content-type", b"text/plain")]
_JSON = [(b"content-type", b"application/json")]


async def _body(receive: Receive) -> bytes:
    """The whole request body."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """POST /api/event and /api/events answer 202 after decoding the body; GET /healthz answers ok."""
    if scope["type"] != "http":
        return
    status, headers, answer = 404, _TEXT, b"not found"
    if scope["path"] == "/healthz":
        status, answer = 200, b"ok"
    elif scope["method"] == "POST" and scope["path"] == "/api/event":
        orjson.loads(await _body(receive))
        status, answer = 202, b"ok"
    elif scope["method"] == "POST" and scope["path"] == "/api/events":
        events = orjson.loads(await _body(receive))
        status, headers = 202, _JSON
        answer = orjson.dumps({"accepted": len(events), "dropped": {}, "errors": []})
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": answer})
