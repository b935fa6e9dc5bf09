"""Referrer spam: the shipped list, parent-domain matching, the pipeline's drop and the custom setting."""

import datetime as dt
from pathlib import Path

import pytest
from harness import FIREFOX, Harness

from collector.ingest.pipeline import Context, Dropped, run_pipeline
from collector.ingest.request import EventRequest, parse_event
from collector.ingest.spam import SHIPPED, ReferrerSpam, normalise_host, read_list
from collector.ingest.state import SharedState
from storage.sites import Site
from storage.store import Store
from teller.settings import Settings

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC).timestamp()
SITE = "spam.test"


def _state(custom: tuple[str, ...] = ()) -> SharedState:
    state = SharedState(store=None, clock=lambda: NOW, referrer_spam=custom)  # type: ignore[arg-type]
    state.sites = {SITE: Site(SITE, "UTC")}
    state.salts = {dt.datetime.fromtimestamp(NOW, dt.UTC).date(): b"s" * 32}
    return state


def _request(referrer: str | None) -> EventRequest:
    return parse_event({"n": "pageview", "u": f"https://{SITE}/landing", "d": SITE, "r": referrer})


def _run(state: SharedState, referrer: str | None) -> str | None:
    """The drop reason of a pageview with the referrer, or None when it is stored."""
    try:
        run_pipeline(Context(_request(referrer), SITE, "195.159.103.0", FIREFOX, NOW), state)
    except Dropped as drop:
        return drop.reason
    return None


def test_the_shipped_list_is_matomos() -> None:
    assert len(SHIPPED) == 2043
    assert {"semalt.com", "darodar.com", "buttons-for-website.com", "qiwi.xyz", "prizesk.com"} <= SHIPPED
    assert all(host == normalise_host(host) and " " not in host for host in SHIPPED)


@pytest.mark.parametrize(
    ("host", "listed"),
    [
        ("semalt.com", True),
        ("www.semalt.com", True),
        ("semalt.semalt.com", True),
        ("a.b.darodar.com", True),
        ("semalt.com.", True),
        ("notsemalt.com", False),
        ("semalt.com.example", False),
        ("com", False),
        ("", False),
        ("google.com", False),
    ],
)
def test_a_host_matches_itself_and_its_parent_domains(host: str, listed: bool) -> None:
    assert (host in ReferrerSpam()) is listed


@pytest.mark.parametrize(
    "referrer", ["https://semalt.com/", "http://www.darodar.com/path?x=1", "https://free.share-buttons.xyz/"]
)
def test_spam_referrer_is_dropped_with_its_reason(referrer: str) -> None:
    assert _run(_state(), referrer) == "referrer_spam"


@pytest.mark.parametrize("referrer", [None, "", "https://www.google.com/", f"https://{SITE}/other", "android-app://x"])
def test_other_referrers_are_kept(referrer: str | None) -> None:
    assert _run(_state(), referrer) is None


def test_custom_hosts_apply_to_every_site() -> None:
    state = _state(("Spam.Example", "https://www.other.example/path"))
    state.sites["second.test"] = Site("second.test", "UTC")
    assert _run(state, "https://spam.example/") == "referrer_spam"
    assert _run(state, "https://deep.spam.example/") == "referrer_spam"
    assert _run(state, "https://other.example/") == "referrer_spam"
    assert _run(state, "https://kept.example/") is None
    request = parse_event(
        {"n": "pageview", "u": "https://second.test/", "d": "second.test", "r": "https://spam.example"}
    )
    with pytest.raises(Dropped, match="referrer_spam"):
        run_pipeline(Context(request, "second.test", "195.159.103.0", FIREFOX, NOW), state)
    # The shipped list still applies next to the custom hosts.
    assert _run(state, "https://semalt.com/") == "referrer_spam"


def test_custom_entries_are_normalised() -> None:
    spam = ReferrerSpam([" WWW.Spam.Example. ", "https://paste.example:8443/x", "", "bücher.example"])
    assert spam.custom == {"spam.example", "paste.example", "xn--bcher-kva.example"}
    assert "bücher.example" in spam and "sub.xn--bcher-kva.example" in spam


def test_the_setting_is_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELLER_REFERRER_SPAM", "spam.example, other.example ,")
    assert Settings().referrer_spam == ["spam.example", "other.example"]
    monkeypatch.delenv("TELLER_REFERRER_SPAM")
    assert Settings().referrer_spam == []


def test_read_list_skips_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "list.tsv"
    path.write_text("# source\n\nA.example \nb.example\n", encoding="utf-8")
    assert read_list(path) == {"a.example", "b.example"}


@pytest.mark.parametrize("store", ["embedded"], indirect=True)
def test_the_setting_reaches_the_ingest_endpoint(store: Store, tmp_path: Path) -> None:
    harness = Harness(store, tmp_path, referrer_spam="spam.example")
    harness.start()
    try:
        harness.add_site(SITE)
        body = {"n": "pageview", "u": f"https://{SITE}/", "d": SITE}
        spam = harness.post_event({**body, "r": "https://www.spam.example/offer"})
        assert spam.status_code == 202 and spam.headers["x-teller-dropped"] == "referrer_spam"
        assert harness.post_event({**body, "r": "https://semalt.com/"}).headers["x-teller-dropped"] == "referrer_spam"
        assert "x-teller-dropped" not in harness.post_event({**body, "r": "https://news.example/"}).headers
        assert harness.teller.ingest.dropped["referrer_spam"] == 2
    finally:
        harness.stop()
