"""Cases of Plausible's own Stats API tests, through real ingestion on both engines.

Each test names its source: plausible/analytics
test/plausible_web/controllers/api/external_stats_controller/query_test.exs (or, where said,
query_time_on_page_test.exs), by test name. Plausible's
`user_id: @user_id` is one visitor here (one client network and browser); each other pageview is a visitor
of its own network. Where Teller answers differently on purpose, the comment says why (docs/metrics.md).
"""

import datetime as dt
from typing import Any

from harness import CHROME_WINDOWS, FIREFOX, SAFARI_IPHONE, Harness

SITE = "plausible-cases.test"
DAY = ["2026-11-20", "2026-11-20"]
USER = "195.159.103.82"  # Plausible's @user_id
_others = iter(f"10.77.{n}.9" for n in range(1, 250))


def _at(harness: Harness, clock: str) -> None:
    """Set the harness clock to HH:MM[:SS] UTC on 2026-11-20."""
    parts = [int(p) for p in clock.split(":")] + [0]
    harness.now = dt.datetime(2026, 11, 20, parts[0], parts[1], parts[2], tzinfo=dt.UTC).timestamp()


def _view(harness: Harness, clock: str, ip: str | None = None, path: str = "/", **extra: Any) -> None:
    """One pageview at a time of day, from Plausible's @user_id (ip=USER) or a new visitor."""
    _at(harness, clock)
    agent = extra.pop("user_agent", FIREFOX)
    response = harness.pageview(SITE, path, ip=ip or next(_others), user_agent=agent, **extra)
    assert response.status_code == 202 and "x-teller-dropped" not in response.headers, response.headers


def _query(harness: Harness, metrics: list[str], **body: Any) -> list[tuple[Any, ...]]:
    harness.flush()
    _at(harness, "23:00")
    return harness.results({"site_id": SITE, "metrics": metrics, "date_range": DAY, **body})


def _two_page_visit_and_a_bounce(harness: Harness, first: dict[str, Any], second: dict[str, Any] | None = None) -> None:
    """Plausible's usual fixture: @user_id at 00:00 (with `first`) and 00:25, another visitor at 00:00."""
    harness.add_site(SITE)
    _view(harness, "00:00", USER, **first)
    _view(harness, "00:25", USER, **(second or {}))
    _view(harness, "00:00")


FILTER_METRICS = ["pageviews", "visitors", "bounce_rate", "visit_duration"]


def test_aggregates_a_single_metric(harness: Harness) -> None:
    # "aggregates a single metric"
    _two_page_visit_and_a_bounce(harness, {})
    assert _query(harness, ["pageviews"]) == [(3,)]


def test_aggregate_views_per_visit_rounds_to_two_decimal_places(harness: Harness) -> None:
    # "aggregate views_per_visit rounds to two decimal places"
    harness.add_site(SITE)
    _view(harness, "00:00", USER)
    _view(harness, "00:25", USER)
    _view(harness, "00:00", "85.214.132.117")
    _view(harness, "00:25", "85.214.132.117")
    _view(harness, "00:00")
    assert _query(harness, ["views_per_visit"]) == [(1.67,)]


def test_aggregates_all_metrics_in_a_single_query(harness: Harness) -> None:
    # "aggregates all metrics in a single query"
    _two_page_visit_and_a_bounce(harness, {})
    metrics = ["pageviews", "visits", "views_per_visit", "visitors", "bounce_rate", "visit_duration"]
    assert _query(harness, metrics) == [(3, 2, 1.5, 2, 50, 750)]


def test_can_filter_by_source(harness: Harness) -> None:
    # "can filter by source": the visit entered from Google; its second page counts under Google too.
    _two_page_visit_and_a_bounce(harness, {"referrer": "https://www.google.com/"})
    assert _query(harness, FILTER_METRICS, filters=[["is", "visit:source", ["Google"]]]) == [(2, 1, 0, 1500)]


def test_can_filter_by_channel(harness: Harness) -> None:
    # "can filter by channel"
    _two_page_visit_and_a_bounce(harness, {"referrer": "https://www.google.com/"})
    filters = [["is", "visit:channel", ["Organic Search"]]]
    assert _query(harness, FILTER_METRICS, filters=filters) == [(2, 1, 0, 1500)]


def test_can_filter_by_no_source(harness: Harness) -> None:
    # "can filter by no source/referrer"
    harness.add_site(SITE)
    _view(harness, "00:00", USER)
    _view(harness, "00:25", USER)
    _view(harness, "00:00", referrer="https://www.google.com/")
    filters = [["is", "visit:source", ["Direct / None"]]]
    assert _query(harness, FILTER_METRICS, filters=filters) == [(2, 1, 0, 1500)]


def test_can_filter_by_referrer(harness: Harness) -> None:
    # "can filter by referrer". Teller shows a referrer as host and path without the scheme (as Plausible's
    # dashboard does), so the filter value is "facebook.com" where Plausible's test stores the full URL.
    _two_page_visit_and_a_bounce(harness, {"referrer": "https://facebook.com"})
    filters = [["is", "visit:referrer", ["facebook.com"]]]
    assert _query(harness, FILTER_METRICS, filters=filters) == [(2, 1, 0, 1500)]


def test_contains_referrer_filter(harness: Harness) -> None:
    # "contains referrer filter"
    harness.add_site(SITE)
    for referrer in ("https://a.com", "https://a.com", "https://ab.com"):
        _view(harness, "00:00", referrer=referrer)
    assert _query(harness, ["visitors"], filters=[["contains", "visit:referrer", ["a.com"]]]) == [(2,)]


def test_can_filter_by_utm_medium(harness: Harness) -> None:
    # "can filter by utm_medium"
    _two_page_visit_and_a_bounce(harness, {"path": "/?utm_medium=social"})
    filters = [["is", "visit:utm_medium", ["social"]]]
    assert _query(harness, FILTER_METRICS, filters=filters) == [(2, 1, 0, 1500)]


def test_can_filter_by_utm_medium_case_insensitively(harness: Harness) -> None:
    # "can filter by utm_medium case insensitively" and "can filter by is_not utm_medium case insensitively"
    _two_page_visit_and_a_bounce(harness, {"path": "/?utm_medium=Social"}, {"path": "/?utm_medium=SOCIAL"})
    insensitive = {"case_sensitive": False}
    filters = [["is", "visit:utm_medium", ["sociaL"], insensitive]]
    assert _query(harness, FILTER_METRICS, filters=filters) == [(2, 1, 0, 1500)]
    assert _query(harness, ["pageviews"], filters=[["is_not", "visit:utm_medium", ["sociaL"], insensitive]]) == [(1,)]
    # Plausible's default is case-sensitive.
    assert _query(harness, ["pageviews"], filters=[["is", "visit:utm_medium", ["sociaL"]]]) == [(0,)]


def test_can_filter_by_utm_source_and_campaign(harness: Harness) -> None:
    # "can filter by utm_source" and "can filter by utm_campaign"
    _two_page_visit_and_a_bounce(harness, {"path": "/?utm_source=Twitter&utm_campaign=profile"})
    assert _query(harness, FILTER_METRICS, filters=[["is", "visit:utm_source", ["Twitter"]]]) == [(2, 1, 0, 1500)]
    assert _query(harness, FILTER_METRICS, filters=[["is", "visit:utm_campaign", ["profile"]]]) == [(2, 1, 0, 1500)]


def test_can_filter_by_device_browser_and_os(harness: Harness) -> None:
    # "can filter by device type", "can filter by browser", "can filter by operating system": the visit's
    # values are its entry's, and here the other visitor uses another browser on another device.
    harness.add_site(SITE)
    _view(harness, "00:00", USER, user_agent=CHROME_WINDOWS)
    _view(harness, "00:25", USER, user_agent=CHROME_WINDOWS)
    _view(harness, "00:00", user_agent=SAFARI_IPHONE)
    for dimension, value in (("visit:device", "Desktop"), ("visit:browser", "Chrome"), ("visit:os", "Windows")):
        assert _query(harness, FILTER_METRICS, filters=[["is", dimension, [value]]]) == [(2, 1, 0, 1500)], dimension


def test_engagement_events_are_not_events(harness: Harness) -> None:
    # "does not count engagement events towards the events metric in a simple aggregate query"
    harness.add_site(SITE)
    _view(harness, "00:00", USER)
    _at(harness, "00:00:01")
    engagement = {"n": "engagement", "u": f"https://{SITE}/", "d": SITE, "e": 1000, "sd": 10}
    assert harness.post_event(engagement, ip=USER).status_code == 202
    assert _query(harness, ["events"]) == [(1,)]
    # "engagement events do not affect bounce rate and visit duration": still a bounce. Teller differs on the
    # duration on purpose: a one-page visit lasts its engaged time (1 s here), not 0 (docs/metrics.md).
    assert _query(harness, ["bounce_rate", "visit_duration"]) == [(100, 1)]


def test_breakdown_by_page_with_visit_metrics_uses_entry_pages(harness: Harness) -> None:
    # "breakdown by event:page with visit metrics": visit metrics by page describe the visits that entered there.
    harness.add_site(SITE)
    _view(harness, "00:00", USER, path="/")
    _view(harness, "00:10", USER, path="/plausible.io")
    _view(harness, "00:00", path="/plausible.io")
    rows = _query(harness, ["visits", "bounce_rate"], dimensions=["event:page"], order_by=[["event:page", "asc"]])
    assert rows == [("/", 1, 0), ("/plausible.io", 1, 100)]


def test_hourly_data_with_time_labels(harness: Harness) -> None:
    # "shows hourly data for a certain date with time_labels"
    harness.add_site(SITE)
    _view(harness, "00:00", USER)
    _view(harness, "00:10", USER)
    _view(harness, "23:59")
    metrics = ["visitors", "pageviews", "visits", "visit_duration", "bounce_rate"]
    harness.flush()
    _at(harness, "23:59:30")
    body = {"site_id": SITE, "metrics": metrics, "date_range": DAY, "dimensions": ["time:hour"]}
    answer = harness.query({**body, "include": {"time_labels": True}}).json()
    rows = [(row["dimensions"][0], *row["metrics"]) for row in answer["results"]]
    assert rows == [("2026-11-20 00:00:00", 1, 2, 1, 600, 0), ("2026-11-20 23:00:00", 1, 1, 1, 0, 100)]
    assert len(answer["meta"]["time_labels"]) == 24


def test_time_on_page_from_engagement_data(harness: Harness) -> None:
    # query_time_on_page_test.exs "aggregated new_time_on_page metric based on engagement data": engaged time
    # of a page over the visitors who reported it, (120 + 20 + 60) / 2 = 100 s.
    harness.add_site(SITE)
    other = "85.214.132.117"
    _view(harness, "00:00", USER, path="/blog")
    _view(harness, "00:10", other, path="/blog")
    for clock, ip, ms in (("00:10", USER, 120_000), ("00:11", USER, 20_000), ("00:10", other, 60_000)):
        _at(harness, clock)
        engagement = {"n": "engagement", "u": f"https://{SITE}/blog", "d": SITE, "e": ms, "sd": 50}
        assert harness.post_event(engagement, ip=ip).status_code == 202
    assert _query(harness, ["time_on_page"], dimensions=["event:page"]) == [("/blog", 100)]
