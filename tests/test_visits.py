"""Visits on both engines: 30-minute idle rule, bounces, durations, midnight, several processes, rollups."""

import threading
from pathlib import Path

from harness import CHROME_WINDOWS, FIREFOX, NOON, SAFARI_IPHONE, Harness

from storage.store import Store

SITE = "visits.test"
DAY = ["2026-11-20", "2026-11-20"]
VISIT_METRICS = ["visits", "bounce_rate", "visit_duration", "views_per_visit"]


def _engagement(harness: Harness, path: str, ms: int, depth: int = 50, **kwargs: str) -> None:
    """An engagement event of the page, as the trackers send when it is hidden."""
    body = {"n": "engagement", "u": f"https://{SITE}{path}", "d": SITE, "e": ms, "sd": depth}
    assert harness.post_event(body, **kwargs).status_code == 202


def _three_visits(harness: Harness) -> None:
    """Visitor A reads two pages; visitor B bounces from /blog, then returns 40 minutes later and signs up."""
    harness.add_site(SITE)
    start = harness.now
    harness.pageview(SITE, "/", referrer="https://www.google.com/")
    harness.now = start + 4
    _engagement(harness, "/", 4000, 100)
    harness.now = start + 10
    harness.pageview(SITE, "/pricing", referrer=f"https://{SITE}/")
    harness.now = start + 15
    _engagement(harness, "/pricing", 3000, 40)

    harness.now = start
    harness.pageview(SITE, "/blog", user_agent=SAFARI_IPHONE, ip="85.214.132.117")
    harness.now = start + 60
    _engagement(harness, "/blog", 7000, 80, user_agent=SAFARI_IPHONE, ip="85.214.132.117")
    harness.now = start + 60 + 40 * 60
    harness.pageview(SITE, "/", user_agent=SAFARI_IPHONE, ip="85.214.132.117")
    signup = {"n": "Signup", "u": f"https://{SITE}/", "d": SITE, "p": {"plan": "pro"}}
    assert harness.post_event(signup, user_agent=SAFARI_IPHONE, ip="85.214.132.117").status_code == 202
    harness.flush()


def _totals(harness: Harness, **extra: object) -> tuple:
    """visits, bounce_rate, visit_duration, views_per_visit over the day."""
    return harness.results({"site_id": SITE, "metrics": VISIT_METRICS, "date_range": DAY, **extra})[0]


def _breakdown(harness: Harness, dimension: str, **extra: object) -> list[tuple]:
    return harness.results(
        {"site_id": SITE, "metrics": ["visits", "bounce_rate"], "date_range": DAY, "dimensions": [dimension], **extra}
    )


def test_visits_bounces_and_durations_while_open(harness: Harness) -> None:
    _three_visits(harness)
    # Durations: A 15 s (last event minus first), B 7 s (one page: engaged time, not 60 s), B again 0 s.
    # Whole numbers for bounce rate and duration (33.3 %, 7.3 s), as Plausible rounds them.
    assert _totals(harness) == (3, 33, 7, 1.33)
    assert _breakdown(harness, "visit:entry_page") == [("/", 2, 0), ("/blog", 1, 100)]
    assert _breakdown(harness, "visit:exit_page") == [("/", 1, 0), ("/blog", 1, 100), ("/pricing", 1, 0)]
    assert _breakdown(harness, "visit:source") == [("Direct / None", 2, 50), ("Google", 1, 0)]


def test_closed_visits_give_the_same_numbers_and_survive_raw_events(harness: Harness) -> None:
    _three_visits(harness)
    before = (_totals(harness), _breakdown(harness, "visit:entry_page"), _breakdown(harness, "visit:exit_page"))
    harness.now = NOON + 3 * 3600
    harness.close_visits()
    rows = harness.store.query("SELECT count() FROM visits")
    assert rows[0][0] == 3
    response = harness.query({"site_id": SITE, "metrics": VISIT_METRICS, "date_range": DAY})
    assert response.json()["meta"]["source"] == "rollup"
    after = (_totals(harness), _breakdown(harness, "visit:entry_page"), _breakdown(harness, "visit:exit_page"))
    assert after == before
    # A filter that matches everything reads the visits table instead of the rollup.
    everything = [["is_not", "visit:entry_page", ["/nowhere"]]]
    assert _totals(harness, filters=everything) == before[0]
    # Raw events expire; the rollup keeps the numbers.
    harness.store.execute("ALTER TABLE events DROP PARTITION 20261120")
    assert harness.store.query("SELECT count() FROM events")[0][0] == 0
    assert (_totals(harness), _breakdown(harness, "visit:entry_page")) == before[:2]
    # Running the job again changes nothing.
    harness.close_visits()
    assert _totals(harness) == before[0]


def test_a_visit_ends_after_thirty_idle_minutes(harness: Harness) -> None:
    harness.add_site(SITE)
    start = harness.now
    for offset, path in ((0, "/a"), (29 * 60, "/b"), (58 * 60, "/c"), (58 * 60 + 1801, "/d")):
        harness.now = start + offset
        harness.pageview(SITE, path)
    harness.flush()
    assert _breakdown(harness, "visit:entry_page") == [("/a", 1, 0), ("/d", 1, 100)]
    harness.now = start + 5 * 3600
    harness.close_visits()
    assert _breakdown(harness, "visit:entry_page") == [("/a", 1, 0), ("/d", 1, 100)]
    assert _totals(harness)[3] == 2.0


def test_engagement_alone_starts_no_visit(harness: Harness) -> None:
    harness.add_site(SITE)
    _engagement(harness, "/", 5000)
    harness.flush()
    assert _totals(harness) == (0, 0, 0, 0)


def test_a_visit_continues_across_midnight(harness: Harness) -> None:
    harness.add_site(SITE)
    midnight = NOON - 12 * 3600
    harness.now = midnight - 10 * 60
    harness.teller.state.refresh()  # salts for 2026-11-19 and 2026-11-20
    harness.pageview(SITE, "/late")
    harness.pageview(SITE, "/gone", user_agent=CHROME_WINDOWS)  # leaves before midnight
    harness.now = midnight + 10 * 60
    harness.pageview(SITE, "/after-midnight")
    harness.now = midnight + 50 * 60
    harness.pageview(SITE, "/new", user_agent=CHROME_WINDOWS)  # 60 minutes later: a new visit
    harness.flush()
    two_days = ["2026-11-19", "2026-11-20"]
    query = {"site_id": SITE, "metrics": ["visits", "views_per_visit"], "date_range": two_days}
    by_entry = {**query, "dimensions": ["visit:entry_page"]}
    expected = [("/gone", 1, 1.0), ("/late", 1, 2.0), ("/new", 1, 1.0)]
    assert harness.results(by_entry) == expected
    assert harness.results({**query, "dimensions": ["time:day"]}) == [("2026-11-19", 2, 1.5), ("2026-11-20", 1, 1.0)]
    exits = harness.results({**query, "metrics": ["visits"], "dimensions": ["visit:exit_page"]})
    assert ("/after-midnight", 1) in exits and ("/late", 1) not in exits
    harness.now = midnight + 3 * 3600
    harness.close_visits()
    assert harness.results(by_entry) == expected


def test_several_processes_share_visits(store: Store, tmp_path: Path) -> None:
    """Two collector processes ingest one visitor's events and run the visit job at the same time."""
    first, second = Harness(store, tmp_path / "a"), Harness(store, tmp_path / "b")
    for harness in (first, second):
        harness.start()
    try:
        first.add_site(SITE)
        second.teller.state.refresh()
        start = NOON
        for index, (harness, path) in enumerate(((first, "/"), (second, "/pricing"), (first, "/signup"))):
            harness.now = start + index * 600
            harness.pageview(SITE, path, user_agent=FIREFOX)
        second.now = start + 1300
        second.pageview(SITE, "/", user_agent=SAFARI_IPHONE)
        for harness in (first, second):
            harness.flush()
        expected = [("/", 2, 50)]
        assert _breakdown(first, "visit:entry_page") == expected
        assert _breakdown(second, "visit:entry_page") == expected
        first.now = second.now = start + 4 * 3600
        runs = [threading.Thread(target=h.close_visits) for h in (first, second, first, second)]
        for run in runs:
            run.start()
        for run in runs:
            run.join()
        assert _breakdown(first, "visit:entry_page") == expected
        assert _totals(second) == (2, 50.0, 600.0, 2.0)
        assert _breakdown(second, "visit:exit_page") == [("/", 1, 100), ("/signup", 1, 0)]
    finally:
        for harness in (first, second):
            harness.stop()


def test_time_on_page_and_scroll_depth(harness: Harness) -> None:
    _three_visits(harness)
    rows = harness.results(
        {
            "site_id": SITE,
            "metrics": ["pageviews", "time_on_page", "scroll_depth"],
            "date_range": DAY,
            "dimensions": ["event:page"],
        }
    )
    assert rows == [("/", 2, 4.0, 100), ("/blog", 1, 7.0, 80), ("/pricing", 1, 3.0, 40)]


def test_event_and_visit_metrics_in_one_query(harness: Harness) -> None:
    _three_visits(harness)
    rows = harness.results(
        {
            "site_id": SITE,
            "metrics": ["visitors", "pageviews", "visits", "bounce_rate"],
            "date_range": DAY,
            "dimensions": ["visit:browser"],
        }
    )
    assert rows == [("Firefox", 1, 2, 1, 0), ("Safari", 1, 2, 2, 50)]


def test_visit_metrics_combine_with_event_dimensions(harness: Harness) -> None:
    # Once refused with a 400; the planner answers every metric with every dimension and filter.
    harness.add_site(SITE)
    mixed = [
        {"metrics": ["visits"], "dimensions": ["event:page"]},
        {"metrics": ["bounce_rate"], "filters": [["is", "event:name", ["Signup"]]]},
        {"metrics": ["pageviews"], "dimensions": ["visit:entry_page"]},
    ]
    for body in mixed:
        response = harness.query({"site_id": SITE, "date_range": DAY, **body})
        assert response.status_code == 200, response.text
