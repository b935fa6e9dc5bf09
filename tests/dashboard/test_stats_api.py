"""The stats API's contract: authentication, validation errors, date ranges, ordering, pagination."""

import datetime as dt

import pytest
from harness import CHROME_WINDOWS, Harness

from dashboard.query import QueryError, resolve_date_range
from storage.api_keys import hash_key, revoke_api_key

SITE = "api.test"
QUERY = {"site_id": SITE, "metrics": ["visitors"], "date_range": ["2026-11-20", "2026-11-20"]}


def test_missing_or_wrong_key_is_401(harness: Harness) -> None:
    harness.add_site(SITE)
    client = harness.client()
    assert client.post("/api/v2/query", json=QUERY).status_code == 401
    wrong = client.post("/api/v2/query", json=QUERY, headers={"Authorization": "Bearer tlr_nope"})
    assert wrong.status_code == 401
    assert "API key" in wrong.json()["error"]
    assert client.post("/api/v2/query", json=QUERY, headers={"Authorization": "Basic abc"}).status_code == 401
    assert harness.query(QUERY).status_code == 200


def test_revoked_key_stops_working(harness: Harness) -> None:
    harness.add_site(SITE)
    key = harness.api_key
    assert harness.query(QUERY, key).status_code == 200
    revoke_api_key(harness.store, hash_key(key))  # in this process: at once
    assert harness.query(QUERY, key).status_code == 401


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"site_id": "nobody.test"}, "not registered"),
        ({"site_id": None}, "#/site_id: Type mismatch"),
        ({"site_id": ""}, "site_id is required"),
        ({"metrics": []}, "at least one metric"),
        ({"metrics": ["bogus"]}, '#/metrics/0: Invalid metric "bogus"'),
        ({"metrics": ["visitors", "visitors"]}, "#/metrics: Expected items to be unique"),
        ({"date_range": "forever"}, '#/date_range: Invalid date range "forever": date_range must be one of'),
        ({"date_range": ["2026-11-20", "2026-11-01"]}, "ends before it starts"),
        ({"date_range": ["20-11-2026", "2026-11-21"]}, "YYYY-MM-DD"),
        ({"dimensions": ["visit:shoe_size"]}, '#/dimensions/0: Invalid dimension "visit:shoe_size"'),
        ({"dimensions": ["time:day", "time:hour"]}, "at most one time dimension"),
        ({"filters": [["exists?", "event:page", ["/"]]]}, '#/filters/0: Invalid filter ["exists?", '),
        ({"filters": [["is", "event:page", []]]}, "1 to 100 values"),
        ({"filters": [["is", "event:page"]]}, "#/filters/0: Invalid filter"),
        ({"order_by": [["pageviews", "desc"]]}, "Entry is not a queried metric or dimension"),
        ({"order_by": [["visitors", "sideways"]]}, "each order_by"),
        ({"pagination": {"limit": 0}}, "pagination.limit"),
        ({"pagination": {"offset": -1}}, "pagination.offset"),
        ({"surprise": 1}, "#/surprise: Schema does not allow additional properties"),
    ],
)
def test_invalid_queries_are_400_with_reason(harness: Harness, change: dict, message: str) -> None:
    harness.add_site(SITE)
    response = harness.query({**QUERY, **change})
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_non_json_query_is_400(harness: Harness) -> None:
    response = harness.client().post(
        "/api/v2/query", content=b"{", headers={"Authorization": f"Bearer {harness.api_key}"}
    )
    assert response.status_code == 400


def test_order_and_pagination(harness: Harness) -> None:
    harness.add_site(SITE)
    for index, path in enumerate(["/a", "/b", "/b", "/c", "/c", "/c"]):
        harness.pageview(SITE, path, ip=f"10.0.{index}.1", user_agent=CHROME_WINDOWS)
    harness.flush()
    query = {**QUERY, "metrics": ["pageviews"], "dimensions": ["event:page"]}
    assert harness.results(query) == [("/c", 3), ("/b", 2), ("/a", 1)]
    assert harness.results({**query, "order_by": [["pageviews", "asc"]]}) == [("/a", 1), ("/b", 2), ("/c", 3)]
    assert harness.results({**query, "order_by": [["event:page", "desc"]]})[0] == ("/c", 3)
    assert harness.results({**query, "pagination": {"limit": 1, "offset": 1}}) == [("/b", 2)]
    echoed = harness.query(query).json()["query"]
    assert echoed["date_range"] == ["2026-11-20", "2026-11-20"]
    assert echoed["pagination"] == {"limit": 10000, "offset": 0}


def test_empty_period_gives_one_zero_row(harness: Harness) -> None:
    harness.add_site(SITE)
    assert harness.results({**QUERY, "metrics": ["visitors", "pageviews", "events"]}) == [(0, 0, 0)]


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("day", "2026-11-25", "2026-11-25"),
        ("yesterday", "2026-11-24", "2026-11-24"),
        ("7d", "2026-11-19", "2026-11-25"),
        ("30d", "2026-10-27", "2026-11-25"),
        ("month", "2026-11-01", "2026-11-25"),
        ("last_month", "2026-10-01", "2026-10-31"),
        ("12mo", "2025-12-01", "2026-11-25"),
        ("year", "2026-01-01", "2026-11-25"),
    ],
)
def test_named_date_ranges(name: str, first: str, last: str) -> None:
    today = dt.date(2026, 11, 25)
    assert resolve_date_range(name, today) == (dt.date.fromisoformat(first), dt.date.fromisoformat(last))


def test_twelve_months_across_new_year() -> None:
    assert resolve_date_range("12mo", dt.date(2026, 1, 15))[0] == dt.date(2025, 2, 1)
    with pytest.raises(QueryError):
        resolve_date_range(["2000-01-01", "2026-01-01"], dt.date(2026, 1, 15))


def test_all_and_datetime_ranges(harness: Harness) -> None:
    harness.add_site(SITE)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert harness.query({**QUERY, "date_range": "all"}).json()["query"]["date_range"][0] == today
    harness.pageview(SITE, "/a")  # at the harness clock, 2026-11-20 12:00:00 UTC
    harness.flush()
    assert harness.query({**QUERY, "date_range": "all"}).json()["query"]["date_range"][0] == "2026-11-20"
    # The time part counts, the second datetime being the last second (as in Plausible).
    raw = {**QUERY, "filters": [["is_not", "event:page", ["/nowhere"]]]}
    assert harness.results({**raw, "date_range": ["2026-11-20T11:30:00Z", "2026-11-20T12:00:00Z"]}) == [(1,)]
    assert harness.results({**raw, "date_range": ["2026-11-20T12:00:01Z", "2026-11-20T12:30:00Z"]}) == [(0,)]
    echoed = harness.query({**raw, "date_range": ["2026-11-20T13:00:00+01:00", "2026-11-20T13:30:00+01:00"]})
    assert echoed.json()["query"]["date_range"] == ["2026-11-20T12:00:00+00:00", "2026-11-20T12:30:00+00:00"]


def _pageviews_at(harness: Harness, moments: list[str]) -> None:
    """One pageview of / at each UTC time of 2026-11-20 (HH:MM), each visitor from its own network."""
    for index, moment in enumerate(moments):
        hour, minute = (int(part) for part in moment.split(":"))
        harness.now = dt.datetime(2026, 11, 20, hour, minute, tzinfo=dt.UTC).timestamp()
        harness.pageview(SITE, "/", ip=f"10.1.{index}.1")
    harness.now = dt.datetime(2026, 11, 20, 23, 0, tzinfo=dt.UTC).timestamp()
    harness.flush()


def test_datetime_ranges_inside_an_hour_count_only_their_minutes(harness: Harness) -> None:
    # Rollups hold whole hours: a range from 10:30 to 12:14:59 must not count 10:05 or 12:40.
    harness.add_site(SITE)
    _pageviews_at(harness, ["10:05", "10:45", "11:10", "12:05", "12:40"])
    inside = {
        **QUERY,
        "metrics": ["visitors", "pageviews"],
        "date_range": ["2026-11-20T10:30:00Z", "2026-11-20T12:14:59Z"],
    }
    assert harness.results(inside) == [(3, 3)]
    assert harness.query(inside).json()["meta"]["source"] == "events"
    by_hour = {**inside, "dimensions": ["time:hour"]}
    hours = [("2026-11-20 10:00:00", 1, 1), ("2026-11-20 11:00:00", 1, 1), ("2026-11-20 12:00:00", 1, 1)]
    assert harness.results(by_hour) == hours
    # Whole hours still come from the rollups, with the same numbers as events.
    whole = {**inside, "date_range": ["2026-11-20T10:00:00Z", "2026-11-20T12:59:59Z"]}
    assert harness.results(whole) == [(5, 5)]
    assert harness.query(whole).json()["meta"]["source"] == "rollup"
    minutes = {**whole, "metrics": ["pageviews"], "dimensions": ["time:minute"]}
    assert harness.results(minutes)[:2] == [("2026-11-20 10:05:00", 1), ("2026-11-20 10:45:00", 1)]


def test_time_labels_list_every_bucket(harness: Harness) -> None:
    # Plausible query_test "shows hourly data for a certain date with time_labels": rows only where there is
    # data, meta.time_labels every hour of the day.
    harness.add_site(SITE)
    _pageviews_at(harness, ["00:00", "00:10", "23:59"])
    body = {**QUERY, "metrics": ["pageviews"], "dimensions": ["time:hour"], "include": {"time_labels": True}}
    answer = harness.query(body).json()
    assert [row["dimensions"][0] for row in answer["results"]] == ["2026-11-20 00:00:00", "2026-11-20 23:00:00"]
    assert answer["meta"]["time_labels"] == [f"2026-11-20 {hour:02d}:00:00" for hour in range(24)]
    month = {**body, "dimensions": ["time:day"], "date_range": ["2026-11-01", "2026-11-30"]}
    labels = harness.query(month).json()["meta"]["time_labels"]
    assert len(labels) == 30 and labels[0] == "2026-11-01" and labels[-1] == "2026-11-30"
    # Weeks start on Monday; the first is cut at the range's first day, as the rows are.
    weeks = {**body, "dimensions": ["time:week"], "date_range": ["2026-11-04", "2026-11-20"]}
    answer = harness.query(weeks).json()
    assert answer["meta"]["time_labels"] == ["2026-11-04", "2026-11-09", "2026-11-16"]
    assert [row["dimensions"][0] for row in answer["results"]] == ["2026-11-16"]
    # "time" over 22 months is months (Plausible's thresholds), the first cut at the range's first day.
    months = {**body, "dimensions": ["time"], "date_range": ["2025-01-15", "2026-11-20"]}
    answer = harness.query(months).json()
    assert answer["query"]["dimensions"] == ["time"]
    labels = answer["meta"]["time_labels"]
    assert labels[:2] == ["2025-01-15", "2025-02-01"] and labels[-1] == "2026-11-01" and len(labels) == 23
    assert [row["dimensions"][0] for row in answer["results"]] == ["2026-11-01"]
    assert "time_labels" not in harness.query({**body, "include": {}}).json()["meta"]


def test_time_labels_in_a_zone_off_utc_by_half_an_hour(harness: Harness) -> None:
    harness.add_site(SITE, "Asia/Kolkata")
    body = {**QUERY, "metrics": ["pageviews"], "dimensions": ["time:hour"], "include": {"time_labels": True}}
    labels = harness.query(body).json()["meta"]["time_labels"]
    assert labels == [f"2026-11-20 {hour:02d}:00:00" for hour in range(24)]


def test_total_rows_counts_rows_beyond_the_page(harness: Harness) -> None:
    harness.add_site(SITE)
    for index, path in enumerate(["/a", "/b", "/b", "/c", "/c", "/c"]):
        harness.pageview(SITE, path, ip=f"10.0.{index}.1", user_agent=CHROME_WINDOWS)
    harness.flush()
    body = {
        **QUERY,
        "metrics": ["pageviews"],
        "dimensions": ["event:page"],
        "pagination": {"limit": 1, "offset": 1},
        "include": {"total_rows": True},
    }
    answer = harness.query(body).json()
    assert [row["dimensions"] for row in answer["results"]] == [["/b"]]
    assert answer["meta"]["total_rows"] == 3
    assert "total_rows" not in harness.query({**body, "include": {}}).json()["meta"]
