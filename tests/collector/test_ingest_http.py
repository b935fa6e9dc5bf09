"""The ingest endpoints over HTTP: status codes, reasons, CORS, size limits, no cookies."""

import orjson
from harness import FIREFOX, Harness

SITE = "http.test"


def test_accepts_text_plain_and_json_with_cors_and_no_cookie(harness: Harness) -> None:
    harness.add_site(SITE)
    body = {"n": "pageview", "u": f"https://{SITE}/", "d": SITE}
    plain = harness.post_event(body)
    as_json = harness.post_event(body, **{"Content-Type": "application/json"})
    for response in (plain, as_json):
        assert response.status_code == 202
        assert response.headers["access-control-allow-origin"] == "*"
        assert "set-cookie" not in response.headers
        assert "x-teller-dropped" not in response.headers
    harness.flush()
    assert harness.store.query("SELECT count() FROM events WHERE site = %(s)s", {"s": SITE}) == [(2,)]


def test_preflight_allows_any_origin(harness: Harness) -> None:
    response = harness.client().options(
        "/api/event", headers={"Origin": "https://elsewhere.test", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]


def test_malformed_event_is_400_with_reason(harness: Harness) -> None:
    response = harness.post_event(b'{"n": "pageview"')
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    response = harness.post_event({"n": "pageview", "d": SITE})
    assert response.status_code == 400
    assert "url" in response.json()["error"]


def test_oversized_body_is_413_before_reading(harness: Harness) -> None:
    limit = harness.settings.max_body_bytes
    response = harness.post_event(b"{" + b" " * limit + b"}")
    assert response.status_code == 413
    assert str(limit) in response.json()["error"]


def test_dropped_events_say_why(harness: Harness) -> None:
    harness.add_site(SITE)
    body = {"n": "pageview", "u": f"https://{SITE}/", "d": SITE}
    assert harness.post_event(body, user_agent="curl/8.5.0").headers["x-teller-dropped"] == "bot"
    assert harness.post_event(body, user_agent="").headers["x-teller-dropped"] == "bot"
    other = {**body, "d": "nobody.test"}
    assert harness.post_event(other).headers["x-teller-dropped"] == "unknown_site"


def test_hostile_inputs_never_500(harness: Harness) -> None:
    harness.add_site(SITE)
    bodies = [
        b"null",
        b"[]",
        b"1e999",
        b'"\\ud800"',
        b'{"n": "\\u0000"}',
        b"\xff" * 100,
        orjson.dumps({"n": "pageview", "u": f"https://{SITE}/" + "\u202e" * 50, "d": SITE}),
        orjson.dumps({"n": "pageview", "u": f"https://{SITE}:99999999/", "d": SITE}),
        orjson.dumps({"n": "pageview", "u": "https://[::1/", "d": SITE}),
        orjson.dumps({"n": "pageview", "u": f"https://{SITE}/", "d": SITE, "r": "http://[bad"}),
        orjson.dumps({"n": "pageview", "u": f"https://{SITE}/", "d": SITE, "w": 1.5e300, "sd": float("nan")}),
    ]
    for body in bodies:
        response = harness.post_event(body, user_agent=FIREFOX + "x" * 5000)
        assert response.status_code in (202, 400), (body[:40], response.text)


def test_batch_endpoint_reports_each_item(harness: Harness) -> None:
    harness.add_site(SITE)
    good = {"n": "pageview", "u": f"https://{SITE}/", "d": SITE}
    batch = [good, {"n": "pageview"}, {**good, "d": "nobody.test"}, good]
    response = harness.client().post("/api/events", content=orjson.dumps(batch), headers={"User-Agent": FIREFOX})
    assert response.status_code == 202
    assert response.json() == {
        "accepted": 2,
        "dropped": {"unknown_site": 1},
        "errors": [{"index": 1, "error": "field 'url' ('u') is required"}],
    }
    too_many = [good] * (harness.settings.max_batch_events + 1)
    response = harness.client().post("/api/events", content=orjson.dumps(too_many), headers={"User-Agent": FIREFOX})
    assert response.status_code == 413
    response = harness.client().post("/api/events", content=b'{"n": 1}', headers={"User-Agent": FIREFOX})
    assert response.status_code == 400


def test_untrusted_forwarded_for_is_ignored(harness: Harness) -> None:
    harness.add_site(SITE)
    body = orjson.dumps({"n": "pageview", "u": f"https://{SITE}/", "d": SITE})
    response = harness.client("195.159.103.82").post(
        "/api/event", content=body, headers={"User-Agent": FIREFOX, "X-Forwarded-For": "8.8.8.8"}
    )
    assert response.status_code == 202
    harness.flush()
    assert harness.store.query("SELECT country FROM events WHERE site = %(s)s", {"s": SITE}) == [("NO",)]
