"""Dashboard periods: the picker's choices, their dates, the previous period and the chart's buckets."""

import datetime as dt
from dataclasses import dataclass

from dashboard.query import resolve_date_range
from dashboard.translatable import N_
from storage.dates import month_start

# Picker value → (label, Stats API date_range); labels are English, translated where they are shown.
PERIODS: dict[str, tuple[str, str]] = {
    "day": (N_("Today"), "day"),
    "yesterday": (N_("Yesterday"), "yesterday"),
    "7d": (N_("Last 7 days"), "7d"),
    "30d": (N_("Last 30 days"), "30d"),
    "month": (N_("This month"), "month"),
    "last_month": (N_("Last month"), "last_month"),
    "12mo": (N_("Last 12 months"), "12mo"),
}
DEFAULT_PERIOD = "30d"
CUSTOM = "custom"


@dataclass(frozen=True)
class Period:
    """A chosen period: its picker value, label, first and last day (inclusive)."""

    value: str
    label: str
    first: dt.date
    last: dt.date

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.last - self.first).days + 1

    @property
    def date_range(self) -> list[str]:
        """The period as an explicit Stats API date_range."""
        return [self.first.isoformat(), self.last.isoformat()]

    @property
    def interval(self) -> str:
        """Chart bucket: hours for one day, months beyond 95 days, else days."""
        if self.days == 1:
            return "time:hour"
        return "time:month" if self.days > 95 else "time:day"


def parse_period(value: str | None, first: str | None, last: str | None, today: dt.date) -> Period:
    """The period a URL asks for; unknown values fall back to the default, a bad custom range raises QueryError."""
    if value == CUSTOM:
        start, end = resolve_date_range([first or "", last or ""], today)
        return Period(CUSTOM, f"{start.isoformat()} – {end.isoformat()}", start, end)
    if value not in PERIODS:
        value = DEFAULT_PERIOD
    label, name = PERIODS[value]
    start, end = resolve_date_range(name, today)
    return Period(value, label, start, end)


def previous_period(period: Period) -> Period:
    """The period compared with: the month(s) before for calendar months, else as many days just before."""
    if period.value == "last_month":
        last = period.first - dt.timedelta(days=1)
        return Period("previous", N_("Previous month"), last.replace(day=1), last)
    if period.value == "12mo":
        first = month_start(period.first, 12)
        return Period("previous", N_("Previous 12 months"), first, period.first - dt.timedelta(days=1))
    if period.value == "month":
        first = month_start(period.first, 1)
        # This month so far against the same days of the month before (cut at that month's end).
        last = min(first + dt.timedelta(days=period.days - 1), period.first - dt.timedelta(days=1))
        return Period("previous", N_("Same days last month"), first, last)
    last = period.first - dt.timedelta(days=1)
    return Period("previous", N_("Previous period"), last - dt.timedelta(days=period.days - 1), last)


def buckets(period: Period, interval: str) -> list[str]:
    """Every bucket label of the period, as the Stats API names them, so empty buckets show as zero."""
    if interval == "time:hour":
        return [f"{day.isoformat()} {hour:02d}:00:00" for day in _days(period) for hour in range(24)]
    if interval == "time:month":
        months, day = [], period.first.replace(day=1)
        while day <= period.last:
            months.append(day.isoformat())
            day = month_start(day, -1)
        return months
    return [day.isoformat() for day in _days(period)]


def _days(period: Period) -> list[dt.date]:
    """Every day of the period."""
    return [period.first + dt.timedelta(days=i) for i in range(period.days)]
