"""Daily and monthly event rollups derived from the hourly ones by the `rollups` job, a UTC day at a time.

A daily (monthly) row set is *in step* when its day (month) holds the same events and pageviews in
site_daily (site_monthly) as in site_hourly. Readers (dashboard/rollup_days.py) use only days and months
in step, so whatever wrote events into the past (a log import, demo data, a spool replayed after an
outage, an erase) is read from the hourly rows until the job has derived the day again. The job finds
the UTC days that are over (SETTLE_SECONDS after midnight) and out of step, claims them so that one
process of many does the work, and replaces their rows: dimensions first, the site totals last, so a
day is in step only once both are written. Months follow when every day of theirs is in step.
"""

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from storage.dates import month_start, utc_day
from storage.mutations import delete_rows, wait_for_mutations
from storage.report_claims import claim
from storage.store import Store

log = logging.getLogger("teller.rollups")
# Events reach ClickHouse within the flush interval (seconds); a day is derived this long after its end.
SETTLE_SECONDS = 600


@dataclass(frozen=True)
class Derived:
    """A rollup table filled from a finer one, with the key columns between site and value."""

    table: str
    source: str
    dimensional: bool
    bucket: str  # "day" or "month"


# Dimensions before totals: a day or month is in step (by its totals) only after both are written.
DAILY = (
    Derived("dimension_daily", "dimension_hourly", True, "day"),
    Derived("site_daily", "site_hourly", False, "day"),
)
MONTHLY = (
    Derived("dimension_monthly", "dimension_daily", True, "month"),
    Derived("site_monthly", "site_daily", False, "month"),
)
DERIVED = DAILY + MONTHLY
_STATES = "uniqCombinedMergeState(visitors), sumMergeState(pageviews), sumMergeState(events)"


def _day_of(derived: Derived) -> str:
    """The source's time column as a UTC day."""
    return "toDate(hour, 'UTC')" if derived.source.endswith("_hourly") else "day"


def _insert(store: Store, derived: Derived, first: dt.date, end: dt.date, site: str | None) -> None:
    """Insert the merged states of the source rows in [first, end) into the derived table."""
    day = _day_of(derived)
    bucket = day if derived.bucket == "day" else f"toStartOfMonth({day})"
    keys = ["site", "dimension", bucket, "value"] if derived.dimensional else ["site", bucket]
    columns = ["site", "dimension", "day", "value"] if derived.dimensional else ["site", "day"]
    where = f"{day} >= toDate(%(first)s) AND {day} < toDate(%(end)s)" + (" AND site = %(site)s" if site else "")
    store.execute(
        f"INSERT INTO {derived.table} ({', '.join(columns)}, visitors, pageviews, events) "
        f"SELECT {', '.join(keys)}, {_STATES} FROM {derived.source} WHERE {where} GROUP BY {', '.join(keys)}",
        {"first": first.isoformat(), "end": end.isoformat(), "site": site},
    )


def _replace(store: Store, derived: tuple[Derived, ...], first: dt.date, end: dt.date, site: str | None) -> None:
    """Delete the derived tables' rows in [first, end), then insert them again from their sources."""
    where = "day >= toDate(%(first)s) AND day < toDate(%(end)s)" + (" AND site = %(site)s" if site else "")
    params = {"first": first.isoformat(), "end": end.isoformat(), "site": site}
    stored = [
        table for table in derived if store.query(f"SELECT count() FROM {table.table} WHERE {where}", params)[0][0]
    ]
    for table in reversed(stored):  # totals first: the day is out of step from the first delete on
        delete_rows(store, table.table, where, params)
    if stored:
        # A mutation applies to the parts that exist when it is made, so the inserts below survive it;
        # waiting keeps readers from seeing old and new rows together.
        wait_for_mutations(store)
    for table in derived:
        _insert(store, table, first, end, site)


def derive(store: Store, first: dt.date, end: dt.date, site: str | None = None) -> None:
    """Derive the days in [first, end) and then the months they touch (one site, or every site)."""
    if end <= first:
        return
    _replace(store, DAILY, first, end, site)
    _replace(store, MONTHLY, month_start(first), month_start(end - dt.timedelta(days=1), back=-1), site)


def _totals(store: Store, table: str, day: str, where: str, params: dict) -> dict[tuple[str, str], tuple[int, int]]:
    """(events, pageviews) per (site, bucket) of a site rollup."""
    rows = store.query(
        f"SELECT site, toString({day}) AS bucket, sumMerge(events), sumMerge(pageviews) FROM {table} "
        f"WHERE {where} GROUP BY site, bucket",
        params,
    )
    return {(row[0], row[1]): (int(row[2]), int(row[3])) for row in rows}


def in_step(store: Store, site: str, first: dt.date, end: dt.date) -> tuple[set[dt.date], set[dt.date]]:
    """The site's days and month starts in [first, end) whose derived rows are in step (one query)."""
    parts = [
        ("hourly", "site_hourly", "toDate(hour, 'UTC')"),
        ("daily", "site_daily", "day"),
        ("monthly", "site_monthly", "day"),
    ]
    sql = " UNION ALL ".join(
        f"SELECT '{kind}' AS kind, toString({day}) AS bucket, sumMerge(events) AS e, sumMerge(pageviews) AS p "
        f"FROM {table} WHERE site = %(site)s AND {day} >= toDate(%(first)s) AND {day} < toDate(%(end)s) "
        "GROUP BY bucket"
        for kind, table, day in parts
    )
    totals: dict[str, dict[str, tuple[int, int]]] = {kind: {} for kind, _, _ in parts}
    for kind, bucket, events, pageviews in store.query(
        sql, {"site": site, "first": first.isoformat(), "end": end.isoformat()}
    ):
        totals[kind][bucket] = (int(events), int(pageviews))
    hourly, daily, monthly = totals["hourly"], totals["daily"], totals["monthly"]
    days = {day for day in set(hourly) | set(daily) if hourly.get(day) == daily.get(day)}
    by_month: dict[str, tuple[int, int]] = {}
    for day, (events, pageviews) in hourly.items():
        month = by_month.get(day[:8] + "01", (0, 0))
        by_month[day[:8] + "01"] = (month[0] + events, month[1] + pageviews)
    months = {
        month for month in set(by_month) | set(monthly) if by_month.get(month, (0, 0)) == monthly.get(month, (0, 0))
    }
    return {dt.date.fromisoformat(day) for day in days}, {dt.date.fromisoformat(month) for month in months}


def out_of_step_days(store: Store, end: dt.date) -> list[dt.date]:
    """UTC days before end whose daily rows (of any site) differ from their hourly rows."""
    hourly = _totals(store, "site_hourly", "toDate(hour, 'UTC')", "hour < toDateTime(%(end)s)", _at(end))
    daily = _totals(store, "site_daily", "day", "day < toDate(%(end_day)s)", _at(end))
    differing = {key for key in set(hourly) | set(daily) if hourly.get(key) != daily.get(key)}
    return sorted({dt.date.fromisoformat(text) for _, text in differing})


def out_of_step_months(store: Store, end: dt.date) -> list[dt.date]:
    """Months that end before end whose monthly rows differ from their daily rows."""
    params = {**_at(month_start(end)), "end_day": month_start(end).isoformat()}
    daily = _totals(store, "site_daily", "toStartOfMonth(day)", "day < toDate(%(end_day)s)", params)
    monthly = _totals(store, "site_monthly", "day", "day < toDate(%(end_day)s)", params)
    differing = {key for key in set(daily) | set(monthly) if daily.get(key) != monthly.get(key)}
    return sorted({dt.date.fromisoformat(text) for _, text in differing})


def _at(day: dt.date) -> dict[str, object]:
    """Parameters for "before day": its midnight as Unix time and as an ISO date."""
    return {"end": int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()), "end_day": day.isoformat()}


def _runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days joined into [first, end) runs."""
    runs: list[list[dt.date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1][1] = day + dt.timedelta(days=1)
        else:
            runs.append([day, day + dt.timedelta(days=1)])
    return [(first, end) for first, end in runs]


def run(store: Store, now: float, settle: int = SETTLE_SECONDS) -> int:
    """One run of the job: derive every UTC day that is over and out of step; return the days derived."""
    end = utc_day(now - settle)  # the first day that may still get events
    days = out_of_step_days(store, end)
    months = out_of_step_months(store, end)
    if not days and not months:
        return 0
    # One process derives; a claim whose work did not finish is retried by anyone an hour later.
    work = hashlib.sha256(repr((days, months)).encode()).hexdigest()[:32]
    if not claim(store, [f"rollups:{work}:{int(now) // 3600}"]):
        return 0
    for first, last in _runs(days):
        log.info("deriving the daily rollups of %s to %s", first, last - dt.timedelta(days=1))
        derive(store, first, last)
    for month in months:
        if month not in {month_start(day) for day in days}:  # derive() did the months of the days above
            _replace(store, MONTHLY, month, month_start(month, back=-1), None)
    return len(days)
