"""Goals as SQL over event rows (raw events or sessionised ones): which goals each event completes.

Goals are compiled per query from their definitions, so they apply to every event stored before they
were made. Patterns become constant match() arguments: ClickHouse 18.16 takes no pattern from a column.
"""

from collections.abc import Sequence
from typing import Any

from dashboard.filters import CONTAINS, IS, Filter
from storage.goals import EVENT, PAGEVIEW, SCROLL, Goal, pattern_regex

GOAL_DIMENSION = "event:goal"
# event:goal filters take these operators (as Plausible's do).
GOAL_OPERATORS = (IS, CONTAINS)


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


def named_goals(goals: Sequence[Goal], condition: Filter) -> list[Goal]:
    """The goals an event:goal filter names (is: exact names; contains: names holding a value)."""
    if condition.case_sensitive:
        values, name_of = condition.values, lambda g: g.display_name
    else:
        values, name_of = tuple(v.lower() for v in condition.values), lambda g: g.display_name.lower()
    if condition.operator == IS:
        return [g for g in goals if name_of(g) in values]
    return [g for g in goals if any(v in name_of(g) for v in values)]


def goal_filter_sql(goals: Sequence[Goal], condition: Filter, params: dict[str, Any]) -> str:
    """SQL true for an event row completing one of the goals a filter names ("0" when it names none)."""
    chosen = named_goals(goals, condition)
    if not chosen:
        return "(0)"
    return "(" + " OR ".join(goal_condition(g, params) for g in chosen) + ")"


def counted_rows_sql(goals: Sequence[Goal], params: dict[str, Any]) -> str:
    """Rows a goal query counts: every event but engagement, and engagement completing a scroll goal."""
    scrolls = [goal_condition(g, params) for g in goals if g.kind == SCROLL]
    return "(" + " OR ".join(["name != 'engagement'", *scrolls]) + ")"
