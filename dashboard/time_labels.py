"""Every bucket label of a query's time dimension over its range (Plausible's `meta.time_labels`)."""

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from dashboard.query import StatsQuery

# A minute bucket over a year is half a million labels: more than any chart draws.
MAX_LABELS = 50_000


def _local_steps(query: StatsQuery, seconds: int, pattern: str) -> list[str]:
    """Labels of fixed-length buckets (minutes, hours) in the site's time zone, first to last."""
    zone = ZoneInfo(query.timezone)
    first = query.start - query.start % seconds
    labels: list[str] = []
    for moment in range(first, query.end, seconds):
        label = dt.datetime.fromtimestamp(moment, zone).strftime(pattern)
        if not labels or labels[-1] != label:
            labels.append(label)
        if len(labels) >= MAX_LABELS:
            break
    return labels


def _days(query: StatsQuery) -> list[dt.date]:
    """Every local day of the range."""
    return [query.first_day + dt.timedelta(days=i) for i in range((query.last_day - query.first_day).days + 1)]


def _starts(query: StatsQuery, start_of: Callable[[dt.date], dt.date]) -> list[str]:
    """Labels of day-based buckets: each bucket's start, the first one cut at the range's first day."""
    labels: list[str] = []
    for day in _days(query):
        label = max(start_of(day), query.first_day).isoformat()
        if not labels or labels[-1] != label:
            labels.append(label)
    return labels


def time_labels(query: StatsQuery) -> list[str]:
    """Labels of the query's time dimension, including buckets with no data; [] without one."""
    dimension = query.time_dimension
    if dimension == "time:minute":
        return _local_steps(query, 60, "%Y-%m-%d %H:%M:00")
    if dimension == "time:hour":
        # Hours are stepped in UTC and labelled locally: a zone 30 minutes off UTC still gets each hour once.
        return _local_steps(query, 1800, "%Y-%m-%d %H:00:00")
    if dimension == "time:day":
        return [day.isoformat() for day in _days(query)]
    if dimension == "time:week":
        return _starts(query, lambda day: day - dt.timedelta(days=day.weekday()))
    if dimension == "time:month":
        return _starts(query, lambda day: day.replace(day=1))
    return []
