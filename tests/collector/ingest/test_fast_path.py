"""The ASGI fast path answers the ingest POSTs exactly as the FastAPI routes behind it would."""

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from harness import FIREFOX, GOOGLEBOT, Harness

from collector.ingest.fast_path import IngestFastPath

SITE = "fast.test"
PAGE = {"n": "pageview", "u": f"https://{SITE}/a", "d": SITE}


def _requests(limit: int, batch_limit: int) -> list[tuple[str, bytes, dict[str, str]]]:
    """(path, body, headers) covering stored, dropped, malformed and oversized events and batches."""
    return [
        ("/api/event", orjson.dumps(PAGE), {"User-Agent": FIREFOX}),
        ("/api/event", orjson.dumps(PAGE), {"User-Agent": GOOGLEBOT}),
        ("/api/event", orjson.dumps(PAGE), {"User-Agent": FIREFOX, "DNT": "1"}),
        ("/api/event", orjson.dumps(PAGE), {"User-Agent": FIREFOX, "Sec-Purpose": "prefetch"}),
        ("/api/event", orjson.dumps({**PAGE, "d": "nobody.test"}), {"User-Agent": FIREFOX}),
        ("/api/event", b'{"n": "pageview"', {"User-Agent": FIREFOX}),
        ("/api/event", b"", {"User-Agent": FIREFOX}),
        ("/api/event", b"{" + b" " * limit + b"}", {"User-Agent": FIREFOX}),
        ("/api/events", orjson.dumps([PAGE, PAGE, {"n": 1}]), {"User-Agent": FIREFOX}),
        ("/api/events", orjson.dumps(PAGE), {"User-Agent": FIREFOX}),
        ("/api/events", b"[" + b" " * batch_limit + b"]", {"User-Agent": FIREFOX}),
    ]


def _answers(harness: Harness) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    """Status, headers and body of every request."""
    settings = harness.settings
    client = harness.client()
    out = []
    for path, body, headers in _requests(settings.max_body_bytes, settings.max_body_bytes * settings.max_batch_events):
        response = client.post(path, content=body, headers={"Content-Type": "text/plain", **headers})
        out.append((response.status_code, list(response.headers.multi_items()), response.content))
    return out


def test_fast_path_and_routes_answer_alike(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    harness.add_site(SITE)
    fast = _answers(harness)
    assert [status for status, _, _ in fast] == [202, 202, 202, 202, 202, 400, 400, 413, 202, 400, 413]

    async def pass_through(self: IngestFastPath, scope: Any, receive: Callable[..., Any], send: Any) -> None:
        await self.app(scope, receive, send)

    monkeypatch.setattr(IngestFastPath, "__call__", pass_through)
    assert _answers(harness) == fast
    harness.flush()
    # Each pass stored the plain pageview and two batch items.
    assert harness.store.query("SELECT count() FROM events WHERE site = %(s)s", {"s": SITE}) == [(6,)]
