"""Every dashboard panel on both engines: exact numbers for a known event set, equal to the stats API's."""

import datetime as dt

import pytest
from harness import CHROME_WINDOWS, FIREFOX, NOON, SAFARI_IPHONE, Harness

from dashboard.panels import (
    PANELS_BY_NAME,
    View,
    kpi_body,
    panel_body,
    realtime_visitors,
    run_kpis,
    run_panel,
    run_timeseries,
    timeseries_body,
)
from dashboard.periods import Period
from dashboard.query import parse_query
from dashboard.stats import build_sql, query_plan, run_query

SITE = "panels.test"
DAY = dt.date(2026, 11, 20)
PERIOD = Period("custom", "one day", DAY, DAY)


def _engaged(harness: Harness, path: str, ms: int, **kwargs: str) -> None:
    body = {"n": "engagement", "u": f"https://{SITE}{path}", "d": SITE, "e": ms, "sd": 50}
    assert harness.post_event(body, **kwargs).status_code == 202


def known_events(harness: Harness) -> None:
    """Four visitors, five visits, eight pageviews, a signup and two searches on 2026-11-20 (UTC)."""
    harness.add_site(SITE)
    start = harness.now
    # A: Firefox on Linux from Norway via Google; reads / then /pricing (two pages, 15 s).
    harness.pageview(SITE, "/", referrer="https://www.google.com/search")
    harness.now = start + 10
    harness.pageview(SITE, "/pricing", referrer=f"https://{SITE}/")
    harness.now = start + 15
    _engaged(harness, "/pricing", 5000)
    # B: iPhone from Germany via a newsletter campaign, bounces on /blog (7 s engaged), returns an hour later.
    harness.now = start
    iphone = {"ip": "85.214.132.117", "user_agent": SAFARI_IPHONE}
    harness.pageview(SITE, "/blog?utm_source=newsletter&utm_medium=email&utm_campaign=winter", **iphone)
    harness.now = start + 7
    _engaged(harness, "/blog", 7000, **iphone)
    harness.now = start + 3600
    harness.pageview(SITE, "/", **iphone)
    signup = {"n": "Signup", "u": f"https://{SITE}/", "d": SITE}
    assert harness.post_event(signup, **iphone).status_code == 202
    # C: Chrome on Windows from the US via Facebook: / , /pricing, /search?q=shoes.
    harness.now = start + 120
    chrome = {"ip": "8.8.8.8", "user_agent": CHROME_WINDOWS}
    harness.pageview(SITE, "/", referrer="https://facebook.com/some/post", **chrome)
    harness.now = start + 180
    harness.pageview(SITE, "/pricing", **chrome)
    harness.now = start + 240
    harness.pageview(SITE, "/search?q=Shoes", **chrome)
    # D: another Firefox in Norway (another /24), direct, one page.
    harness.now = start + 300
    harness.pageview(SITE, "/pricing", ip="195.159.104.9", user_agent=FIREFOX)
    harness.now = start + 400
    harness.flush()


def view(*filters: tuple[str, str]) -> View:
    return View(SITE, "UTC", PERIOD, tuple(filters))


def api_rows(harness: Harness, body: dict | None) -> list[tuple]:
    assert body is not None
    return [tuple(row["dimensions"]) + tuple(row["metrics"]) for row in harness.query(body).json()["results"]]


def panel_rows(harness: Harness, name: str, current: View, limit: int = 9) -> list[tuple]:
    result = run_panel(harness.store, PANELS_BY_NAME[name], current, limit, harness.settings.search_min_count)
    return [(value, *metrics) for value, metrics in result.rows]


EXPECTED = {
    "pages": [("/", 3, 3), ("/pricing", 3, 3), ("/blog", 1, 1), ("/search", 1, 1)],
    "entry_pages": [("/", 3, 0), ("/blog", 1, 100), ("/pricing", 1, 100)],
    "exit_pages": [("/pricing", 2), ("/", 1), ("/blog", 1), ("/search", 1)],
    # Visit attribution: A is Google, B newsletter then direct, C Facebook, D direct.
    "sources": [("Direct / None", 2), ("Facebook", 1), ("Google", 1), ("newsletter", 1)],
    # Host and path without www., as Plausible shows referrers; visits without one are Direct / None.
    "referrers": [("Direct / None", 2), ("facebook.com/some/post", 1), ("google.com/search", 1)],
    "campaigns": [("winter", 1)],
    "utm_sources": [("newsletter", 1)],
    "browsers": [("Firefox", 2), ("Chrome", 1), ("Safari", 1)],
    "os": [("GNU/Linux", 2), ("Windows", 1), ("iOS", 1)],
    "devices": [("Desktop", 3), ("Mobile", 1)],
    "countries": [("NO", 2), ("DE", 1), ("US", 1)],
}


def test_every_panel_on_a_known_event_set(harness: Harness) -> None:
    known_events(harness)
    for name, expected in EXPECTED.items():
        assert panel_rows(harness, name, view()) == expected, name


def test_panels_equal_the_stats_api(harness: Harness) -> None:
    known_events(harness)
    for current in (view(), view(("source", "Direct / None")), view(("entry_page", "/")), view(("page", "/pricing"))):
        for name, panel in PANELS_BY_NAME.items():
            body = panel_body(panel, current, 9)
            if body is None:
                assert run_panel(harness.store, panel, current).unavailable
                continue
            expected = [
                row for row in api_rows(harness, body) if not (panel.hide_empty and row[0] in ("", "(not set)"))
            ][:9]
            assert panel_rows(harness, name, current) == expected, (name, current.filters)


def test_kpis_and_previous_period(harness: Harness) -> None:
    known_events(harness)
    kpis = run_kpis(harness.store, view())
    # Durations: A 15 s, B's bounce 7 s (engaged), B's return 0 s, C 120 s, D 0 s: 142 / 5.
    assert kpis == {
        "visitors": 4,
        "visits": 5,
        "pageviews": 8,
        "views_per_visit": 1.6,
        "bounce_rate": 40.0,
        # 142 / 5 = 28.4, shown in whole seconds as Plausible does.
        "visit_duration": 28,
    }
    body, skipped = kpi_body(view())
    assert skipped == [] and api_rows(harness, body) == [tuple(kpis.values())]
    yesterday = Period("previous", "day before", DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=1))
    assert run_kpis(harness.store, view(), yesterday)["visitors"] == 0


def test_filters_change_what_can_be_counted(harness: Harness) -> None:
    known_events(harness)
    # Visits entering at "/": A's, B's return and C's; every metric counts them and their pages.
    by_entry = run_kpis(harness.store, view(("entry_page", "/")))
    assert (by_entry["visitors"], by_entry["pageviews"]) == (3, 6)
    assert (by_entry["visits"], by_entry["bounce_rate"]) == (3, 0)
    # /pricing was seen by A, C and D, once each, in three visits (those that contain it).
    by_page = run_kpis(harness.store, view(("page", "/pricing")))
    assert (by_page["visitors"], by_page["pageviews"], by_page["visits"]) == (3, 3, 3)
    assert panel_rows(harness, "pages", view(("entry_page", "/"))) == [
        ("/", 3, 3),
        ("/pricing", 2, 2),
        ("/search", 1, 1),
    ]
    assert panel_rows(harness, "entry_pages", view(("page", "/"))) == [("/", 3, 0)]
    # Under an entry-page filter, sources count the visitors of those visits.
    assert panel_rows(harness, "sources", view(("entry_page", "/"))) == [
        ("Direct / None", 1),
        ("Facebook", 1),
        ("Google", 1),
    ]
    assert panel_rows(harness, "browsers", view(("country", "NO"))) == [("Firefox", 2)]
    assert panel_rows(harness, "pages", view(("country", "US"), ("browser", "Chrome"))) == [
        ("/", 1, 1),
        ("/pricing", 1, 1),
        ("/search", 1, 1),
    ]


def test_search_terms_panel_ignores_filters(harness: Harness) -> None:
    known_events(harness)
    for _ in range(3):
        harness.pageview(SITE, "/search?q=Shoes", ip="10.1.1.1")
    harness.flush()
    assert panel_rows(harness, "search_terms", view()) == [("shoes", 4, 0)]
    result = run_panel(harness.store, PANELS_BY_NAME["search_terms"], view(("country", "NO")))
    assert result.note and [(v, *m) for v, m in result.rows] == [("shoes", 4, 0)]


def test_time_series_fills_every_bucket(harness: Harness) -> None:
    known_events(harness)
    series = run_timeseries(harness.store, view(), "pageviews")
    assert len(series) == 24 and series[0] == ("2026-11-20 00:00:00", 0)
    assert dict(series)["2026-11-20 12:00:00"] == 7 and dict(series)["2026-11-20 13:00:00"] == 1
    assert sum(value for _, value in series) == 8
    body = timeseries_body(view(), "pageviews")
    assert [(b, v) for b, v in api_rows(harness, body)] == [(b, v) for b, v in series if v]
    week = View(SITE, "UTC", Period("7d", "week", DAY - dt.timedelta(days=6), DAY))
    visits = run_timeseries(harness.store, week, "visits")
    assert [bucket for bucket, _ in visits][-1] == "2026-11-20" and len(visits) == 7
    assert visits[-1][1] == 5 and sum(v for _, v in visits) == 5


def test_realtime_counts_the_last_five_minutes(harness: Harness) -> None:
    known_events(harness)
    # The clock stands at NOON + 400 s: the visitors of the last 300 s are C (at +240) and D (at +300).
    assert realtime_visitors(harness.store, SITE, NOON + 400) == 2
    assert realtime_visitors(harness.store, SITE, NOON + 3700) == 1  # B's return at +3600
    assert realtime_visitors(harness.store, SITE, NOON + 9000) == 0


def test_top_rows_by_visitors_read_few_states_and_match_a_full_merge(harness: Harness) -> None:
    harness.add_site(SITE)
    # 40 pages; page i is seen by i visitors, and page 0 has many pageviews from one visitor.
    for page in range(40):
        for visitor in range(page):
            harness.pageview(SITE, f"/p{page}", ip=f"10.{page}.{visitor}.1")
    for _ in range(60):
        harness.pageview(SITE, "/p0", ip="10.200.0.1")
    harness.flush()
    for limit, offset in ((9, 0), (3, 5), (30, 0)):
        body = {
            "site_id": SITE,
            "metrics": ["visitors", "pageviews"],
            "date_range": ["2026-11-20", "2026-11-20"],
            "dimensions": ["event:page"],
            "pagination": {"limit": limit, "offset": offset},
        }
        query = parse_query(body, {SITE: "UTC"}, lambda tz: DAY)
        full = [
            {"dimensions": [r[0]], "metrics": list(r[1:])}
            for r in harness.store.query(*build_sql(query, query_plan(query)[0]))
        ]
        assert run_query(harness.store, query) == full
        assert full[0]["dimensions"] == ([f"/p{39 - offset}"])


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Oslo", "America/New_York"])
def test_daily_and_hourly_rollups_agree_with_raw_events(harness: Harness, timezone: str) -> None:
    harness.add_site(SITE, timezone)
    # Events over two months, at hours that fall on different local days and months in each zone.
    for offset_hours in (-1212, -1200, -960, -725, -700, -510, -30, -25, -23, -13, -2, 0, 1, 5, 11, 22, 26, 35):
        harness.now = NOON + offset_hours * 3600
        harness.teller.state.refresh()
        harness.pageview(SITE, f"/h{offset_hours % 3}", ip=f"10.9.{offset_hours % 7}.1")
        harness.flush()
    harness.flush()
    harness.now = NOON
    base = {"site_id": SITE, "metrics": ["visitors", "pageviews"], "date_range": ["2026-09-28", "2026-11-22"]}
    everything = [["is_not", "visit:country", ["ZZ"]]]
    for dimensions in ([], ["event:page"], ["time:day"], ["time:month"], ["time:hour"]):
        query = {**base, "dimensions": dimensions}
        rollup = harness.query(query).json()
        assert rollup["meta"]["source"] == "rollup"
        raw = harness.query({**query, "filters": everything}).json()
        assert raw["meta"]["source"] == "events"
        assert rollup["results"] == raw["results"], (timezone, dimensions)


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Oslo"])
def test_visit_rollups_agree_with_stored_visits(
    harness: Harness, timezone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Weekly chunks: the job catches up on two months at once here, hourly chunks would take minutes.
    monkeypatch.setattr("storage.visits.CHUNK_SECONDS", 7 * 86_400)
    harness.add_site(SITE, timezone)
    for offset_hours in (-1212, -960, -725, -30, -23, -2, 0, 5, 22):
        harness.now = NOON + offset_hours * 3600
        harness.teller.state.refresh()
        harness.pageview(SITE, f"/v{offset_hours % 2}", ip=f"10.8.{offset_hours % 5}.1")
        harness.pageview(SITE, "/second", ip=f"10.8.{offset_hours % 5}.1")
        harness.flush()
    harness.now = NOON + 30 * 3600
    harness.close_visits()
    metrics = ["visits", "bounce_rate", "views_per_visit"]
    base = {"site_id": SITE, "metrics": metrics, "date_range": ["2026-09-28", "2026-11-21"]}
    everything = [["is_not", "visit:country", ["ZZ"]]]
    for dimensions in ([], ["visit:entry_page"], ["time:day"], ["time:month"]):
        query = {**base, "dimensions": dimensions}
        rollup = harness.query(query).json()
        assert rollup["meta"]["source"] == "rollup"
        assert rollup["results"] == harness.query({**query, "filters": everything}).json()["results"], dimensions
    assert harness.results(base) == [(9, 0, 2.0)]


def _fast_and_full(harness: Harness, visits_module: object) -> tuple[list, list, object]:
    """Visit rows with the open part derived from the recent visitors, and from everyone."""
    from storage.visits import watermark

    body = {"site_id": SITE, "metrics": ["visits", "bounce_rate", "visit_duration"], "date_range": ["2026-11-19", DAY]}
    body["date_range"][1] = DAY.isoformat()
    fast, full = [], []
    mark = watermark(harness.store)
    visitors = visits_module.open_visitors(harness.store, SITE, mark)
    for dimensions in ([], ["visit:entry_page"], ["time:day"]):
        query = parse_query({**body, "dimensions": dimensions}, {SITE: "UTC"}, lambda tz: DAY)
        fast.append(
            harness.store.query(*visits_module.build_visit_sql(query, query_plan(query)[0], mark, visitors=visitors))
        )
        full.append(harness.store.query(*visits_module.build_visit_sql(query, query_plan(query)[0], mark)))
    return fast, full, visitors


@pytest.mark.parametrize("listed", [500, 0])
def test_open_visits_from_recent_visitors_equal_the_full_derivation(
    harness: Harness, listed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dashboard.visits as visits_module

    monkeypatch.setattr(visits_module, "MAX_LISTED_VISITORS", listed)
    harness.add_site(SITE)
    midnight = NOON - 12 * 3600
    harness.now = midnight - 2 * 3600
    harness.teller.state.refresh()
    harness.close_visits()  # a watermark before any event: everything after is open
    # X reads across midnight (its hash changes with the salt), Y arrives after midnight.
    for offset, path, ip in ((-10, "/x1", "10.7.0.1"), (10, "/x2", "10.7.0.1"), (20, "/y", "10.7.1.1")):
        harness.now = midnight + offset * 60
        harness.teller.state.refresh()
        harness.pageview(SITE, path, ip=ip)
    harness.flush()
    harness.now = midnight + 3600
    fast, full, visitors = _fast_and_full(harness, visits_module)
    assert visitors.across_midnight and fast == full
    assert full[0][0][0] == 2  # X's visit crosses midnight as one
    # At noon, with the job run, the open visits are derived in one pass (no midnight in the window).
    harness.now = NOON + 3600
    harness.close_visits()
    for minute, path, ip in ((60, "/a", "10.7.2.1"), (65, "/b", "10.7.2.1"), (80, "/c", "10.7.3.1")):
        harness.now = NOON + minute * 60
        harness.pageview(SITE, path, ip=ip)
    harness.flush()
    harness.now = NOON + 90 * 60
    fast, full, visitors = _fast_and_full(harness, visits_module)
    assert not visitors.across_midnight and (visitors.hashes is None) == (listed == 0)
    assert fast == full
    assert full[0][0][0] == 4
