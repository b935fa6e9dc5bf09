"""Which parts of a period each rollup answers: whole UTC months, whole UTC days, and hours for the rest.

A month or day is used only when it lies wholly inside the period and, for time buckets, inside one
bucket of the site's time zone, and when its derived rows are in step with the hourly ones
(storage/derived_rollups.py); everything else comes from the hourly rollups.
"""

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from storage.dates import utc_day

DAY = 86_400
Runs = list[tuple[dt.date, dt.date]]
InStep = tuple[set[dt.date], set[dt.date]]


def _bucket(unix: int, timezone: str, dimension: str | None) -> object:
    """The time bucket of an instant (None when the query has no day or month bucket)."""
    if dimension is None:
        return None
    local = dt.datetime.fromtimestamp(unix, ZoneInfo(timezone)).date()
    return local if dimension == "time:day" else (local.year, local.month)


def _in_one_bucket(first: int, end: int, timezone: str, dimension: str | None) -> bool:
    """True when [first, end) falls in a single time bucket."""
    return _bucket(first, timezone, dimension) == _bucket(end - 1, timezone, dimension)


def _runs(dates: list[dt.date], step: int = 1) -> Runs:
    """Consecutive dates (days, or month starts with step=0) joined into (first, last) runs."""
    runs: list[list[dt.date]] = []
    for date in dates:
        last = runs[-1][1] if runs else None
        following = last + dt.timedelta(days=1) if step and last else (_next_month(last) if last else None)
        if runs and following == date:
            runs[-1][1] = date
        else:
            runs.append([date, date])
    return [(first, last) for first, last in runs]


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _unix(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())


def split_period(
    start: int, end: int, timezone: str, time_dimension: str | None, usable: InStep | None = None
) -> tuple[Runs, Runs, list]:
    """(runs of whole UTC months as first days, runs of whole UTC days, leftover [from, to) Unix ranges).

    usable: the days and month starts whose daily and monthly rows may be read (None: every one).
    """
    if time_dimension == "time:hour":
        return [], [], [(start, end)]
    hours: list[list[int]] = []
    days: list[dt.date] = []

    def leftover(begin: int, finish: int) -> None:
        if hours and hours[-1][1] == begin:
            hours[-1][1] = finish
        else:
            hours.append([begin, finish])

    day = -(-start // DAY) * DAY
    if day > start:
        leftover(start, min(day, end))
    while day + DAY <= end:
        if _in_one_bucket(day, day + DAY, timezone, time_dimension) and (usable is None or utc_day(day) in usable[0]):
            days.append(utc_day(day))
        else:
            leftover(day, day + DAY)
        day += DAY
    if start <= day < end:
        leftover(day, end)
    months = []
    chosen = set(days)
    for first in sorted({date.replace(day=1) for date in days}):
        length = calendar.monthrange(first.year, first.month)[1]
        whole = all(first + dt.timedelta(days=i) in chosen for i in range(length))
        if usable is not None and first not in usable[1]:
            continue
        if whole and _in_one_bucket(_unix(first), _unix(first) + length * DAY, timezone, time_dimension):
            months.append(first)
            chosen -= {first + dt.timedelta(days=i) for i in range(length)}
    return _runs(months, step=0), _runs(sorted(chosen)), [tuple(span) for span in hours]
