"""Queries that mix event and visit dimensions or filters, answered from events sessionised at query time.

Each event row carries its visit's entry attributes (storage/sessions.py session_events_sql), so a filter
tree may name both kinds, and visit metrics count "visits that contain a matching event" (Plausible's
meaning). Only the visitors who have an event matching the query's top-level event conditions are
sessionised; their events are read from 6.5 hours around the range so visits are whole.
"""

from typing import Any

from dashboard.filters import filters_sql
from dashboard.goal_sql import counted_rows_sql
from dashboard.planner import (
    Part,
    column_on_events,
    column_on_sessions,
    counts_conversions,
    goal_leaf,
    metric_on_events,
)
from dashboard.query import StatsQuery
from dashboard.registry import EVENT, METRICS, TIME_DIMENSIONS, VISIT, dimension
from dashboard.sql_parts import order_sql
from storage.sessions import IDLE_SECONDS, MAX_VISIT_SECONDS, session_events_sql


def _top_level_event_conditions(query: StatsQuery) -> list[Any]:
    """Top-level (ANDed) leaf conditions on event dimensions: every matching visit has such an event."""
    found = []
    for item in query.filters:
        if getattr(item, "children", None) is None:
            declared = dimension(item.dimension)
            if declared is not None and declared.scope == EVENT:
                found.append(item)
    return found


def _source(query: StatsQuery, params: dict[str, Any]) -> str:
    """The sessionised event rows of the visitors who can matter."""
    params.update(
        since=query.start - MAX_VISIT_SECONDS - IDLE_SECONDS, until=query.end + MAX_VISIT_SECONDS + IDLE_SECONDS
    )
    restriction = "AND site = %(site)s"
    conditions = _top_level_event_conditions(query)
    if conditions:
        column_of = lambda name: column_on_events(name, params, query.goals)  # noqa: E731
        matching = filters_sql(tuple(conditions), column_of, params, goal_leaf(query.goals, params))
        restriction += (
            " AND visitor_id IN (SELECT visitor_id FROM events WHERE site = %(site)s AND "
            f"ts >= toDateTime(%(since)s) AND ts < toDateTime(%(until)s) AND {matching})"
        )
    return session_events_sql(restriction)


def _dimension_selects(
    dimensions: tuple[str, ...], time_column: str, params: dict[str, Any], goals: tuple[Any, ...]
) -> list[str]:
    selects = []
    for index, name in enumerate(dimensions):
        if name in TIME_DIMENSIONS:
            expression = TIME_DIMENSIONS[name].format(col=time_column)
        else:
            expression = column_on_sessions(name, params, goals)
        selects.append(f"{expression} AS d{index}")
    return selects


def build_sessions_sql(query: StatsQuery, part: Part, ordered: bool = True) -> tuple[str, dict[str, Any]]:
    """SQL and parameters of a part answered from sessionised events."""
    params: dict[str, Any] = {
        "site": query.site,
        "start": query.start,
        "end": query.end,
        "tz": query.timezone,
        "first_day": query.first_day.isoformat(),
    }
    source = _source(query, params)
    column_of = lambda name: column_on_sessions(name, params, query.goals)  # noqa: E731
    condition = filters_sql(query.filters, column_of, params, goal_leaf(query.goals, params))
    goal_rows = counts_conversions(part.dimensions, query.filters)
    dims = [f"d{i}" for i in range(len(part.dimensions))]
    grouped = " GROUP BY " + ", ".join(dims) if dims else ""
    if all(METRICS[m].kind == VISIT for m in part.metrics):
        # One row per (group, visit) first: a visit counts once in each group it has a matching event in.
        per_visit = "visit_id, any(v_bounce) AS b, any(v_duration) AS du, any(v_pageviews) AS pv, any(v_events) AS ev, "
        inner = (
            f"SELECT {', '.join([*_dimension_selects(part.dimensions, 'start_ts', params, query.goals), per_visit])}"
            "any(visitor_id) AS vis "
            f"FROM ({source}) WHERE start_ts >= toDateTime(%(start)s) AND start_ts < toDateTime(%(end)s) "
            f"AND {condition} GROUP BY {', '.join([*dims, 'visit_id'])}"
        )
        sums = (
            "toUInt64(count()) AS v_visits, toUInt64(sum(b)) AS v_bounces, toUInt64(sum(pv)) AS v_pageviews, "
            "toUInt64(sum(du)) AS v_duration, toUInt64(sum(ev)) AS v_events, uniqCombinedState(vis) AS v_visitors"
        )
        per_group = f"SELECT {', '.join([*dims, sums])} FROM ({inner}){grouped}"
        metrics = [f"{METRICS[m].on_visits} AS m{i}" for i, m in enumerate(part.metrics)]
        sql = f"SELECT {', '.join([*dims, *metrics])} FROM ({per_group}){grouped}"
    else:
        where = ["ts >= toDateTime(%(start)s)", "ts < toDateTime(%(end)s)", condition]
        if not any(METRICS[m].engagement for m in part.metrics):
            where.append(counted_rows_sql(query.goals, params) if goal_rows else "name != 'engagement'")
        selects = _dimension_selects(part.dimensions, "ts", params, query.goals)
        selects += [f"{metric_on_events(m, goal_rows)} AS m{i}" for i, m in enumerate(part.metrics)]
        sql = f"SELECT {', '.join(selects)} FROM ({source}) WHERE {' AND '.join(where)}{grouped}"
    if dims and ordered:
        sql += order_sql(query) + f" LIMIT {int(query.offset)}, {int(query.limit)}"
    return sql, params
