"""Validation of tracker payloads: what is accepted, and the reason given for what is not."""

import pytest

from collector.ingest.request import MAX_PROPS, MAX_URL, RequestError, decode_json, parse_event

BASE = {"n": "pageview", "u": "https://site.test/a", "d": "site.test"}


def test_short_and_long_keys_are_accepted() -> None:
    short = parse_event({**BASE, "r": "https://google.com/", "p": {"plan": "free"}, "w": 1280, "h": 1})
    long = parse_event(
        {
            "name": "pageview",
            "url": "https://site.test/a",
            "domain": "site.test",
            "referrer": "https://google.com/",
            "props": {"plan": "free"},
        }
    )
    assert short.name == long.name == "pageview"
    assert short.url == long.url and short.referrer == long.referrer
    assert short.props == long.props == {"plan": "free"}
    assert short.screen_width == 1280 and short.hash_mode


def test_engagement_fields_and_legacy_string_props() -> None:
    event = parse_event({**BASE, "n": "engagement", "sd": 80, "e": 1470, "p": '{"tier":"gold","n":3,"ok":true}'})
    assert (event.scroll_depth, event.engagement_ms) == (80, 1470)
    assert event.props == {"tier": "gold", "n": "3", "ok": "true"}


def test_values_are_clamped() -> None:
    event = parse_event({**BASE, "sd": 250, "e": -5, "w": 10**9})
    assert (event.scroll_depth, event.engagement_ms, event.screen_width) == (100, 0, 65535)


def test_several_domains() -> None:
    assert parse_event({**BASE, "d": "a.test, B.test"}).domains == ["a.test", "b.test"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([], "JSON object"),
        ("pageview", "JSON object"),
        ({"u": "https://x.test/", "d": "x.test"}, "'name'"),
        ({**BASE, "n": "   "}, "must not be empty"),
        ({**BASE, "n": 5}, "must be a string"),
        ({**BASE, "n": "x" * 121}, "longer than 120"),
        ({**BASE, "u": None}, "'url'"),
        ({**BASE, "u": "javascript:alert(1)"}, "absolute http"),
        ({**BASE, "u": "https://x.test/" + "a" * MAX_URL}, "longer than"),
        ({**BASE, "d": ""}, "at least one site"),
        ({**BASE, "r": 7}, "must be a string"),
        ({**BASE, "p": [1, 2]}, "must be an object"),
        ({**BASE, "p": "not json"}, "not a JSON object"),
        ({**BASE, "p": {f"k{i}": "v" for i in range(MAX_PROPS + 1)}}, "more than 30 keys"),
        ({**BASE, "p": {"k": {"nested": 1}}}, "string, number or boolean"),
        ({**BASE, "p": {"k": "v" * 2001}}, "longer than allowed"),
        ({**BASE, "u": "https://x.test/\x00"}, "control character"),
        ({**BASE, "n": "page\nview"}, "control character"),
        ({**BASE, "r": "https://a.test/\r\nSet-Cookie: x"}, "control character"),
        ({**BASE, "sd": "deep"}, "must be a number"),
    ],
)
def test_malformed_payloads_say_why(body: object, reason: str) -> None:
    with pytest.raises(RequestError, match=reason if reason[0] != "'" else None) as error:
        parse_event(body)
    assert reason.strip("'") in str(error.value)


@pytest.mark.parametrize(
    ("raw", "reason"), [(b"", "empty"), (b"   ", "empty"), (b"{", "not valid JSON"), (b"\xff\xfe", "not valid JSON")]
)
def test_undecodable_bodies(raw: bytes, reason: str) -> None:
    with pytest.raises(RequestError, match=reason):
        decode_json(raw)


def test_line_breaks_in_props_are_flattened() -> None:
    event = parse_event({**BASE, "p": {"message": "line one\nline two\tend"}})
    assert event.props == {"message": "line one line two end"}
