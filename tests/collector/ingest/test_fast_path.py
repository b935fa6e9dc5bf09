"""The ASGI fast path is the only handler of the ingest paths: its answers, the preflight, the OpenAPI entries."""

from typing import Any

import orjson
import pytest
from harness import FIREFOX, GOOGLEBOT, Harness

from collector.ingest.answers import PREFLIGHT_HEADERS

SITE = "fast.test"
PAGE = {"n": "pageview", "u": f"https://{SITE}/a", "d": SITE}
TEXT = "text/plain; charset=utf-8"
JSON = "application/json"
BAD_NAME = "field 'name' must be a string"


def _ok(dropped: str | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    """The 202 of a tracker event, with the reason header when it was not stored."""
    reason = [("x-teller-dropped", dropped)] if dropped else []
    return 202, [("access-control-allow-origin", "*"), *reason, ("content-length", "2"), ("content-type", TEXT)], b"ok"


def _json(status: int, body: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """A JSON answer with the CORS header."""
    content = orjson.dumps(body)
    headers = [("access-control-allow-origin", "*"), ("content-length", str(len(content))), ("content-type", JSON)]
    return status, headers, content


def _cases(limit: int, batch_limit: int) -> list[tuple[str, bytes, dict[str, str], tuple[Any, ...]]]:
    """(path, body, headers, expected status, headers and body) for stored, dropped, malformed and oversized posts."""
    return [
        ("/api/event", orjson.dumps(PAGE), {"User-Agent": FIREFOX}, _ok()),
        ("/api/event", orjson.dumps(PAGE), {"User-Agent": GOOGLEBOT}, _ok("bot")),
        ("/api/event", orjson.dumps(PAGE), {"User-Agent": FIREFOX, "DNT": "1"}, _ok("do_not_track")),
        ("/api/event", orjson.dumps(PAGE), {"User-Agent": FIREFOX, "Sec-Purpose": "prefetch"}, _ok("prefetch")),
        ("/api/event", orjson.dumps({**PAGE, "d": "nobody.test"}), {"User-Agent": FIREFOX}, _ok("unknown_site")),
        ("/api/event", b"", {"User-Agent": FIREFOX}, _json(400, {"error": "the request body is empty"})),
        (
            "/api/event",
            b"{" + b" " * limit + b"}",
            {"User-Agent": FIREFOX},
            _json(413, {"error": f"the body is larger than {limit} bytes"}),
        ),
        (
            "/api/events",
            orjson.dumps([PAGE, PAGE, {"n": 1}]),
            {"User-Agent": FIREFOX},
            _json(202, {"accepted": 2, "dropped": {}, "errors": [{"index": 2, "error": BAD_NAME}]}),
        ),
        (
            "/api/events",
            orjson.dumps(PAGE),
            {"User-Agent": FIREFOX},
            _json(400, {"error": "the body must be a JSON array of events"}),
        ),
        (
            "/api/events",
            b"[" + b" " * batch_limit + b"]",
            {"User-Agent": FIREFOX},
            _json(413, {"error": f"the body is larger than {batch_limit} bytes"}),
        ),
    ]


def test_answers_of_good_bad_oversized_and_batch_posts(harness: Harness) -> None:
    harness.add_site(SITE)
    settings = harness.settings
    client = harness.client()
    for path, body, headers, expected in _cases(settings.max_body_bytes, settings.max_batch_bytes):
        response = client.post(path, content=body, headers={"Content-Type": "text/plain", **headers})
        assert (response.status_code, list(response.headers.multi_items()), response.content) == expected, path
    harness.flush()
    # The plain pageview and the two good batch items.
    assert harness.store.query("SELECT count() FROM events WHERE site = %(s)s", {"s": SITE}) == [(3,)]


def test_malformed_json_is_a_400_naming_the_problem(harness: Harness) -> None:
    response = harness.post_event(b'{"n": "pageview"')
    assert response.status_code == 400
    assert response.headers["access-control-allow-origin"] == "*" and response.headers["content-type"] == JSON
    assert response.json()["error"].startswith("the body is not valid JSON: ")


@pytest.mark.parametrize("path", ["/api/event", "/api/events"])
def test_preflight_and_other_methods(harness: Harness, path: str) -> None:
    client = harness.client()
    asking = {"Origin": "https://elsewhere.test", "Access-Control-Request-Method": "POST"}
    preflight = client.options(path, headers=asking)
    assert preflight.status_code == 204 and preflight.content == b""
    assert list(preflight.headers.multi_items()) == [(name.lower(), value) for name, value in PREFLIGHT_HEADERS.items()]
    for method in ("GET", "PUT", "DELETE"):
        refused = client.request(method, path)
        assert refused.status_code == 405, method
        assert refused.headers["allow"] == "POST, OPTIONS" and refused.json() == {"detail": "Method Not Allowed"}


def test_openapi_describes_both_posts_with_their_bodies(harness: Harness) -> None:
    served = harness.client().get("/openapi.json").json()
    assert served == orjson.loads(orjson.dumps(harness.app.openapi()))
    assert "/api/v2/query" in served["paths"]
    schemas = {}
    for path in ("/api/event", "/api/events"):
        assert set(served["paths"][path]) == {"post"}
        operation = served["paths"][path]["post"]
        body = operation["requestBody"]
        assert body["required"] is True and body["content"]["text/plain"]["schema"] == {"type": "string"}
        schemas[path] = body["content"]["application/json"]["schema"]
        assert set(operation["responses"]) == {"202", "400", "413", "429", "503"}
    assert schemas["/api/event"]["type"] == "object" and "u" in schemas["/api/event"]["properties"]
    assert schemas["/api/events"] == {"type": "array", "items": schemas["/api/event"], "maxItems": 1000}
