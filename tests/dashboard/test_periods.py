"""Dashboard periods: picker values, the period compared with, chart buckets, and which days daily rollups answer."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dashboard.periods import buckets, parse_period, previous_period
from dashboard.query import QueryError
from dashboard.rollup_days import split_period

TODAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    ("value", "first", "last", "before_first", "before_last", "interval"),
    [
        ("day", "2026-11-25", "2026-11-25", "2026-11-24", "2026-11-24", "time:hour"),
        ("yesterday", "2026-11-24", "2026-11-24", "2026-11-23", "2026-11-23", "time:hour"),
        ("7d", "2026-11-19", "2026-11-25", "2026-11-12", "2026-11-18", "time:day"),
        ("30d", "2026-10-27", "2026-11-25", "2026-09-27", "2026-10-26", "time:day"),
        ("month", "2026-11-01", "2026-11-25", "2026-10-01", "2026-10-25", "time:day"),
        ("last_month", "2026-10-01", "2026-10-31", "2026-09-01", "2026-09-30", "time:day"),
        ("12mo", "2025-12-01", "2026-11-25", "2024-12-01", "2025-11-30", "time:month"),
        ("nonsense", "2026-10-27", "2026-11-25", "2026-09-27", "2026-10-26", "time:day"),
    ],
)
def test_periods_and_what_they_are_compared_with(
    value: str, first: str, last: str, before_first: str, before_last: str, interval: str
) -> None:
    period = parse_period(value, None, None, TODAY)
    assert period.date_range == [first, last]
    assert previous_period(period).date_range == [before_first, before_last]
    assert period.interval == interval


def test_custom_range() -> None:
    period = parse_period("custom", "2026-01-01", "2026-03-31", TODAY)
    assert period.days == 90 and period.interval == "time:day"
    assert previous_period(period).date_range == ["2025-10-03", "2025-12-31"]
    assert parse_period("custom", "2025-01-01", "2026-03-31", TODAY).interval == "time:month"
    with pytest.raises(QueryError):
        parse_period("custom", "2026-03-31", "2026-01-01", TODAY)
    with pytest.raises(QueryError):
        parse_period("custom", "yesterday", None, TODAY)


def test_this_month_compares_with_the_same_days_cut_at_the_months_end() -> None:
    period = parse_period("month", None, None, dt.date(2026, 3, 31))
    assert previous_period(period).date_range == ["2026-02-01", "2026-02-28"]


def test_buckets_cover_the_period() -> None:
    day = parse_period("day", None, None, TODAY)
    assert buckets(day, "time:hour")[0] == "2026-11-25 00:00:00" and len(buckets(day, "time:hour")) == 24
    year = parse_period("12mo", None, None, TODAY)
    months = buckets(year, "time:month")
    assert months[0] == "2025-12-01" and months[-1] == "2026-11-01" and len(months) == 12


def _unix(year: int, month: int, day: int, tz: str) -> int:
    return int(dt.datetime(year, month, day, tzinfo=ZoneInfo(tz)).timestamp())


def test_whole_utc_months_and_days_come_from_the_coarser_rollups() -> None:
    months, days, hours = split_period(_unix(2026, 11, 1, "UTC"), _unix(2026, 11, 8, "UTC"), "UTC", None)
    assert (months, days, hours) == ([], [(dt.date(2026, 11, 1), dt.date(2026, 11, 7))], [])
    # Oslo: the local week starts at 23:00 UTC; the first and last partial UTC days come from hours.
    start, end = _unix(2026, 11, 1, "Europe/Oslo"), _unix(2026, 11, 8, "Europe/Oslo")
    months, days, hours = split_period(start, end, "Europe/Oslo", None)
    assert days == [(dt.date(2026, 11, 1), dt.date(2026, 11, 6))]
    assert hours == [(start, start + 3600), (end - 23 * 3600, end)]
    # Local day buckets never hold a whole UTC day away from UTC; hours never use coarser rows.
    assert split_period(start, end, "Europe/Oslo", "time:day") == ([], [], [(start, end)])
    assert split_period(start, end, "UTC", "time:hour") == ([], [], [(start, end)])
    # Twelve months in UTC: eleven whole months, then this month's days.
    months, days, hours = split_period(_unix(2025, 12, 1, "UTC"), _unix(2026, 11, 26, "UTC"), "UTC", "time:month")
    assert months == [(dt.date(2025, 12, 1), dt.date(2026, 10, 1))]
    assert days == [(dt.date(2026, 11, 1), dt.date(2026, 11, 25))] and hours == []
    # In Oslo, month buckets cannot use UTC months; the UTC day straddling a local month's end is hours.
    months, days, hours = split_period(_unix(2026, 10, 1, "Europe/Oslo"), end, "Europe/Oslo", "time:month")
    assert months == []
    assert days == [(dt.date(2026, 10, 1), dt.date(2026, 10, 30)), (dt.date(2026, 11, 1), dt.date(2026, 11, 6))]
    assert len(hours) == 3
    # Without time buckets a whole UTC month inside a local period is used.
    months, days, _ = split_period(_unix(2026, 9, 15, "Europe/Oslo"), end, "Europe/Oslo", None)
    assert months == [(dt.date(2026, 10, 1), dt.date(2026, 10, 1))]
    assert days == [(dt.date(2026, 9, 15), dt.date(2026, 9, 30)), (dt.date(2026, 11, 1), dt.date(2026, 11, 6))]
