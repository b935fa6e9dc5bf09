"""Site-search terms on both engines: kept only in search_terms, scrubbed, thresholded, Norwegian-safe."""

from pathlib import Path
from typing import Any

import pytest
from harness import Harness
from privacy import table_hits

from storage.sites import add_site, list_sites, set_search_params
from storage.store import Store

SITE = "sok.test"
DAY = ["2026-11-20", "2026-11-20"]
TERMS = {"search:term": "search:term"}


def _terms(harness: Harness, date_range: Any = DAY, **extra: Any) -> list[tuple]:
    """(term, searches, zero-result searches) rows of the stats API."""
    query = {
        "site_id": SITE,
        "metrics": ["searches", "zero_result_searches"],
        "date_range": date_range,
        "dimensions": ["search:term"],
        **extra,
    }
    return harness.results(query)


def _stored(store: Store) -> list[tuple]:
    """Every search_terms row, summed per key."""
    return store.query(
        "SELECT toString(day), term, sum(searches), sum(zero_result_searches) FROM search_terms "
        "GROUP BY day, term ORDER BY day, term"
    )


def test_a_term_from_a_url_is_only_in_the_search_table(harness: Harness) -> None:
    harness.add_site(SITE)
    page = f"https://{SITE}/sok?søk=Tyttebær+Hemmeligord&page=2"
    own_search = f"https://{SITE}/sok?q=Tyttebær+Hemmeligord"
    posts = [
        # The search results page, arriving from the site's own search box and from an external search.
        {"n": "pageview", "u": page, "d": SITE, "r": own_search},
        {"n": "pageview", "u": page, "d": SITE, "r": "https://www.google.no/search?q=tyttebær+hemmeligord#x"},
        {"n": "pageview", "u": page, "d": SITE, "r": "https://elsewhere.test/find?query=Tyttebær+Hemmeligord"},
        # Props that repeat the term or carry it in a URL.
        {"n": "pageview", "u": page, "d": SITE, "p": {"heading": "Resultater for TYTTEBÆR HEMMELIGORD", "x": "1"}},
        {
            "n": "Download",
            "u": page,
            "d": SITE,
            "p": {"url": f"https://{SITE}/f.pdf?q=Tyttebær+Hemmeligord", "file": f"https://{SITE}/f.pdf?s=annet&v=2"},
        },
        # Engagement for the same page, and a hash-routed search page.
        {"n": "engagement", "u": page, "d": SITE, "e": 3000, "sd": 40},
        {"n": "pageview", "u": f"https://{SITE}/#/sok?q=Tytteb%C3%A6r%20Hemmeligord&tab=2", "d": SITE, "h": 1},
        # The snippet's explicit search, with zero results.
        {"n": "search", "u": f"https://{SITE}/", "d": SITE, "p": {"term": "Tyttebær Hemmeligord", "results": 0}},
    ]
    for body in posts:
        response = harness.post_event(body)
        assert response.status_code == 202 and "x-teller-dropped" not in response.headers, response.text
    harness.flush()

    # Every column of every table is searched, in the encodings the term could have been stored in.
    needles = ["tytteb", "hemmeligord"]
    assert sorted(table_hits(harness.store, needles)) == [
        "search_terms.term contains hemmeligord",
        "search_terms.term contains tytteb",
    ]
    # Seven rows: the search event is not stored as an event at all; the stored paths have no term.
    events = harness.store.query("SELECT name, pathname, referrer FROM events ORDER BY name, pathname, referrer")
    assert events == [
        ("Download", "/sok", ""),
        ("engagement", "/sok", ""),
        ("pageview", "/#/sok?tab=2", ""),
        ("pageview", "/sok", ""),
        ("pageview", "/sok", ""),
        ("pageview", "/sok", "https://elsewhere.test/find"),
        ("pageview", "/sok", "https://www.google.no/search"),
    ]
    # Props holding the term are dropped, the others stay; URL props lose their search parameters.
    props = harness.store.query("SELECT prop_keys, prop_values FROM events WHERE notEmpty(prop_keys) ORDER BY name")
    assert props == [(["file"], [f"https://{SITE}/f.pdf?v=2"]), (["x"], ["1"])]
    # Five pageviews plus the explicit search; the engagement and the Download event are not searches.
    assert _stored(harness.store) == [("2026-11-20", "tyttebær hemmeligord", 6, 1)]
    columns = harness.store.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'search_terms'"
    )
    assert [name for name, _ in columns] == ["site", "day", "term", "searches", "zero_result_searches"]


def test_scrubbed_before_storing(harness: Harness) -> None:
    harness.add_site(SITE)
    raw = [
        "Ola.Nordmann@Example.no",
        "412 34 567",
        "+47 41234567",
        "010190 12345",
        "4111 1111 1111 1111",
        "Kontakt ola.nordmann@example.no 41234567",
    ]
    for term in raw:
        harness.pageview(SITE, f"/sok?q={term.replace('+', '%2B')}")
    harness.flush()
    assert [row[1:] for row in _stored(harness.store)] == [
        ("[email]", 1, 0),
        ("[id]", 1, 0),
        ("[number]", 1, 0),
        ("[phone]", 2, 0),
        ("kontakt [email] [phone]", 1, 0),
    ]
    # Needles long enough that random hashes, salts and timestamps cannot contain them by chance.
    needles = ["nordmann", "41234567", "412 34 567", "4111 1111", "010190 12345", "01019012345"]
    assert table_hits(harness.store, needles) == []


def test_norwegian_letters_round_trip(harness: Harness) -> None:
    harness.add_site(SITE)
    harness.pageview(SITE, "/sok?q=" + "ÆRFUGL Ørret Ålesund".replace(" ", "+"))
    harness.pageview(SITE, "/sok?s%C3%B8k=%C3%A6rfugl+%C3%B8rret+%C3%A5lesund")
    harness.pageview(SITE, "/sok?sok=%C6rfugl+%D8rret+%C5lesund")  # an ISO-8859-1 form
    harness.flush()
    assert _terms(harness) == [("ærfugl ørret ålesund", 3, 0)]
    assert [row[1] for row in _stored(harness.store)] == ["ærfugl ørret ålesund"]


def test_rare_terms_are_summed_into_one_row(store: Store, tmp_path: Path) -> None:
    harness = Harness(store, tmp_path)
    harness.start()
    try:
        harness.add_site(SITE)
        for term, count in (("alpha", 5), ("beta", 3), ("gamma", 2), ("delta", 1), ("epsilon", 1)):
            for _ in range(count):
                harness.pageview(SITE, f"/sok?q={term}")
        harness.post_event({"n": "search", "u": f"https://{SITE}/", "d": SITE, "p": {"term": "delta", "results": 0}})
        # Two more "gamma" searches the next day: listed over both days, rare on either day alone.
        harness.now += 86_400
        harness.pageview(SITE, "/sok?q=gamma")
        harness.flush()
        assert _terms(harness) == [("alpha", 5, 0), ("beta", 3, 0), (None, 5, 1)]
        assert _terms(harness, ["2026-11-20", "2026-11-21"]) == [
            ("alpha", 5, 0),
            ("beta", 3, 0),
            ("gamma", 3, 0),
            (None, 3, 1),
        ]
        assert _terms(harness, ["2026-11-21", "2026-11-21"]) == [(None, 1, 0)]
        assert _terms(harness, ["2026-11-22", "2026-11-22"]) == []
        # The rare row stays last whatever the order and pagination.
        assert _terms(harness, order_by=[["search:term", "desc"]]) == [("beta", 3, 0), ("alpha", 5, 0), (None, 5, 1)]
        assert _terms(harness, pagination={"limit": 2, "offset": 1}) == [("beta", 3, 0), (None, 5, 1)]
        totals = harness.results({"site_id": SITE, "metrics": ["searches", "zero_result_searches"], "date_range": DAY})
        assert totals == [(13, 1)]
        meta = harness.query(
            {"site_id": SITE, "metrics": ["searches"], "date_range": DAY, "dimensions": ["search:term"]}
        ).json()["meta"]
        assert meta["source"] == "search_terms" and meta["search_min_count"] == 3
    finally:
        harness.stop()


def test_threshold_is_configurable(store: Store, tmp_path: Path) -> None:
    harness = Harness(store, tmp_path, search_min_count=1)
    harness.start()
    try:
        harness.add_site(SITE)
        harness.pageview(SITE, "/sok?q=once")
        harness.pageview(SITE, "/sok?q=twice")
        harness.pageview(SITE, "/sok?q=twice")
        harness.flush()
        assert _terms(harness) == [("twice", 2, 0), ("once", 1, 0)]
    finally:
        harness.stop()


@pytest.mark.parametrize(
    "change",
    [
        {"metrics": ["searches", "visitors"]},
        {"dimensions": ["search:term", "event:page"]},
        {"dimensions": ["search:term", "time:day"]},
        {"dimensions": ["event:page"]},
        {"filters": [["is", "event:page", ["/sok"]]]},
        {"filters": [["contains", "search:term", ["a"]]]},
        {"metrics": ["visitors"], "filters": [["is", "search:term", ["a"]]]},
    ],
)
def test_search_term_combines_with_nothing_else(harness: Harness, change: dict) -> None:
    harness.add_site(SITE)
    query = {"site_id": SITE, "metrics": ["searches"], "date_range": DAY, "dimensions": ["search:term"], **change}
    response = harness.query(query)
    assert response.status_code == 400
    assert "only date_range narrows them" in response.json()["error"]


def test_per_site_search_parameters(harness: Harness) -> None:
    add_site(harness.store, SITE, "UTC", "find")
    add_site(harness.store, "none.test", "UTC", "-")
    harness.teller.state.refresh()
    harness.pageview(SITE, "/sok?find=Wanted&q=ignored")
    harness.pageview("none.test", "/sok?q=ignored")
    harness.post_event({"n": "pageview", "u": f"https://{SITE}/#/s?find=hashed&q=kept", "d": SITE, "h": 1})
    harness.flush()
    assert [row[1:] for row in _stored(harness.store)] == [("hashed", 1, 0), ("wanted", 1, 0)]
    paths = harness.store.query("SELECT pathname FROM events ORDER BY pathname")
    assert paths == [("/#/s?q=kept",), ("/sok",), ("/sok",)]


def test_sites_keep_their_search_parameters(store: Store) -> None:
    add_site(store, SITE, "UTC")
    assert list_sites(store)[0].search_params == ""
    set_search_params(store, SITE, "Q, Find")
    add_site(store, SITE, "Europe/Oslo")  # a time zone change keeps them
    assert [(s.timezone, s.search_params) for s in list_sites(store)] == [("Europe/Oslo", "q,find")]
    with pytest.raises(ValueError, match="campaign parameter"):
        set_search_params(store, SITE, "utm_term")
    with pytest.raises(ValueError, match="not a registered site"):
        set_search_params(store, "nobody.test", "q")


def test_day_is_the_sites_local_day(harness: Harness) -> None:
    harness.add_site(SITE, "Pacific/Auckland")  # 2026-11-20 12:00 UTC is the 21st there
    harness.pageview(SITE, "/sok?q=late")
    harness.flush()
    assert _stored(harness.store) == [("2026-11-21", "late", 1, 0)]
    assert _terms(harness, ["2026-11-21", "2026-11-21"]) == [(None, 1, 0)]


def test_search_event_without_term_is_dropped(harness: Harness) -> None:
    harness.add_site(SITE)
    response = harness.post_event({"n": "search", "u": f"https://{SITE}/", "d": SITE, "p": {"results": 3}})
    assert response.headers["x-teller-dropped"] == "no_search_term"
    harness.flush()
    assert harness.store.query("SELECT count() FROM events") == [(0,)]
    assert _stored(harness.store) == []
