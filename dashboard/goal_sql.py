"""Goals as SQL over event rows (raw events or sessionised ones): which goals each event completes.

Goals are compiled per query from their definitions, so they apply to every event stored before they
were made. Patterns become constant match() arguments: ClickHouse 18.16 takes no pattern from a column.
"""

from collections.abc import Sequence
from typing import Any

from dashboard.filters import CONTAINS, CONTAINS_NOT, IS, IS_NOT, NEGATIVE, Filter
from storage.goals import EVENT, PAGEVIEW, SCROLL, Goal, pattern_regex

GOAL_DIMENSION = "event:goal"
# event:goal filters take these operators. is and contains select the events completing the named goals
# (conversions); is_not and contains_not keep the visitors who completed none of them in the period, as
# Plausible's dashboard sends them (["has_not_done", ["is", "event:goal", [...]]]).
CONVERTING_OPERATORS = (IS, CONTAINS)
GOAL_OPERATORS = (IS, IS_NOT, CONTAINS, CONTAINS_NOT)


def _bind(params: dict[str, Any], value: Any) -> str:
    """Bind a value under a goal_<n> name not used yet."""
    index = len(params)
    while f"goal_{index}" in params:
        index += 1
    params[f"goal_{index}"] = value
    return f"%(goal_{index})s"


def goal_condition(goal: Goal, params: dict[str, Any]) -> str:
    """SQL true for an event row that completes the goal."""
    if goal.kind == PAGEVIEW:
        return f"(name = 'pageview' AND match(pathname, {_bind(params, pattern_regex(goal.pattern))}))"
    if goal.kind == SCROLL:
        regex = _bind(params, pattern_regex(goal.pattern))
        return f"(name = 'engagement' AND match(pathname, {regex}) AND scroll_depth >= {int(goal.depth)})"
    if goal.kind == EVENT:
        sql = f"name = {_bind(params, goal.event_name)}"
        if goal.prop_key:
            key, value = _bind(params, goal.prop_key), _bind(params, goal.prop_value)
            sql += f" AND has(prop_keys, {key}) AND prop_values[indexOf(prop_keys, {key})] = {value}"
        return f"({sql})"
    raise ValueError(f"unknown goal kind {goal.kind}")


def goal_dimension_sql(goals: Sequence[Goal], params: dict[str, Any]) -> str:
    """The goal names of an event row, one row per completed goal (arrayJoin); rows completing none vanish."""
    if not goals:
        return "arrayJoin(emptyArrayString())"
    items = ", ".join(f"if({goal_condition(g, params)}, {_bind(params, g.display_name)}, '')" for g in goals)
    return f"arrayJoin(arrayFilter(x -> x != '', [{items}]))"


def converts(condition: Any) -> bool:
    """True for a filter leaf that selects conversions: event:goal with is or contains."""
    return getattr(condition, "dimension", None) == GOAL_DIMENSION and condition.operator in CONVERTING_OPERATORS


def named_goals(goals: Sequence[Goal], condition: Filter) -> list[Goal]:
    """The goals an event:goal filter names (is, is_not: exact names; contains, contains_not: names holding
    a value)."""
    if condition.case_sensitive:
        values, name_of = condition.values, lambda g: g.display_name
    else:
        values, name_of = tuple(v.lower() for v in condition.values), lambda g: g.display_name.lower()
    if NEGATIVE.get(condition.operator, condition.operator) == IS:
        return [g for g in goals if name_of(g) in values]
    return [g for g in goals if any(v in name_of(g) for v in values)]


def goal_filter_sql(goals: Sequence[Goal], condition: Filter, params: dict[str, Any]) -> str:
    """SQL of an event:goal filter on event rows: is/contains, the row completes one of the named goals
    ("0" when none is named); is_not/contains_not, the row's visitor completed none of them in the query's
    period (params site, start and end)."""
    chosen = named_goals(goals, condition)
    completes = " OR ".join(goal_condition(g, params) for g in chosen)
    if condition.operator in CONVERTING_OPERATORS:
        return f"({completes})" if chosen else "(0)"
    if not chosen:
        return "(1)"
    return (
        "(visitor_id NOT IN (SELECT visitor_id FROM events WHERE site = %(site)s AND ts >= toDateTime(%(start)s) "
        f"AND ts < toDateTime(%(end)s) AND ({completes})))"
    )


def counted_rows_sql(goals: Sequence[Goal], params: dict[str, Any]) -> str:
    """Rows a goal query counts: every event but engagement, and engagement completing a scroll goal."""
    scrolls = [goal_condition(g, params) for g in goals if g.kind == SCROLL]
    return "(" + " OR ".join(["name != 'engagement'", *scrolls]) + ")"
