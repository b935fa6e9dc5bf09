"""Calendar arithmetic the tables are partitioned and rolled up by: UTC days and whole months."""

import datetime as dt


def utc_day(timestamp: float) -> dt.date:
    """UTC calendar day of a Unix timestamp."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).date()


def month_start(day: dt.date, back: int = 0) -> dt.date:
    """First day of the month `back` months before day's month (0: day's own month)."""
    year, month = divmod(day.year * 12 + day.month - 1 - back, 12)
    return dt.date(year, month + 1, 1)
