"""Which parts of a period the daily rollups can answer: whole UTC days inside it (and inside one time bucket)."""

import datetime as dt
from zoneinfo import ZoneInfo

DAY = 86_400


def _bucket(unix: int, timezone: str, dimension: str | None) -> object:
    """The time bucket of an instant (None when the query has no day or month bucket)."""
    if dimension is None:
        return None
    local = dt.datetime.fromtimestamp(unix, ZoneInfo(timezone)).date()
    return local if dimension == "time:day" else (local.year, local.month)


def split_period(start: int, end: int, timezone: str, time_dimension: str | None) -> tuple[list, list]:
    """(runs of whole UTC days as (first, last) dates, leftover [from, to) Unix ranges for the hourly rollups)."""
    if time_dimension == "time:hour":
        return [], [(start, end)]
    runs: list[list[dt.date]] = []
    hours: list[list[int]] = []
    day = -(-start // DAY) * DAY
    if day > start:
        hours.append([start, min(day, end)])
    while day + DAY <= end:
        if _bucket(day, timezone, time_dimension) == _bucket(day + DAY - 1, timezone, time_dimension):
            date = dt.datetime.fromtimestamp(day, dt.UTC).date()
            if runs and runs[-1][1] + dt.timedelta(days=1) == date:
                runs[-1][1] = date
            else:
                runs.append([date, date])
        elif hours and hours[-1][1] == day:
            hours[-1][1] = day + DAY
        else:
            hours.append([day, day + DAY])
        day += DAY
    if day < end and day >= start:
        if hours and hours[-1][1] == day:
            hours[-1][1] = end
        else:
            hours.append([day, end])
    return [tuple(run) for run in runs], [tuple(span) for span in hours]
