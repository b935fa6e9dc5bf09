"""Funnels: how many visitors completed a site's goals in order, each step within one visit.

A visit is a piece of sessionised events (storage/sessions.py session_events_sql, 30 minutes idle ends it);
ClickHouse's windowFunnel gives each visit the number of steps it completed in order, and a visitor counts
at the furthest step any of their visits reached. The query's period and filters apply to the event rows.
"""

from dataclasses import dataclass
from typing import Any

from dashboard.filters import filters_sql
from dashboard.goal_sql import goal_condition
from dashboard.planner import column_on_sessions, goal_leaf
from dashboard.query import StatsQuery
from storage.goals import Funnel, Goal
from storage.sessions import IDLE_SECONDS, MAX_VISIT_SECONDS, session_events_sql
from storage.store import Store


@dataclass(frozen=True)
class FunnelStep:
    """One step's numbers: visitors who reached it, conversion from the previous step and from the first."""

    goal: str
    visitors: int
    conversion_from_previous: float
    conversion_from_start: float
    dropoff: int
    dropoff_rate: float

    def as_json(self) -> dict[str, Any]:
        """The step as the API writes it."""
        return dict(self.__dict__)


def funnel_sql(query: StatsQuery, steps: list[Goal]) -> tuple[str, dict[str, Any]]:
    """SQL of (level, visitors) rows: visitors whose best visit completed exactly `level` steps (level >= 1)."""
    params: dict[str, Any] = {
        "site": query.site,
        "start": query.start,
        "end": query.end,
        "tz": query.timezone,
        "first_day": query.first_day.isoformat(),
        "since": query.start - MAX_VISIT_SECONDS - IDLE_SECONDS,
        "until": query.end + MAX_VISIT_SECONDS + IDLE_SECONDS,
    }
    conditions = [goal_condition(goal, params) for goal in steps]
    # Only visitors with a first step in the period can enter the funnel; their events are sessionised.
    restriction = (
        "AND site = %(site)s AND visitor_id IN (SELECT visitor_id FROM events WHERE site = %(site)s AND "
        f"ts >= toDateTime(%(start)s) AND ts < toDateTime(%(end)s) AND {conditions[0]})"
    )
    if not query.filters:
        return _unfiltered_sql(conditions, restriction), params
    column_of = lambda name: column_on_sessions(name, params, query.goals)  # noqa: E731
    condition = filters_sql(query.filters, column_of, params, goal_leaf(query.goals, params))
    per_visit = (
        f"SELECT visitor_id, visit_id, windowFunnel({MAX_VISIT_SECONDS})(ts, {', '.join(conditions)}) AS level "
        f"FROM ({session_events_sql(restriction)}) "
        f"WHERE ts >= toDateTime(%(start)s) AND ts < toDateTime(%(end)s) AND {condition} "
        "GROUP BY visitor_id, visit_id"
    )
    per_visitor = f"SELECT visitor_id, max(level) AS best FROM ({per_visit}) GROUP BY visitor_id"
    sql = f"SELECT best, count() FROM ({per_visitor}) WHERE best > 0 GROUP BY best ORDER BY best"
    return sql, params


def _unfiltered_sql(conditions: list[str], restriction: str) -> str:
    """funnel_sql without filters: the visits are cut from each visitor's sorted event times alone, as
    session_events_sql cuts them (30 idle minutes; a piece of engagement events only is no visit), with
    no visit attributes to derive or join."""
    flags = ", ".join(f"toUInt8({condition})" for condition in conditions)
    steps = ", ".join(f"tupleElement(e, {index + 3}) = 1 AND in_period" for index in range(len(conditions)))
    grouped = (
        f"SELECT visitor_id AS vid, arraySort(groupArray((toUInt32(ts), toUInt8(name != 'engagement'), {flags}))) "
        "AS evs FROM events WHERE ts >= toDateTime(%(since)s) AND ts < toDateTime(%(until)s) "
        f"{restriction} GROUP BY vid"
    )
    pieces = (
        "SELECT vid, evs, arrayCumSum(arrayMap(gap -> toUInt32(gap > "
        f"{IDLE_SECONDS}), arrayDifference(arrayMap(x -> tupleElement(x, 1), evs)))) AS pieces FROM ({grouped})"
    )
    per_visit = (
        f"SELECT vid, piece, windowFunnel({MAX_VISIT_SECONDS})(toDateTime(tupleElement(e, 1)), {steps}) AS level "
        f"FROM (SELECT vid, e, piece, tupleElement(e, 1) >= %(start)s AND tupleElement(e, 1) < %(end)s AS in_period "
        f"FROM ({pieces}) ARRAY JOIN evs AS e, pieces AS piece) "
        "GROUP BY vid, piece HAVING countIf(tupleElement(e, 2) = 1) > 0"
    )
    per_visitor = f"SELECT vid, max(level) AS best FROM ({per_visit}) GROUP BY vid"
    return f"SELECT best, count() FROM ({per_visitor}) WHERE best > 0 GROUP BY best ORDER BY best"


def _rate(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


def run_funnel(store: Store, query: StatsQuery, funnel: Funnel, goals: list[Goal]) -> list[FunnelStep]:
    """Each step of a funnel with its visitors over the query's period and filters."""
    by_name = {goal.display_name: goal for goal in goals}
    steps = [by_name[name] for name in funnel.steps if name in by_name]
    if len(steps) != len(funnel.steps):
        missing = next(name for name in funnel.steps if name not in by_name)
        raise LookupError(f"the funnel's step {missing!r} is no longer a goal of the site")
    exact = dict(store.query(*funnel_sql(query, steps)))
    reached = [sum(count for level, count in exact.items() if level >= n) for n in range(1, len(steps) + 1)]
    found = []
    for index, goal in enumerate(steps):
        previous = reached[index - 1] if index else reached[0]
        visitors = reached[index]
        found.append(
            FunnelStep(
                goal.display_name,
                visitors,
                _rate(visitors, previous),
                _rate(visitors, reached[0]),
                previous - visitors,
                round(100 - _rate(visitors, previous), 2) if previous else 0.0,
            )
        )
    return found
