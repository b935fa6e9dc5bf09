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
