"""Visit attribution on both engines: a visit's dimensions apply to every metric, open and closed visits alike.

Cases follow Plausible's external stats API tests (plausible/analytics,
test/plausible_web/controllers/api/external_stats_controller/query_test.exs): session attributes such as
the source are the visit's, and an event inherits its visit's (e.g. "breakdown by visit:source counts
pageviews of the whole session", "filtering by visit:entry_page with event metrics").
"""

import pytest
from harness import CHROME_WINDOWS, SAFARI_IPHONE, Harness

SITE = "attribution.test"
DAY = ["2026-11-20", "2026-11-20"]


def _google_reader(harness: Harness) -> None:
    """One visitor from Google reads three pages; a second visitor comes directly for one page."""
    harness.add_site(SITE)
    harness.pageview(SITE, "/", referrer="https://www.google.com/")
    harness.now += 60
    harness.pageview(SITE, "/pricing", referrer=f"https://{SITE}/")
    harness.now += 60
    harness.pageview(SITE, "/signup", referrer=f"https://{SITE}/pricing")
    harness.pageview(SITE, "/pricing", ip="8.8.8.8", user_agent=CHROME_WINDOWS)
    harness.flush()


def _query(harness: Harness, metrics: list[str], dimensions: list[str], filters: list | None = None) -> list[tuple]:
    body = {"site_id": SITE, "metrics": metrics, "date_range": DAY, "dimensions": dimensions}
    if filters:
        body["filters"] = filters
    return harness.results(body)


@pytest.mark.parametrize("closed", [False, True], ids=["open visits", "closed visits"])
def test_a_visit_from_google_counts_all_its_pages_under_google(harness: Harness, closed: bool) -> None:
    _google_reader(harness)
    if closed:
        harness.now += 3 * 3600
        harness.close_visits()
    rows = _query(harness, ["pageviews", "visitors", "events", "visits"], ["visit:source"])
    assert rows == [("Google", 3, 1, 3, 1), ("Direct / None", 1, 1, 1, 1)]
    # Filtered by the source, every metric describes the Google visit alone.
    google = [["is", "visit:source", ["Google"]]]
    assert _query(harness, ["visitors", "pageviews", "visits", "bounce_rate"], [], google) == [(1, 3, 1, 0)]
    pages = _query(harness, ["visitors", "pageviews"], ["event:page"], google)
    assert pages == [("/", 1, 1), ("/pricing", 1, 1), ("/signup", 1, 1)]


def test_entry_page_works_with_every_metric(harness: Harness) -> None:
    _google_reader(harness)
    rows = _query(harness, ["pageviews", "visitors", "visits", "bounce_rate"], ["visit:entry_page"])
    assert rows == [("/", 3, 1, 1, 0), ("/pricing", 1, 1, 1, 100)]
    exits = _query(harness, ["visitors"], ["visit:exit_page"])
    assert exits == [("/pricing", 1), ("/signup", 1)]


def test_event_filters_with_visit_metrics_mean_visits_containing_the_event(harness: Harness) -> None:
    _google_reader(harness)
    signup = [["is", "event:page", ["/signup"]]]
    # The one visit that reached /signup: its whole length and pages, though only one pageview matches.
    assert _query(harness, ["visits", "views_per_visit", "bounce_rate"], [], signup) == [(1, 3.0, 0)]
    assert _query(harness, ["visitors", "pageviews"], [], signup) == [(1, 1)]
    # Sources of the visitors who saw /pricing: both visits, each under its own source.
    pricing = [["is", "event:page", ["/pricing"]]]
    rows = _query(harness, ["visitors", "pageviews", "visits"], ["visit:source"], pricing)
    assert sorted(rows) == [("Direct / None", 1, 1, 1), ("Google", 1, 1, 1)]


def test_visit_metrics_by_page_describe_the_visits_that_entered_there(harness: Harness) -> None:
    _google_reader(harness)
    rows = _query(harness, ["visitors", "visits", "bounce_rate"], ["event:page"])
    found = {row[0]: row[1:] for row in rows}
    # Visitors per page are the page's own; visits and bounce rate belong to the visits entering there.
    assert found["/"] == (1, 1, 0)
    assert found["/pricing"] == (2, 1, 100)
    assert found["/signup"] == (1, 0, 0)


def test_browser_and_device_are_the_visits(harness: Harness) -> None:
    _google_reader(harness)
    harness.pageview(SITE, "/", ip="85.214.132.117", user_agent=SAFARI_IPHONE, referrer="https://facebook.com/x")
    harness.flush()
    rows = _query(harness, ["visitors", "pageviews"], ["visit:source", "visit:device"])
    assert {(source, visitors, pageviews) for source, _, visitors, pageviews in rows} == {
        ("Google", 1, 3),
        ("Direct / None", 1, 1),
        ("Facebook", 1, 1),
    }
    assert len({device for _, device, _, _ in rows}) == 2
