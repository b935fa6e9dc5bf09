"""Visit rows: closed visits from visit_hourly/visit_daily or visits, plus open visits derived from events.

A visit is counted in the range holding its first event. The visit job stores a visit once 30
minutes pass without events; until then it is derived here from recent events, and a visit the job
already stored is skipped by visit_id, so no visit is counted twice or missed while the job runs.

Every source yields the same per-group columns (v_visits, v_bounces, v_pageviews, v_duration, v_events
and the visitor state v_visitors), so visit metrics and event metrics of visit dimensions (the visit's
visitors, pageviews and events under its entry attributes) are summed alike; see dashboard/registry.py.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from dashboard.filters import filters_sql
from dashboard.planner import VISIT_ROLLUP, Part, column_on_visits, rollup_value
from dashboard.query import StatsQuery
from dashboard.registry import METRICS, TIME_DIMENSIONS
from dashboard.rollup_days import split_period
from dashboard.sql_parts import order_sql
from storage.sessions import ENTRY_ATTRIBUTES, IDLE_SECONDS, MAX_VISIT_SECONDS, segments_sql, visits_sql
from storage.store import Store
from storage.visits import EVENT_COUNT, VISITOR_KEY, deduplicated_visits

_RANGE = "start_ts >= toDateTime(%(start)s) AND start_ts < toDateTime(%(end)s)"
# The per-group sums of visit rows (UNION ALL wants the same types from every source, hence the casts).
PER_GROUP = (
    "toUInt64(count()) AS v_visits, toUInt64(sum(bounce)) AS v_bounces, toUInt64(sum(pageviews)) AS v_pageviews, "
    f"toUInt64(sum(duration_ms)) AS v_duration, toUInt64(sum({EVENT_COUNT})) AS v_events, "
    f"uniqCombinedState(toUInt64({VISITOR_KEY})) AS v_visitors"
)


def dimension_selects(dimensions: tuple[str, ...], time_column: str, value: str | None = None) -> list[str]:
    """d<i> select expressions over visit rows; value replaces the non-time dimension (a rollup's value)."""
    selects = []
    for index, name in enumerate(dimensions):
        if name in TIME_DIMENSIONS:
            expression = TIME_DIMENSIONS[name].format(col=time_column)
        elif value is not None:
            expression = rollup_value(name)
        else:
            expression = column_on_visits(name)
        selects.append(f"{expression} AS d{index}")
    return selects


def _grouped(dimensions: tuple[str, ...]) -> str:
    """GROUP BY of the d<i> aliases ("" without dimensions: one row for everything)."""
    return " GROUP BY " + ", ".join(f"d{i}" for i in range(len(dimensions))) if dimensions else ""


def _closed_from_rollup(query: StatsQuery, dimensions: tuple[str, ...], params: dict[str, Any]) -> str:
    """Closed visits per hour (or whole day) and value; the newest recount of each row has the most visits
    (and, among recounts of equal visits, the most events: rows from before schemas/0011 have none)."""
    plain = [d for d in dimensions if d not in TIME_DIMENSIONS]
    params["visit_dimension"] = plain[0] if plain else ""
    time_dimension = next((d for d in dimensions if d in TIME_DIMENSIONS), None)
    months, days, hours = split_period(query.start, query.end, query.timezone, time_dimension)
    # visit_daily has no monthly counterpart: a whole month is its days.
    days = sorted(days + [(first, _month_end(last)) for first, last in months])
    match = "site = %(site)s AND dimension = %(visit_dimension)s"
    columns = "value, visits, bounces, pageviews, duration_ms, events, visitors"
    parts = []
    if days:
        runs = []
        for index, (first, last) in enumerate(days):
            params[f"visit_from{index}"], params[f"visit_to{index}"] = first.isoformat(), last.isoformat()
            runs.append(f"(day >= toDate(%(visit_from{index})s) AND day <= toDate(%(visit_to{index})s))")
        # Noon UTC stands for the day: the whole day lies in one time bucket.
        parts.append(
            f"SELECT toDateTime(toUInt32(day) * 86400 + 43200) AS hour, {columns} FROM visit_daily "
            f"WHERE {match} AND ({' OR '.join(runs)})"
        )
    if hours:
        spans = []
        for index, (begin, end) in enumerate(hours):
            params[f"visit_hour_from{index}"], params[f"visit_hour_to{index}"] = begin, end
            spans.append(
                f"(hour >= toDateTime(%(visit_hour_from{index})s) AND hour < toDateTime(%(visit_hour_to{index})s))"
            )
        parts.append(f"SELECT hour, {columns} FROM visit_hourly WHERE {match} AND ({' OR '.join(spans)})")
    selects = [*dimension_selects(dimensions, "hour", "value"), "toUInt64(max(visits)) AS v_visits"]
    selects += [f"toUInt64(argMax({column}, (visits, events))) AS v_{name}" for column, name in _ROLLUP_SUMS]
    selects.append("argMax(visitors, (visits, events)) AS v_visitors")
    return f"SELECT {', '.join(selects)} FROM ({' UNION ALL '.join(parts)}) GROUP BY hour, value"


def _month_end(first: dt.date) -> dt.date:
    """Last day of the month starting at first."""
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


_ROLLUP_SUMS = (("bounces", "bounces"), ("pageviews", "pageviews"), ("duration_ms", "duration"), ("events", "events"))


def _closed_from_visits(dimensions: tuple[str, ...], condition: str) -> str:
    """Closed visits of the range, summed per group."""
    source = deduplicated_visits(f"site = %(site)s AND {_RANGE}")
    selects = ", ".join([*dimension_selects(dimensions, "start_ts"), PER_GROUP])
    return f"SELECT {selects} FROM ({source}) WHERE {condition}{_grouped(dimensions)}"


# Only visitor hashes that can be in an open visit are sessionised: those with an event since open_from,
# and the previous-day hashes their events carry (a visit continued across midnight); any superset of
# them gives the same visits. For 10M events a month this cut the open part of a visit query from ~1 s
# to ~110 ms with 3,700 visitors active in the last 30 minutes.
_RECENT = "SELECT visitor_id FROM events WHERE site = %(site)s AND ts >= toDateTime(%(open_from)s)"
_RECENT_VISITORS = (
    f"visitor_id IN ({_RECENT} UNION ALL SELECT previous_visitor_id FROM events WHERE site = %(site)s "
    "AND ts >= toDateTime(%(since)s) AND ts < toDateTime(%(until)s) AND previous_visitor_id != 0 "
    f"AND visitor_id IN ({_RECENT}))"
)
# Up to this many recent hashes are passed as a list (cheaper than the subquery for a few hundred, dearer
# for thousands, and the list appears three times in a statement limited to 256 KiB).
MAX_LISTED_VISITORS = 500


@dataclass(frozen=True)
class OpenVisitors:
    """Who can be in an open visit: the hashes (None: too many, select them in the query), and whether any
    of their events continues a visit from the previous UTC day."""

    hashes: tuple[int, ...] | None
    across_midnight: bool


def open_visitors(store: Store, site: str, mark: int | None) -> OpenVisitors | None:
    """The visitors of a site's open visits; None before the visit job's first run (everything is open)."""
    if mark is None:
        return None
    params = {
        "site": site,
        "open_from": mark - IDLE_SECONDS,
        "since": mark - IDLE_SECONDS - 2 * MAX_VISIT_SECONDS,
        "limit": MAX_LISTED_VISITORS + 1,
    }
    rows = store.query(f"SELECT DISTINCT visitor_id FROM ({_RECENT}) LIMIT %(limit)s", params)
    if not rows:
        return OpenVisitors((), False)
    # previous_visitor_id is set only on events of the first 30 minutes of a UTC day.
    previous = store.query(
        "SELECT DISTINCT previous_visitor_id FROM events WHERE site = %(site)s AND ts >= toDateTime(%(since)s) "
        f"AND previous_visitor_id != 0 AND visitor_id IN ({_RECENT}) LIMIT %(limit)s",
        params,
    )
    if len(rows) + len(previous) > MAX_LISTED_VISITORS:
        return OpenVisitors(None, bool(previous))
    return OpenVisitors(tuple(sorted({row[0] for row in rows + previous})), bool(previous))


def _same_day_visits_sql(condition: str) -> str:
    """visits_sql() without joining pieces across midnight, for windows where no event carries a previous-day
    hash: one pass over the events instead of three, with the same columns and values."""
    segments = segments_sql(f"AND site = %(site)s AND {condition}")
    attributes = ", ".join(ENTRY_ATTRIBUTES)
    return f"""
        SELECT site, cityHash64(site, vid, seg_start) AS visit_id, toDateTime(seg_start) AS start_ts,
            toDateTime(seg_end) AS end_ts, seg_entry AS entry_page, seg_exit AS exit_page,
            toUInt32(seg_pageviews) AS pageviews, toUInt32(seg_custom) AS custom_events,
            toUInt64(seg_engaged) AS engaged_ms,
            if(pageviews <= 1, engaged_ms, toUInt64(seg_end - seg_start) * 1000) AS duration_ms,
            toUInt8(pageviews = 1 AND custom_events = 0) AS bounce, vid AS visitor_id,
            toUInt32(seg_events) AS events, seg_exit_host AS exit_hostname, {attributes}
        FROM ({segments})
    """


def _open(
    query: StatsQuery,
    dimensions: tuple[str, ...],
    condition: str,
    mark: int | None,
    params: dict[str, Any],
    visitors: OpenVisitors | None = None,
) -> str | None:
    """Visits not stored yet, derived from events; None when the range cannot hold any."""
    open_from = mark - IDLE_SECONDS if mark is not None else 0
    if query.end + MAX_VISIT_SECONDS < open_from or (visitors is not None and visitors.hashes == ()):
        return None
    # Open visits end after open_from, so they started at most MAX_VISIT_SECONDS before it; a visit starting
    # then had no event in the 30 minutes before, so the window need not reach further back (a longer
    # visit is cut where the window starts, as the visit job cuts it).
    first_start = max(query.start, open_from - MAX_VISIT_SECONDS)
    params.update(
        since=first_start - IDLE_SECONDS,
        until=query.end + MAX_VISIT_SECONDS + IDLE_SECONDS,
        open_from=open_from,
    )
    where = [
        _RANGE,
        "end_ts >= toDateTime(%(open_from)s)",
        "visit_id NOT IN (SELECT visit_id FROM visits WHERE site = %(site)s AND start_ts >= toDateTime(%(since)s))",
        condition,
    ]
    selects = [*dimension_selects(dimensions, "start_ts"), PER_GROUP]
    condition = _RECENT_VISITORS
    if visitors is not None and visitors.hashes is not None:
        params["recent"] = visitors.hashes
        condition = "visitor_id IN %(recent)s"
    if visitors is None or visitors.across_midnight:
        source = visits_sql(site=True, condition=condition)
    else:
        source = _same_day_visits_sql(condition)
    return f"SELECT {', '.join(selects)} FROM ({source}) WHERE {' AND '.join(where)}{_grouped(dimensions)}"


def build_visit_sql(
    query: StatsQuery,
    part: Part,
    mark: int | None,
    ordered: bool = True,
    visitors: OpenVisitors | None = None,
) -> tuple[str, dict[str, Any]]:
    """SQL and parameters of a part answered from visit rows (its metrics in the order of part.metrics);
    mark is the visit job's watermark, visitors what open_visitors() found."""
    params: dict[str, Any] = {
        "site": query.site,
        "start": query.start,
        "end": query.end,
        "tz": query.timezone,
        "first_day": query.first_day.isoformat(),
    }
    dimensions = part.dimensions
    condition = filters_sql(query.filters, column_on_visits, params)
    if part.source == VISIT_ROLLUP:
        parts = [_closed_from_rollup(query, dimensions, params)]
    else:
        parts = [_closed_from_visits(dimensions, condition)]
    opened = _open(query, dimensions, condition, mark, params, visitors)
    if opened:
        parts.append(opened)
    dims = [f"d{i}" for i in range(len(dimensions))]
    metrics = [f"{METRICS[m].on_visits} AS m{i}" for i, m in enumerate(part.metrics)]
    sql = f"SELECT {', '.join([*dims, *metrics])} FROM ({' UNION ALL '.join(parts)})"
    if dims:
        sql += " GROUP BY " + ", ".join(dims)
        if ordered:
            sql += order_sql(query) + f" LIMIT {int(query.offset)}, {int(query.limit)}"
    return sql, params
