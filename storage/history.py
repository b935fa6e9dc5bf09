"""Rewriting what is derived from events for a past period of one site: after events were imported into it
(server access logs) or erased from it.

The visit job (storage/visits.py) only moves forward from its watermark, and the event rollups only add
aggregate states, so neither can follow a change to the past. Here the affected buckets are deleted and
recounted from the events that remain. Only buckets whose events are all still stored are recounted: a
bucket older than a site's oldest event (retention dropped its raw events) keeps its rollup rows.
"""

import datetime as dt
import re
import time
from dataclasses import dataclass

from storage.dates import utc_day
from storage.derived_rollups import derive
from storage.migration_files import available_migrations
from storage.mutations import delete_rows, wait_for_mutations
from storage.sessions import IDLE_SECONDS, MAX_VISIT_SECONDS, VISIT_COLUMNS, visits_sql
from storage.store import Store
from storage.visits import EVENT_COUNT, HOURLY_DIMENSIONS, VISITOR_KEY, deduplicated_visits, watermark

_VIEW = re.compile(r"^CREATE\s+MATERIALIZED\s+VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s+TO\s+(\w+)\s+AS\s+(.*)$", re.S)
_DROPPED = re.compile(r"^DROP\s+(TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?(\w+)\s*$", re.I)


@dataclass(frozen=True)
class RollupView:
    """An event rollup: its table, the bucket its time column holds, and the SELECT that fills it."""

    table: str
    time_column: str
    bucket: str  # "hour", "day" or "month"
    select: str


def event_rollup_views() -> list[RollupView]:
    """Every materialized view over events, in its latest definition from schemas/ (the hourly rollups)."""
    views: dict[str, RollupView] = {}
    for migration in available_migrations():
        for statement in migration.statements():
            if dropped := _DROPPED.match(statement.strip()):
                views.pop(dropped.group(2), None)
                continue
            match = _VIEW.match(statement.strip())
            if not match or not re.search(r"\bFROM\s+events\b", match.group(3)):
                continue
            select = match.group(3).strip().rstrip(";")
            if re.search(r"\bAS\s+hour\b", select):
                column, bucket = "hour", "hour"
            elif "toStartOfMonth" in select:
                column, bucket = "day", "month"
            else:
                column, bucket = "day", "day"
            views[match.group(1)] = RollupView(match.group(2), column, bucket, select)
    return list(views.values())


def oldest_event(store: Store, site: str) -> int | None:
    """Start of the UTC day of the site's oldest stored event, or None.

    Retention removes raw events by whole UTC days, so every day from this one on holds all its events.
    """
    rows = store.query("SELECT count(), toUInt32(min(ts)) FROM events WHERE site = %(site)s", {"site": site})
    return int(rows[0][1]) // 86_400 * 86_400 if rows and rows[0][0] else None


def complete_since(store: Store, site: str, now: float) -> int:
    """Start of the first UTC day from which the site's raw events are all still stored.

    Rollups outlive raw events (retention), so a daily rollup row before the oldest event's day marks a
    day whose events were dropped; with none, no event was ever dropped and every bucket is complete.
    """
    oldest = oldest_event(store, site)
    first = oldest if oldest is not None else int(now) // 86_400 * 86_400 + 86_400
    rows = store.query(
        "SELECT count(), toUInt32(toDateTime(max(day))) FROM site_daily WHERE site = %(site)s "
        "AND day < toDate(toDateTime(%(first)s))",
        {"site": site, "first": first},
    )
    return int(rows[0][1]) + 86_400 if rows and rows[0][0] else 0


def bucket_start(bucket: str, ts: int) -> int:
    """Start of the hour, UTC day or UTC month containing ts."""
    if bucket == "hour":
        return ts - ts % 3600
    day = ts - ts % 86_400
    if bucket == "day":
        return day
    moment = time.gmtime(day)
    return int(time.mktime((moment.tm_year, moment.tm_mon, 1, 0, 0, 0, 0, 0, 0)) - time.timezone)


def bucket_end(bucket: str, ts: int) -> int:
    """Start of the bucket after the one containing ts - 1 (ts itself when it starts a bucket)."""
    start = bucket_start(bucket, ts - 1)
    if bucket == "hour":
        return start + 3600
    if bucket == "day":
        return start + 86_400
    return bucket_start("month", start + 32 * 86_400)


def first_complete(bucket: str, lo: int, complete_since: int) -> int:
    """Start of the first bucket from lo on that holds no time before complete_since (a UTC day start)."""
    first = bucket_start(bucket, max(lo, complete_since))
    return first if first >= complete_since else bucket_end(bucket, first + 1)


def _bucket_filter(view: RollupView) -> str:
    """Rows of %(site)s whose bucket lies in [%(lo)s, %(hi)s)."""
    if view.time_column == "hour":
        return "site = %(site)s AND hour >= toDateTime(%(lo)s) AND hour < toDateTime(%(hi)s)"
    return "site = %(site)s AND day >= toDate(toDateTime(%(lo)s)) AND day < toDate(toDateTime(%(hi)s))"


def _table_columns(store: Store, table: str) -> list[str]:
    """Columns of a table in their stored order."""
    return [row[0] for row in store.query(f"DESCRIBE TABLE {table}")]


def rebuild_event_rollups(store: Store, site: str, lo: int, hi: int, complete_since: int) -> dict[str, tuple[int, int]]:
    """Recount every event rollup bucket of the site touching [lo, hi) that starts at or after complete_since.

    Run after the events changed; returns {table: (first, end)} of the recounted bucket range.
    """
    done: dict[str, tuple[int, int]] = {}
    for view in event_rollup_views():
        first = first_complete(view.bucket, lo, complete_since)
        end = bucket_end(view.bucket, hi)
        if end <= first:
            continue
        params = {"site": site, "lo": first, "hi": end}
        delete_rows(store, view.table, _bucket_filter(view), params)
        done[view.table] = (first, end)
    wait_for_mutations(store)
    for view in event_rollup_views():
        if view.table not in done:
            continue
        first, end = done[view.table]
        columns = ", ".join(_table_columns(store, view.table) or ["*"])
        source = "(SELECT * FROM events WHERE site = %(site)s AND ts >= toDateTime(%(lo)s) AND ts < toDateTime(%(hi)s))"
        select = re.sub(r"\bFROM\s+events\b", f"FROM {source} AS events", view.select, count=1)
        store.execute(
            f"INSERT INTO {view.table} ({columns}) SELECT {columns} FROM ({select})",
            {"site": site, "lo": first, "hi": end},
        )
    if done:
        first, end = min(span[0] for span in done.values()), max(span[1] for span in done.values())
        rederive_rollups(store, site, first, end)
    return done


def rederive_rollups(store: Store, site: str, lo: int, hi: int) -> None:
    """Derive the site's daily and monthly rollups of the UTC days touching [lo, hi) from its hourly ones."""
    derive(store, utc_day(lo), utc_day(hi - 1) + dt.timedelta(days=1), site)


def _recount(store: Store, site: str, table: str, bucket: str, lo: int, hi: int) -> None:
    """Replace the visit rollup rows of the site's buckets in [lo, hi) with a recount of the stored visits."""
    pairs = ", ".join(f"('{dimension}', {column})" for dimension, column in HOURLY_DIMENSIONS)
    time_column, expression = (
        ("hour", "toStartOfHour(start_ts)") if bucket == "hour" else ("day", "toDate(start_ts, 'UTC')")
    )
    source = deduplicated_visits("site = %(site)s AND start_ts >= toDateTime(%(lo)s) AND start_ts < toDateTime(%(hi)s)")
    store.execute(
        f"""
        INSERT INTO {table}
            (site, dimension, {time_column}, value, visits, bounces, pageviews, duration_ms, visitors, events)
        SELECT site, tupleElement(pair, 1) AS dimension, {expression} AS {time_column},
            tupleElement(pair, 2) AS value, count() AS visits, sum(bounce) AS bounces,
            sum(pageviews) AS pageview_sum, sum(duration_ms) AS duration_sum,
            uniqCombinedState({VISITOR_KEY}) AS visitors, sum({EVENT_COUNT}) AS event_sum
        FROM ({source})
        ARRAY JOIN [{pairs}] AS pair
        GROUP BY site, dimension, {time_column}, value
        """,
        {"site": site, "lo": lo, "hi": hi},
    )


def rederive_visits(store: Store, site: str, lo: int, hi: int, complete_since: int) -> int:
    """Derive again the site's closed visits touching [lo, hi) from its events, and recount their visit rollups.

    Visits that end after the visit job's watermark are left to the job. Returns the visits written.
    """
    mark = watermark(store)
    if mark is None:
        return 0  # the job has not run yet: its first run starts from the oldest event
    closed_before = mark - IDLE_SECONDS
    rows = store.query(
        "SELECT count(), toUInt32(min(start_ts)), toUInt32(max(end_ts)) FROM visits "
        "WHERE site = %(site)s AND start_ts < toDateTime(%(hi)s) AND end_ts >= toDateTime(%(lo)s)",
        {"site": site, "lo": lo, "hi": hi},
    )
    if rows and rows[0][0]:
        lo, hi = min(lo, int(rows[0][1])), max(hi, int(rows[0][2]) + 1)
    lo = max(lo, complete_since)
    hi = min(hi, closed_before)  # a visit starting later is not closed yet: the job writes it
    if hi <= lo:
        return 0
    params = {"site": site, "lo": lo, "hi": hi}
    delete_rows(
        store, "visits", "site = %(site)s AND start_ts >= toDateTime(%(lo)s) AND start_ts < toDateTime(%(hi)s)", params
    )
    hour_lo, hour_hi = bucket_start("hour", lo), bucket_end("hour", hi)
    day_lo, day_hi = first_complete("day", lo, complete_since), bucket_end("day", hi)
    hour_where = "site = %(site)s AND hour >= toDateTime(%(lo)s) AND hour < toDateTime(%(hi)s)"
    delete_rows(store, "visit_hourly", hour_where, {"site": site, "lo": hour_lo, "hi": hour_hi})
    if day_hi > day_lo:
        day_where = "site = %(site)s AND day >= toDate(toDateTime(%(lo)s)) AND day < toDate(toDateTime(%(hi)s))"
        delete_rows(store, "visit_daily", day_where, {"site": site, "lo": day_lo, "hi": day_hi})
    wait_for_mutations(store)
    columns = ", ".join(VISIT_COLUMNS)
    store.execute(
        f"INSERT INTO visits ({columns}) SELECT {columns} FROM ({visits_sql(site=True)}) "
        "WHERE start_ts >= toDateTime(%(lo)s) AND start_ts < toDateTime(%(hi)s) AND end_ts < toDateTime(%(closed)s)",
        {**params, "since": lo - MAX_VISIT_SECONDS, "until": hi + IDLE_SECONDS, "closed": closed_before},
    )
    written = store.query(
        "SELECT uniqExact(visit_id) FROM visits WHERE site = %(site)s AND start_ts >= toDateTime(%(lo)s) "
        "AND start_ts < toDateTime(%(hi)s)",
        params,
    )[0][0]
    _recount(store, site, "visit_hourly", "hour", hour_lo, hour_hi)
    if day_hi > day_lo:
        _recount(store, site, "visit_daily", "day", day_lo, day_hi)
    return int(written)
