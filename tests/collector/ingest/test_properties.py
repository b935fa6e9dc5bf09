"""Property tests: any payload either becomes a well-typed row, is dropped with a reason, or is a 400."""

import datetime as dt

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.ingest.event import Event
from collector.ingest.pipeline import Context, Dropped, run_pipeline
from collector.ingest.request import RequestError, decode_json, parse_event
from collector.ingest.state import SharedState
from storage.sites import Site

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC).timestamp()
SITE = "prop.test"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

text = st.text(max_size=300)
scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), text)
json_value = st.recursive(
    scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=10
)
urls = st.one_of(
    text,
    st.builds(lambda path, query: f"https://{SITE}/{path}?{query}", text, text),
    st.sampled_from([f"https://{SITE}/", f"https://www.{SITE}/a#/b?q=x", f"http://{SITE}:8080/p?utm_source=x&q=ø"]),
)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "n": st.one_of(st.sampled_from(["pageview", "engagement", "Signup", "search"]), json_value),
        "u": st.one_of(urls, json_value),
        "d": st.one_of(st.just(SITE), st.just(f"{SITE},other.test"), json_value),
        "r": st.one_of(st.none(), urls, json_value),
        "p": st.one_of(st.dictionaries(text, scalar, max_size=5), text, json_value),
        "h": st.one_of(st.integers(), json_value),
        "w": st.one_of(st.integers(), st.floats(), json_value),
        "i": json_value,
        "sd": st.one_of(st.integers(), json_value),
        "e": st.one_of(st.integers(), json_value),
    },
)


def _state() -> SharedState:
    state = SharedState(store=None, clock=lambda: NOW)  # type: ignore[arg-type]
    state.sites = {SITE: Site(SITE, "Europe/Oslo")}
    day = dt.datetime.fromtimestamp(NOW, dt.UTC).date()
    state.salts = {day: b"s" * 32, day - dt.timedelta(days=1): b"p" * 32}
    return state


STATE = _state()


def _check_row(event: Event) -> None:
    """Every field has the column's type and fits it."""
    for name in Event.__slots__:
        value = getattr(event, name)
        if isinstance(value, int) and not isinstance(value, bool):
            assert 0 <= value < 2**64, name
        elif isinstance(value, list):
            assert all(isinstance(item, str) and "\x00" not in item for item in value), name
        else:
            assert isinstance(value, str), name
    assert len(event.pathname) <= 1024 and 0 <= event.scroll_depth <= 100 and event.screen_width <= 65535
    assert len(event.prop_keys) == len(event.prop_values) <= 30


@given(payloads, st.sampled_from([UA, "", "curl/8", "x" * 5000]), st.booleans(), st.booleans())
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_payload_is_a_row_a_drop_or_a_400(payload: dict, user_agent: str, prefetch: bool, dnt: bool) -> None:
    raw = orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS) if _encodable(payload) else b"{"
    try:
        request = parse_event(decode_json(raw))
    except RequestError as error:
        assert str(error)
        return
    for domain in request.domains:
        ctx = Context(request, domain, "195.159.103.0", user_agent, NOW, prefetch, dnt)
        try:
            _check_row(run_pipeline(ctx, STATE))
        except Dropped as drop:
            assert drop.reason


@given(st.binary(max_size=2000))
@settings(max_examples=400, deadline=None)
def test_any_bytes_decode_or_give_a_reason(raw: bytes) -> None:
    try:
        parse_event(decode_json(raw))
    except RequestError as error:
        assert str(error)


def _encodable(payload: dict) -> bool:
    try:
        orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return False
    return True


browser_text = st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")), max_size=300)


@given(
    st.sampled_from(["pageview", "engagement", "Signup"]),
    st.builds(lambda path, query: f"https://{SITE}/{path}?{query}", browser_text, browser_text),
    st.one_of(st.none(), st.builds(lambda path: f"https://elsewhere.test/{path}", browser_text)),
    st.dictionaries(st.text(min_size=1, max_size=50), st.text(max_size=100), max_size=5),
)
@settings(max_examples=400, deadline=None)
def test_valid_events_from_a_browser_always_become_rows(name: str, url: str, referrer: str | None, props: dict) -> None:
    payload = {
        "n": name,
        "u": url,
        "d": SITE,
        "r": referrer,
        "p": {k: v for k, v in props.items() if "\x00" not in k + v},
    }
    request = parse_event(payload)
    event = run_pipeline(Context(request, SITE, "195.159.103.0", UA, NOW), STATE)
    _check_row(event)
    assert event.site == SITE and event.visitor_id and event.browser == "Firefox"
