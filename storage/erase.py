"""Erasing a site's events (all, a page pattern, a period) and recounting everything derived from them.

Raw events are deleted; the visits and visit rollups of the affected period are derived again and the
event rollups recounted from the events that remain (storage/history.py). Rollup buckets older than the
site's oldest event (retention already dropped their raw events) cannot be recounted: rows of a bucket
that lies wholly inside an erased period are deleted, and for a page pattern the page's own rows are;
the site totals of such a bucket stay as they were.
"""

import datetime as dt
import time
from dataclasses import dataclass

from storage.derived_rollups import DERIVED
from storage.history import (
    bucket_end,
    bucket_start,
    complete_since,
    delete_rows,
    event_rollup_views,
    first_complete,
    rebuild_event_rollups,
    rederive_visits,
    wait_for_mutations,
)
from storage.store import Store

FAR_FUTURE = 4_102_444_800  # 2100-01-01, the end of "every period"
VISIT_ROLLUPS = (("visit_hourly", "hour"), ("visit_daily", "day"))
PAGE_DIMENSIONS = ("'event:page'", "'visit:entry_page'", "'visit:exit_page'")


@dataclass(frozen=True)
class Selection:
    """What to erase: a site's events, optionally of pages matching a pattern and of [since, until)."""

    site: str
    page: str = ""  # a glob: * any characters, ? one; "" every page
    since: int = 0
    until: int = FAR_FUTURE

    @property
    def like(self) -> str:
        """The page pattern as a LIKE pattern."""
        escaped = self.page.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return escaped.replace("*", "%").replace("?", "_")

    def params(self) -> dict:
        """Query parameters of the selection."""
        return {"site": self.site, "page": self.like, "since": self.since, "until": self.until}

    def event_filter(self) -> str:
        """WHERE of the selected events."""
        where = "site = %(site)s AND ts >= toDateTime(%(since)s) AND ts < toDateTime(%(until)s)"
        return where + (" AND pathname LIKE %(page)s" if self.page else "")


def day_range(site: str, page: str, first: dt.date | None, last: dt.date | None) -> Selection:
    """A selection from calendar days (UTC, both included)."""
    since = int(dt.datetime.combine(first, dt.time(), dt.UTC).timestamp()) if first else 0
    until = int(dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC).timestamp()) if last else FAR_FUTURE
    return Selection(site, page, since, until)


def _rollup_tables() -> list[tuple[str, str, str]]:
    """(table, time column, bucket) of every rollup, event and visit ones."""
    tables = [(view.table, view.time_column, view.bucket) for view in event_rollup_views()]
    tables += [(derived.table, "day", derived.bucket) for derived in DERIVED]
    return tables + [(table, column, column) for table, column in VISIT_ROLLUPS]


def _in_buckets(time_column: str) -> str:
    """Rows of %(site)s whose bucket lies in [%(lo)s, %(hi)s)."""
    if time_column == "hour":
        return "site = %(site)s AND hour >= toDateTime(%(lo)s) AND hour < toDateTime(%(hi)s)"
    return "site = %(site)s AND day >= toDate(toDateTime(%(lo)s)) AND day < toDate(toDateTime(%(hi)s))"


_PAGE_ROWS = " AND value LIKE %(page)s AND dimension IN (" + ", ".join(PAGE_DIMENSIONS) + ")"


def _has_values(table: str) -> bool:
    """Whether a rollup has (dimension, value) rows, not only site totals."""
    return not table.startswith("site_")


def counts(store: Store, selection: Selection) -> dict[str, int]:
    """Rows of every table that an erase of the selection deletes or recounts."""
    params = selection.params()
    found = {"events": store.query(f"SELECT count() FROM events WHERE {selection.event_filter()}", params)[0][0]}
    window = {"site": selection.site, "lo": selection.since, "hi": min(selection.until, FAR_FUTURE)}
    found["visits"] = store.query(
        "SELECT uniqExact(visit_id) FROM visits WHERE site = %(site)s AND start_ts < toDateTime(%(hi)s) "
        "AND end_ts >= toDateTime(%(lo)s)"
        + (" AND (entry_page LIKE %(page)s OR exit_page LIKE %(page)s)" if selection.page else ""),
        {**window, "page": selection.like},
    )[0][0]
    period = _affected_period(store, selection) if selection.page else None
    for table, time_column, bucket in _rollup_tables():
        where = _in_buckets(time_column)
        bounds = {**window, "lo": bucket_start(bucket, window["lo"]), "page": selection.like}
        if selection.page and _has_values(table):
            where += _PAGE_ROWS
        elif selection.page:
            if period is None:
                found[table] = 0
                continue
            bounds.update(lo=bucket_start(bucket, period[0]), hi=bucket_end(bucket, period[1]))
        found[table] = store.query(f"SELECT count() FROM {table} WHERE {where}", bounds)[0][0]
    if not selection.page:
        for table in ("search_terms", "log_lines"):
            found[table] = store.query(f"SELECT count() FROM {table} WHERE {_in_buckets('day')}", window)[0][0]
    return {table: int(count) for table, count in found.items()}


def _affected_period(store: Store, selection: Selection) -> tuple[int, int] | None:
    """[first, last + 1) of the selected events, or None when no event is selected."""
    rows = store.query(
        f"SELECT count(), toUInt32(min(ts)), toUInt32(max(ts)) FROM events WHERE {selection.event_filter()}",
        selection.params(),
    )
    return (int(rows[0][1]), int(rows[0][2]) + 1) if rows and rows[0][0] else None


def _erase_old_rollups(store: Store, selection: Selection, complete: int) -> None:
    """Rollup rows of buckets before complete (no raw events left) that the selection wholly covers."""
    for table, time_column, bucket in _rollup_tables():
        lo = bucket_start(bucket, selection.since)
        if lo < selection.since and not selection.page:
            lo = bucket_end(bucket, selection.since)  # a bucket only partly erased keeps its rows
        hi = min(selection.until, first_complete(bucket, complete, complete))
        if not selection.page:
            hi = bucket_start(bucket, hi) if bucket_start(bucket, hi) != hi else hi
        if hi <= lo:
            continue
        where = _in_buckets(time_column)
        if selection.page:
            if not _has_values(table):
                continue
            where += _PAGE_ROWS
        delete_rows(store, table, where, {"site": selection.site, "lo": lo, "hi": hi, "page": selection.like})


def erase(store: Store, selection: Selection, now: float | None = None) -> dict[str, int]:
    """Erase the selected events and recount what derives from them; returns the dry-run counts it acted on."""
    found = counts(store, selection)
    now = time.time() if now is None else now
    complete = complete_since(store, selection.site, now)
    period = _affected_period(store, selection)
    if period is not None:
        delete_rows(store, "events", selection.event_filter(), selection.params())
        wait_for_mutations(store)
        lo, hi = period
        if not selection.page:
            # Every complete bucket of the period is recounted, with or without events left in it.
            lo, hi = selection.since, max(hi, min(selection.until, int(now) + 1))
        rebuild_event_rollups(store, selection.site, lo, hi, complete)
        rederive_visits(store, selection.site, lo, hi, complete)
    elif not selection.page and selection.since < int(now):
        # Nothing raw left to delete; visits of the period still go with their rollups.
        rederive_visits(store, selection.site, selection.since, min(selection.until, int(now)), complete)
    _erase_old_rollups(store, selection, complete)
    if not selection.page:
        window = {"site": selection.site, "lo": selection.since, "hi": selection.until}
        for table in ("search_terms", "log_lines"):
            delete_rows(store, table, _in_buckets("day"), window)
    wait_for_mutations(store)
    return found
