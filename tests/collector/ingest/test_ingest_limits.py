"""What one request may cost: distinct domains per event, a token per stored row, bounded batch bodies, a free loop."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from harness import FIREFOX, Harness

from collector.ingest.answers import Facts, answer_batch
from collector.ingest.request import MAX_DOMAINS, RequestError, parse_event
from storage.store import Store

SITE = "victim.example"
PAGE = {"n": "pageview", "u": f"https://{SITE}/a", "d": SITE}
ATTACKER = "195.159.103.82"


def _count(harness: Harness, site: str = SITE) -> int:
    harness.flush()
    return harness.store.query("SELECT count() FROM events WHERE site = %(s)s", {"s": site})[0][0]


def test_domains_are_distinct_after_normalising_and_at_most_ten() -> None:
    event = parse_event({**PAGE, "d": "Victim.Example, www.victim.example,victim.example ,b.test,WWW.B.test"})
    assert event.domains == [SITE, "b.test"]
    ten = ",".join(f"s{i}.test" for i in range(MAX_DOMAINS))
    assert len(parse_event({**PAGE, "d": ten}).domains) == MAX_DOMAINS
    with pytest.raises(RequestError, match="names more than 10 sites"):
        parse_event({**PAGE, "d": ten + ",s10.test"})
    with pytest.raises(RequestError, match="at least one site"):
        parse_event({**PAGE, "d": " , www."})


def test_a_domain_named_66_times_is_stored_once(harness: Harness) -> None:
    harness.add_site(SITE)
    # The penetration test's payload: 990 characters, 66 copies of one site (it stored 66 pageviews).
    domains = ",".join([SITE, SITE.upper()] * 33)
    assert len(domains.split(",")) == 66
    response = harness.post_event({**PAGE, "d": domains}, ip=ATTACKER)
    assert response.status_code == 202 and "x-teller-dropped" not in response.headers
    batch = harness.client(ATTACKER).post(
        "/api/events", content=orjson.dumps([{**PAGE, "d": domains}] * 3), headers={"User-Agent": FIREFOX}
    )
    assert batch.status_code == 202 and batch.json()["accepted"] == 3
    assert _count(harness) == 4


def test_eleven_distinct_domains_are_a_400(harness: Harness) -> None:
    harness.add_site(SITE)
    eleven = ",".join([SITE] + [f"other{i}.test" for i in range(10)])
    response = harness.post_event({**PAGE, "d": eleven})
    assert response.status_code == 400
    assert response.json() == {"error": "field 'domain' names more than 10 sites"}
    batch = harness.client().post(
        "/api/events", content=orjson.dumps([PAGE, {**PAGE, "d": eleven}]), headers={"User-Agent": FIREFOX}
    )
    assert batch.json() == {
        "accepted": 1,
        "dropped": {},
        "errors": [{"index": 1, "error": "field 'domain' names more than 10 sites"}],
    }
    assert _count(harness) == 1


def test_a_batch_costs_a_token_per_row_and_is_refused_whole(store: Store, tmp_path: Path) -> None:
    # One token per 100 s: the bucket does not refill while the test runs.
    harness = Harness(store, tmp_path, rate_limit=0.01, rate_limit_burst=10)
    harness.start()
    try:
        harness.add_site(SITE)
        harness.add_site("b.test")
        client = harness.client(ATTACKER)

        def post(events: list[dict]) -> tuple[int, dict[str, str], dict]:
            response = client.post("/api/events", content=orjson.dumps(events), headers={"User-Agent": FIREFOX})
            return response.status_code, response.headers, response.json()

        status, _, body = post([PAGE] * 6)
        assert (status, body["accepted"]) == (202, 6)
        # Two rows: the event names two sites. 2 tokens are left after it.
        status, _, body = post([{**PAGE, "d": f"{SITE},b.test"}])
        assert (status, body["accepted"]) == (202, 2)
        status, headers, body = post([PAGE] * 3)
        assert status == 429 and "too many requests" in body["error"]
        assert 90 <= int(headers["retry-after"]) <= 100  # a token short, at one token per 100 s
        # The refused batch stored nothing and paid the one token every request pays before it is decoded.
        status, _, body = post([PAGE])
        assert (status, body["accepted"]) == (202, 1)
        assert post([PAGE])[0] == 429
        assert harness.post_event(PAGE, ip=ATTACKER).status_code == 429
        # More rows than the bucket holds can never be taken: 413, not a 429 to retry forever.
        too_many = harness.client("85.214.132.117").post(
            "/api/events", content=orjson.dumps([PAGE] * 11), headers={"User-Agent": FIREFOX}
        )
        assert too_many.status_code == 413
        assert too_many.json() == {"error": "this request would store 11 rows; one network may send at most 10 at once"}
        assert _count(harness) == 6 + 1 + 1
        assert _count(harness, "b.test") == 1
    finally:
        harness.stop()


def _asgi_post(harness: Harness, chunks: Iterator[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[int, dict, int]:
    """POST /api/events straight into the ASGI app; return the status, the JSON body and the receive() calls."""
    calls = 0

    async def receive() -> dict:
        nonlocal calls
        calls += 1
        chunk = next(chunks, None)
        return {"type": "http.request", "body": chunk or b"", "more_body": chunk is not None}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/events",
        "raw_path": b"/api/events",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"user-agent", FIREFOX.encode()), (b"content-type", b"text/plain"), *headers],
        "client": (ATTACKER, 50_000),
        "server": ("testserver", 80),
    }
    asyncio.run(harness.app(scope, receive, send))
    return sent[0]["status"], orjson.loads(sent[1]["body"]), calls


def test_a_too_large_batch_is_a_413_before_its_body_is_read(harness: Harness) -> None:
    harness.add_site(SITE)
    limit = 1 << 20  # TELLER_MAX_BATCH_BYTES's default
    refused = {"error": f"the body is larger than {limit} bytes"}
    # Declared too large: not one chunk is read (60 MB used to be read, decoded and answered 202).
    status, body, calls = _asgi_post(harness, iter([b"[" + b" " * 100]), [(b"content-length", b"60000000")])
    assert (status, body, calls) == (413, refused, 0)
    # Streamed without a length: refused at the chunk that passes the limit, the other 83 never read.
    chunk = b" " * 65_536
    status, body, calls = _asgi_post(harness, iter([b"["] + [chunk] * 100), [])
    assert (status, body) == (413, refused) and calls == limit // len(chunk) + 1
    # A batch just within the limit is taken.
    event = orjson.dumps(PAGE)
    items = [event] * 1000
    padded = b"[" + b",".join(items) + b"]"
    padded = padded[:-1] + b" " * (limit - len(padded)) + b"]"
    assert len(padded) == limit
    status, body, _ = _asgi_post(harness, iter([padded]), [(b"content-length", str(limit).encode())])
    assert (status, body["accepted"]) == (202, 1000)
    assert harness.settings.max_batch_bytes == limit


def test_a_batch_lets_the_event_loop_answer_others_between_its_events(harness: Harness) -> None:
    harness.add_site(SITE)
    raw = orjson.dumps([PAGE] * 200)
    facts = Facts(ATTACKER, FIREFOX, prefetch=False, do_not_track=False, content_length=None)

    async def batch_beside_a_ticker() -> tuple[int, int]:
        ticks = 0
        running = True

        async def ticker() -> None:
            nonlocal ticks
            while running:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        answer = await answer_batch(harness.teller.ingest, raw, facts, 1000, slice_seconds=0.0)
        running = False
        await task
        return answer.status, ticks

    status, ticks = asyncio.run(batch_beside_a_ticker())
    # With a zero slice the batch yields after every item it parses and every event it runs.
    assert status == 202 and ticks >= 400
    assert _count(harness) == 200
