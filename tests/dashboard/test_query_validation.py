"""Validation of Stats API v2 queries, without a database: errors name the JSON path as Plausible's do.

Cases marked "Plausible:" are ported from plausible/analytics, from test/plausible/stats/query_parser_test.exs
(QP), test/plausible_web/controllers/api/external_stats_controller/query_validations_test.exs (QV) and
test/plausible/stats/query_optimizer_test.exs (QO), named by their test.
"""

import datetime as dt
import json
from typing import Any

import pytest

from dashboard.query import (
    Filter,
    FilterNode,
    Include,
    QueryError,
    StatsQuery,
    natural_interval,
    parse_query,
)
from dashboard.registry import DIMENSIONS

SITE = "site.test"
# Plausible's tests run at 2021-05-05 12:30 UTC.
TODAY = dt.date(2021, 5, 5)


def parse(body: dict[str, Any], timezone: str = "UTC", first_day: dt.date | None = None) -> StatsQuery:
    """parse_query on one site, today being TODAY there."""
    return parse_query(body, {SITE: timezone}, lambda tz: TODAY, lambda site: first_day)


def query(timezone: str = "UTC", **fields: Any) -> StatsQuery:
    """A body with the required fields (visitors over `all`) and the given ones parsed."""
    return parse({"site_id": SITE, "metrics": ["visitors"], "date_range": "all", **fields}, timezone)


def error_of(body: dict[str, Any]) -> str:
    """The QueryError message of an invalid body."""
    with pytest.raises(QueryError) as raised:
        parse(body)
    return str(raised.value)


def error(**fields: Any) -> str:
    """The error of a body with the required fields and the given ones."""
    return error_of({"site_id": SITE, "metrics": ["visitors"], "date_range": "all", **fields})


def show(value: Any) -> str:
    """A JSON value as the messages quote it."""
    return json.dumps(value, separators=(", ", ": "))


def unix(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp())


# --- Top level -----------------------------------------------------------------------------------------


def test_empty_body_names_the_required_properties() -> None:
    # Plausible QP "parsing empty map fails".
    assert error_of({}) == "#: Required properties site_id, metrics, date_range were not present."
    assert error_of({"site_id": SITE, "metrics": ["visitors"]}) == "#: Required property date_range was not present."


def test_unknown_top_level_fields_are_refused() -> None:
    # Plausible QP "date parameter is not available in the public API".
    assert error(date="2021-05-05") == "#/date: Schema does not allow additional properties."
    assert error_of([]) == "#: Type mismatch. Expected Object but got Array."


def test_site_id() -> None:
    assert error(site_id=None) == "#/site_id: Type mismatch. Expected String but got Null."
    assert error(site_id="") == "#/site_id: site_id is required"
    assert error(site_id="other.test") == '#/site_id: site "other.test" is not registered'


# --- Metrics -------------------------------------------------------------------------------------------


def test_valid_metrics() -> None:
    # Plausible QP "valid metrics passed" and "fuller list of metrics".
    assert query(metrics=["visitors", "events"]).metrics == ("visitors", "events")
    fuller = ["time_on_page", "visitors", "pageviews", "visits", "events", "bounce_rate", "visit_duration"]
    assert query(metrics=fuller).metrics == tuple(fuller)


def test_invalid_metrics() -> None:
    # Plausible QP "invalid metric passed", QV "fails when an invalid metric is provided".
    assert error(metrics=["visitors", "event:name"]) == '#/metrics/1: Invalid metric "event:name"'
    assert error(metrics=["visitors", "baa"]) == '#/metrics/1: Invalid metric "baa"'
    # Plausible QP "same metric queried multiple times", QV "validates a metric can't be asked multiple times".
    assert (
        error(metrics=["events", "visitors", "visitors"]) == "#/metrics: Expected items to be unique but they were not."
    )
    # Plausible QP "no metrics passed" (Plausible says "Expected a minimum of 1 items but got 0.").
    assert error(metrics=[]).startswith("#/metrics: ")
    assert error(metrics="visitors") == "#/metrics: Type mismatch. Expected Array but got String."
    assert error(metrics=["visitors", 3]) == "#/metrics/1: Type mismatch. Expected String but got Integer."


def test_visit_metrics_combine_with_every_dimension_and_filter() -> None:
    # Teller's planner answers every metric with every dimension (Plausible QP "does not fail if using session
    # metric with event:page dimension" and "... with event filter"); the old refusals are gone.
    assert query(metrics=["visits"], dimensions=["event:page"]).dimensions == ("event:page",)
    assert query(metrics=["bounce_rate"], filters=[["is", "event:name", ["Signup"]]]).filters
    assert query(metrics=["pageviews"], dimensions=["visit:entry_page"]).dimensions == ("visit:entry_page",)
    assert query(metrics=["bounce_rate"], dimensions=["event:props:foo"]).dimensions == ("event:props:foo",)
    assert query(metrics=["bounce_rate"], filters=[["is", "event:props:foo", ["(none)"]]]).filters


@pytest.mark.parametrize(
    "change",
    [
        {"metrics": ["searches", "visitors"]},
        {"dimensions": ["search:term", "event:page"]},
        {"filters": [["is", "event:page", ["/sok"]]]},
        {"filters": [["not", ["contains", "search:term", ["a"]]]]},
        {"metrics": ["visitors"], "filters": [["or", [["is", "search:term", ["a"]]]]]},
    ],
)
def test_search_terms_stand_alone(change: dict[str, Any]) -> None:
    body = {"site_id": SITE, "metrics": ["searches"], "date_range": "day", "dimensions": ["search:term"], **change}
    assert "only date_range narrows them" in error_of(body)


# --- Filters -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("operator", ["is", "is_not", "matches", "matches_not", "contains", "contains_not"])
def test_each_operator(operator: str) -> None:
    # Plausible QP "#{operation} filter" and "#{operation} filter with invalid clause".
    assert query(filters=[[operator, "event:name", ["foo"]]]).filters == (Filter(operator, "event:name", ("foo",)),)
    assert error(filters=[[operator, "event:name", "foo"]]).startswith(
        f'#/filters/0: Invalid filter ["{operator}", "event:name", "foo"]'
    )


@pytest.mark.parametrize("operator", ["matches_wildcard", "matches_wildcard_not", "exists?"])
def test_unknown_operators(operator: str) -> None:
    # Plausible QP "#{operation} is not a valid filter operation in public API", "filtering by invalid operation".
    message = error(filters=[[operator, "event:name", ["foo"]]])
    assert message.startswith(f'#/filters/0: Invalid filter ["{operator}", "event:name", ["foo"]]: unknown operator')


VALID_FILTER = ["is", "event:props:foobar", ["value"]]


@pytest.mark.parametrize(
    "bad",
    [
        # Plausible QP "errors on too short filter ...".
        [],
        ["and"],
        ["or"],
        ["and", []],
        ["or", []],
        ["not"],
        ["is_not"],
        ["is_not", "event:name"],
        # Plausible QP "errors on too long filter ...".
        ["and", [VALID_FILTER], "extra"],
        ["or", [VALID_FILTER], []],
        ["not", VALID_FILTER, 1],
        [*VALID_FILTER, True],
        # Plausible QP "invalid `or` clause".
        ["or", []],
    ],
)
def test_malformed_filters(bad: list[Any]) -> None:
    assert error(filters=[bad]).startswith(f"#/filters/0: Invalid filter {show(bad)}")


def test_errors_inside_a_tree_name_their_path() -> None:
    # Plausible QP "invalid `not` clause" (Plausible names the outer filter, #/filters/0, for all of them).
    assert error(filters=[["not", []]]).startswith("#/filters/0/1: Invalid filter []")
    tree = ["and", [["is", "event:page", ["/"]], ["or", [["is", "visit:nope", ["x"]]]]]]
    assert error(filters=[VALID_FILTER, tree]).startswith('#/filters/1/1/1/1/0: Invalid filter ["is", "visit:nope"')


def test_filters_must_be_a_list() -> None:
    # Plausible QP "invalid filter".
    assert error(filters="foobar") == "#/filters: Type mismatch. Expected Array but got String."


def test_filtering_by_custom_properties() -> None:
    # Plausible QP "filtering by custom properties".
    assert query(filters=[VALID_FILTER]).filters == (Filter("is", "event:props:foobar", ("value",)),)
    assert error(filters=[["is", "event:props:", ["x"]]]).startswith(
        '#/filters/0: Invalid filter ["is", "event:props:"'
    )


@pytest.mark.parametrize("name", sorted(DIMENSIONS))
def test_filtering_by_every_declared_dimension(name: str) -> None:
    # Plausible QP "filtering by event:#{dimension} filter" / "visit:#{dimension} filter" (a real country code
    # for visit:country, where Plausible only checks the length).
    value = "NO" if name == "visit:country" else "foo"
    assert query(filters=[["is", name, [value]]]).filters == (Filter("is", name, (value,)),)


@pytest.mark.parametrize("name", ["event:device", "visit:name", "time:day", "time"])
def test_filtering_by_unknown_dimensions(name: str) -> None:
    # Plausible QP "invalid event filter", "invalid visit filter".
    assert error(filters=[["is", name, ["foo"]]]).startswith(f'#/filters/0: Invalid filter ["is", "{name}", ["foo"]]')


def test_filter_values() -> None:
    # Plausible QP "numeric filter is invalid".
    assert "Invalid filter" in error(filters=[["is", "visit:os_version", [123]]])
    assert "1 to 100 values" in error(filters=[["is", "event:page", []]])
    assert "1 to 100 values" in error(filters=[["is", "event:page", ["/"] * 101]])
    assert "1 to 100 values" in error(filters=[["is", "event:page", ["x" * 2001]]])
    several = query(filters=[["is", "event:page", ["/a", "/b", "/c"]]]).filters
    assert several == (Filter("is", "event:page", ("/a", "/b", "/c")),)


def test_country_codes() -> None:
    # Plausible QP "invalid visit:country filter", QV "handles filtering by visit:country with invalid country code".
    expected = "#/filters/0: Invalid visit:country filter, visit:country needs to be a valid 2-letter country code."
    assert error(filters=[["is", "visit:country", ["USA"]]]) == expected
    assert error(filters=[["is_not", "visit:country", ["NO", "Norway"]]]) == expected
    assert error(filters=[["is", "visit:country", ["AB"]]]) == expected  # two letters, but no code
    # Assigned codes in either case, ISO's user-assigned ones (XK for Kosovo, ZZ), and "" (unknown country).
    assert query(filters=[["is", "visit:country", ["NO", "se", "XK", "ZZ", ""]]]).filters
    # Partial values are what contains and matches are for.
    assert query(filters=[["contains", "visit:country", ["N"]], ["matches", "visit:country", ["^N"]]]).filters


def test_nested_and_or_not() -> None:
    # Plausible QP "valid nested `not`, `and` and `or`" (with Teller's dimensions: no city or country names).
    parsed = query(
        filters=[
            [
                "or",
                [
                    ["and", [["is", "visit:browser", ["Firefox"]], ["is", "visit:country", ["EE"]]]],
                    ["not", ["is", "visit:country", ["EE"]]],
                ],
            ]
        ]
    )
    firefox, estonia = Filter("is", "visit:browser", ("Firefox",)), Filter("is", "visit:country", ("EE",))
    expected = FilterNode("or", (FilterNode("and", (firefox, estonia)), FilterNode("not", (estonia,))))
    assert parsed.filters == (expected,)
    # Plausible QP "event:hostname filter"; unlike Plausible, a hostname filter may also be nested.
    assert query(filters=[["is", "event:hostname", ["a.plausible.io"]]]).filters
    assert query(filters=[["not", ["is", "event:hostname", ["a.plausible.io"]]]]).filters


def test_filters_nest_a_bounded_depth() -> None:
    tree: list[Any] = VALID_FILTER
    for _ in range(9):
        tree = ["not", tree]
    assert query(filters=[tree]).filters
    assert "nest at most 10 deep" in error(filters=[["not", tree]])


@pytest.mark.parametrize("operator", ["is", "contains", "is_not", "contains_not", "matches", "matches_not"])
def test_case_sensitive_modifier(operator: str) -> None:
    # Plausible QP "#{operation} allows case_sensitive modifier"; unlike Plausible (QP "case_sensitive modifier is
    # not valid for matches"), the regex operators take it too and match with (?i).
    parsed = query(
        filters=[
            [operator, "event:page", ["/foo"], {"case_sensitive": False}],
            [operator, "event:name", ["/foo"], {"case_sensitive": True}],
        ]
    )
    assert parsed.filters == (
        Filter(operator, "event:page", ("/foo",), case_sensitive=False),
        Filter(operator, "event:name", ("/foo",), case_sensitive=True),
    )
    echoed = parsed.echo()["filters"]
    assert echoed == [[operator, "event:page", ["/foo"], {"case_sensitive": False}], [operator, "event:name", ["/foo"]]]


@pytest.mark.parametrize("modifiers", [{"case_sensitive": "no"}, {"case": False}, [], None])
def test_bad_modifiers(modifiers: Any) -> None:
    assert "the only modifier is" in error(filters=[["is", "event:page", ["/"], modifiers]])


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(", "invalid regular expression"),
        ("a**", "invalid regular expression"),
        ("(?=a)", "lookahead and lookbehind"),
        ("(?<!a)b", "lookahead and lookbehind"),
        ("(a)\\1", "backreferences"),
        ("(?P<n>a)(?P=n)", "backreferences"),
        ("(?>a)", "atomic groups"),
        ("a++", "possessive"),
        ("a{2}+", "possessive"),
        ("(?x)a", "the flag (?x)"),
        ("a\\Z", "\\Z is not supported"),
        ("\\u0041", "\\u escapes"),
        ("a{1001}", "at most 1000"),
        ("a{,3}", "write {0,3}"),
    ],
)
def test_regexes_re2_refuses_are_400(pattern: str, reason: str) -> None:
    message = error(filters=[["matches_not", "event:page", ["^/ok$", pattern]]])
    assert message.startswith('#/filters/0: Invalid filter ["matches_not", "event:page", ["^/ok$", ')
    assert reason in message


def test_regexes_re2_accepts() -> None:
    patterns = ["^/blog/[a-z0-9-]+$", "(?i)^/Shop", "\\pL+", "\\p{Greek}", "a\\z", "[[:alpha:]]", "(?P<n>x)", "\\\\1"]
    assert query(filters=[["matches", "event:page", patterns]]).filters[0].values == tuple(patterns)


def test_top_level_filters_stay_a_tuple() -> None:
    parsed = query(filters=[["is", "event:page", ["/a"]], ["contains", "event:page", ["b"]]])
    assert isinstance(parsed.filters, tuple) and len(parsed.filters) == 2
    assert query().filters == ()


# --- Dimensions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*sorted(DIMENSIONS), "event:props:foobar", "time:hour", "time:day", "time:week"])
def test_declared_dimensions(name: str) -> None:
    # Plausible QP "event:#{dimension} dimension", "visit:#{dimension} dimension", "custom properties dimension".
    assert query(dimensions=[name]).dimensions == (name,)


def test_invalid_dimensions() -> None:
    # Plausible QP "invalid custom property dimension", QV "empty custom property is invalid".
    assert error(dimensions=["event:props:"]) == '#/dimensions/0: Invalid dimension "event:props:"'
    # Plausible QP "invalid dimension name passed", QV "validates that dimensions are valid".
    assert error(dimensions=["visitors"]) == '#/dimensions/0: Invalid dimension "visitors"'
    assert error(dimensions=["event:page", "badproperty"]) == '#/dimensions/1: Invalid dimension "badproperty"'
    # Plausible QP "invalid dimension".
    assert error(dimensions="foobar") == "#/dimensions: Type mismatch. Expected Array but got String."
    # Plausible QP "dimensions are not unique".
    assert (
        error(dimensions=["event:name", "event:name"]) == "#/dimensions: Expected items to be unique but they were not."
    )
    assert "at most one time dimension" in error(dimensions=["time", "time:day"])
    assert "at most four" in error(dimensions=["event:page", "event:name", "visit:os", "visit:device", "visit:browser"])


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        # Plausible QO "updating time dimension" (whole UTC days, inclusive).
        ("2022-01-01", "2022-01-01", "time:hour"),
        ("2022-01-01", "2022-01-02", "time:hour"),
        ("2022-01-01", "2022-01-03", "time:day"),
        ("2022-01-01", "2022-01-10", "time:day"),
        ("2022-01-01", "2022-01-16", "time:day"),
        ("2022-01-01", "2022-02-16", "time:week"),
        ("2022-01-01", "2022-03-16", "time:week"),
        ("2022-01-01", "2023-11-16", "time:month"),
        ("2022-01-01", "2024-01-16", "time:month"),
        ("2022-01-01", "2026-01-01", "time:month"),
        # The edges: 41 days are still days, 42 weeks; 365 days are weeks, 372 months.
        ("2022-01-01", "2022-02-10", "time:day"),
        ("2022-01-01", "2022-02-11", "time:week"),
        ("2022-01-01", "2022-12-31", "time:week"),
        ("2022-01-01", "2023-01-07", "time:month"),
    ],
)
def test_time_is_the_natural_bucket_of_the_range(first: str, last: str, expected: str) -> None:
    parsed = query(dimensions=["time"], date_range=[first, last])
    assert parsed.dimensions == (expected,) and parsed.natural_time
    assert parsed.order_by == ((expected, "asc"),)
    assert parsed.echo()["dimensions"] == ["time"] and parsed.echo()["order_by"] == [["time", "asc"]]


def test_time_of_a_datetime_range() -> None:
    # Plausible QO "updating time dimension" (first case) and "updates explicit time dimension in order_by".
    range_ = ["2022-01-01T00:00:00Z", "2022-01-01T05:00:00Z"]
    parsed = query(dimensions=["time"], date_range=range_, order_by=[["time", "desc"]])
    assert parsed.dimensions == ("time:hour",) and parsed.order_by == (("time:hour", "desc"),)
    assert natural_interval(0, 49 * 3600) == "time:hour" and natural_interval(0, 49 * 3600 + 1) == "time:day"


def test_explicit_time_dimensions_stay() -> None:
    # Plausible QO "does nothing if `time` dimension not passed".
    parsed = query(dimensions=["time:month"], date_range=["2022-01-01", "2022-01-04"])
    assert parsed.dimensions == ("time:month",) and not parsed.natural_time
    assert parsed.echo()["dimensions"] == ["time:month"]


def test_minutes_only_for_a_day_or_less() -> None:
    assert query(dimensions=["time:minute"], date_range="day").dimensions == ("time:minute",)
    hours = query(dimensions=["time:minute"], date_range=["2021-05-04T12:00:00Z", "2021-05-05T11:59:59Z"])
    assert hours.dimensions == ("time:minute",)
    assert "only for ranges of a day or less" in error(dimensions=["time:minute"], date_range="7d")


# --- Order and pagination ------------------------------------------------------------------------------


def test_order_by() -> None:
    # Plausible QP "ordering by metric", "ordering by dimension".
    assert query(metrics=["visitors", "events"], order_by=[["events", "desc"], ["visitors", "asc"]]).order_by == (
        ("events", "desc"),
        ("visitors", "asc"),
    )
    assert query(dimensions=["event:name"], order_by=[["event:name", "desc"]]).order_by == (("event:name", "desc"),)
    # Plausible QP "ordering by invalid value".
    assert error(order_by=[["visssss", "desc"]]) == '#/order_by/0/0: Invalid value in order_by "visssss"'
    # Plausible QP "ordering by not queried metric", "ordering by not queried dimension".
    assert error(order_by=[["events", "desc"]]) == (
        '#/order_by/0: Invalid order_by entry ["events", "desc"]. Entry is not a queried metric or dimension.'
    )
    assert error(order_by=[["event:name", "desc"]]).endswith("Entry is not a queried metric or dimension.")
    assert error(order_by=[["visitors", "sideways"]]).startswith("#/order_by/0/1: ")


def test_pagination() -> None:
    # Plausible QP "setting pagination values", "out of range limit value", "out of range offset value".
    parsed = query(dimensions=["time"], pagination={"limit": 100, "offset": 200})
    assert (parsed.limit, parsed.offset) == (100, 200)
    assert error(pagination={"limit": 100_000}).startswith("#/pagination/limit: ")
    assert error(pagination={"offset": -5}).startswith("#/pagination/offset: ")
    assert error(pagination={"page": 2}) == "#/pagination/page: Schema does not allow additional properties."


# --- include -------------------------------------------------------------------------------------------


def test_include() -> None:
    # Plausible QP "setting include values".
    parsed = query(dimensions=["time"], include={"imports": True, "time_labels": True, "total_rows": True})
    assert parsed.include == Include(time_labels=True, total_rows=True, imports=True)
    assert query().include == Include()
    assert query(include={"total_rows": True}).echo()["include"] == {
        "time_labels": False,
        "total_rows": True,
        "imports": False,
    }
    # Plausible QP "setting invalid imports value".
    assert error(include="foobar") == "#/include: Type mismatch. Expected Object but got String."
    # Plausible QP "setting include.time_labels without time dimension".
    assert error(include={"time_labels": True}) == "Invalid include.time_labels: requires a time dimension."
    # Plausible QP "include.comparisons not allowed in public API".
    comparisons = {"comparisons": {"mode": "previous_period"}}
    assert error(include=comparisons) == "#/include/comparisons: Schema does not allow additional properties."
    assert error(include={"imports": "yes"}) == "#/include/imports: Type mismatch. Expected Boolean but got String."


# --- Date ranges ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        # Plausible QP "parsing shortcut options": the same names, but Teller's ranges end today (Plausible's
        # month and year run to the calendar's end) and "30d" is 30 days with today (Plausible's are 31).
        ("day", "2021-05-05", "2021-05-05"),
        ("7d", "2021-04-29", "2021-05-05"),
        ("28d", "2021-04-08", "2021-05-05"),
        ("30d", "2021-04-06", "2021-05-05"),
        ("91d", "2021-02-04", "2021-05-05"),
        ("month", "2021-05-01", "2021-05-05"),
        ("6mo", "2020-12-01", "2021-05-05"),
        ("12mo", "2020-06-01", "2021-05-05"),
        ("year", "2021-01-01", "2021-05-05"),
    ],
)
def test_named_ranges(name: str, first: str, last: str) -> None:
    parsed = query(date_range=name)
    assert (parsed.first_day.isoformat(), parsed.last_day.isoformat()) == (first, last)
    assert (parsed.start, parsed.end) == (unix(f"{first}T00:00:00+00:00"), unix(f"{last}T00:00:00+00:00") + 86400)


def test_all_runs_from_the_first_stored_day() -> None:
    # Plausible QP "parsing `all` with previous data" and "parsing `all` with no previous data".
    body = {"site_id": SITE, "metrics": ["visitors"], "date_range": "all"}
    assert (parse(body, first_day=dt.date(2020, 1, 1)).first_day, parse(body).last_day) == (dt.date(2020, 1, 1), TODAY)
    assert (parse(body).first_day, parse(body).last_day) == (TODAY, TODAY)
    # Without a lookup (the dashboard's own queries), and held to the ten years every range is held to.
    assert parse_query(body, {SITE: "UTC"}, lambda tz: TODAY).first_day == TODAY
    assert parse(body, first_day=dt.date(1980, 1, 1)).first_day == TODAY - dt.timedelta(days=3660)


def test_realtime_ranges_are_not_offered() -> None:
    # Plausible QP "30m and realtime date_ranges are unavailable in public API".
    for name in ("realtime", "30m"):
        assert error(date_range=name).startswith(f'#/date_range: Invalid date range "{name}"')


def test_invalid_date_ranges() -> None:
    # Plausible QP "parsing invalid custom date range with invalid dates", QV "validates that correct date range
    # is used".
    assert error(date_range="foo").startswith('#/date_range: Invalid date range "foo"')
    assert error(date_range="bad_period").startswith('#/date_range: Invalid date range "bad_period"')
    assert error(date_range=["21415-00", "eee"]).startswith('#/date_range: Invalid date range ["21415-00", "eee"]')
    assert "YYYY-MM-DD" in error(date_range=["2021-W18-1", "2021-05-05"])
    # Today's bounds and messages.
    assert "ends before it starts" in error(date_range=["2021-05-05", "2021-05-01"])
    assert "between 1990-01-01 and 2099-12-31" in error(date_range=["1989-12-31", "2021-05-05"])
    assert "more than ten years" in error(date_range=["2000-01-01", "2021-05-05"])


def test_date_pairs() -> None:
    # Plausible QP "parsing custom date range from simple date strings".
    parsed = query(date_range=["2021-05-05", "2021-05-05"])
    assert (parsed.first_day, parsed.last_day) == (TODAY, TODAY)
    assert (parsed.start, parsed.end) == (unix("2021-05-05T00:00:00+00:00"), unix("2021-05-06T00:00:00+00:00"))
    assert parsed.echo()["date_range"] == ["2021-05-05", "2021-05-05"]


def test_datetime_pairs_keep_their_time() -> None:
    # Plausible QP "parsing custom date range from iso8601 timestamps": the second datetime is the last second.
    parsed = query(date_range=["2024-01-01T00:00:00Z", "2024-01-02T23:59:59Z"])
    assert (parsed.start, parsed.end) == (unix("2024-01-01T00:00:00+00:00"), unix("2024-01-03T00:00:00+00:00"))
    parsed = query(date_range=["2024-08-29T07:12:34-07:00", "2024-08-29T10:12:34-07:00"])
    assert (parsed.start, parsed.end) == (unix("2024-08-29T14:12:34+00:00"), unix("2024-08-29T17:12:34+00:00") + 1)
    # first_day/last_day are the site's local dates covering the range.
    oslo = query("Europe/Oslo", date_range=["2024-01-01T10:00:00+01:00", "2024-01-01T12:00:00+01:00"])
    assert (oslo.first_day, oslo.last_day) == (dt.date(2024, 1, 1), dt.date(2024, 1, 1))
    assert oslo.end - oslo.start == 2 * 3600 + 1
    assert oslo.echo()["date_range"] == ["2024-01-01T10:00:00+01:00", "2024-01-01T12:00:00+01:00"]
    late = query("Europe/Oslo", date_range=["2024-01-01T23:00:00Z", "2024-01-02T22:59:59Z"])
    assert (late.first_day, late.last_day) == (dt.date(2024, 1, 2), dt.date(2024, 1, 2))
    assert late.echo()["date_range"] == ["2024-01-02", "2024-01-02"]  # exactly the local day


def test_invalid_datetime_pairs() -> None:
    # Plausible QP "custom date range is invalid when timestamps do not include timezone info".
    assert "need a UTC offset" in error(date_range=["2021-02-03T00:00:00", "2021-02-03T23:59:59"])
    # Plausible QP "custom date range is invalid when timestamp timezone is invalid".
    message = error(date_range=["2021-02-03T00:00:00-25:00", "2021-02-03T23:59:59-25:00"])
    assert message.startswith('#/date_range: Invalid date range ["2021-02-03T00:00:00-25:00", ')
    # Plausible QP "custom date range is invalid when date and timestamp are combined".
    message = error(date_range=["2021-02-03T00:00:00Z", "2021-02-04"])
    assert message.startswith('#/date_range: Invalid date range ["2021-02-03T00:00:00Z", "2021-02-04"]')
    assert "ends before it starts" in error(date_range=["2021-02-03T10:00:00Z", "2021-02-03T09:59:59Z"])
    assert "between 1990-01-01" in error(date_range=["1989-12-31T12:00:00Z", "2021-02-03T09:59:59Z"])


def test_days_across_clock_changes() -> None:
    # Plausible QP "parses date_range.first into a datetime right after the gap in site.timezone": the same.
    santiago = query("America/Santiago", date_range=["2022-09-11", "2022-09-11"])
    assert (santiago.start, santiago.end) == (unix("2022-09-11T04:00:00+00:00"), unix("2022-09-12T03:00:00+00:00"))
    # Plausible QP "parses date_range.first into the latest of ambiguous datetimes" and "... last into the earliest
    # of ambiguous datetimes": Teller's day is every instant of that local date, so it keeps both copies of a
    # repeated hour that Plausible's range cuts off.
    havana = query("America/Havana", date_range=["2023-11-05", "2023-11-05"])
    assert (havana.start, havana.end) == (unix("2023-11-05T04:00:00+00:00"), unix("2023-11-06T05:00:00+00:00"))
    asuncion = query("America/Asuncion", date_range=["2024-03-23", "2024-03-23"])
    assert (asuncion.start, asuncion.end) == (unix("2024-03-23T03:00:00+00:00"), unix("2024-03-24T04:00:00+00:00"))


def test_statsquery_built_from_days_computes_its_bounds() -> None:
    built = StatsQuery(SITE, "Europe/Oslo", ("visitors",), (), dt.date(2024, 1, 1), dt.date(2024, 1, 2))
    assert (built.start, built.end) == (unix("2024-01-01T00:00:00+01:00"), unix("2024-01-03T00:00:00+01:00"))
