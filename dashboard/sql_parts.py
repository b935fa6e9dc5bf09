"""SQL fragments shared by the event and visit queries: filters and ORDER BY."""

from typing import Any

from dashboard.definitions import DIMENSIONS
from dashboard.filters import FilterTree, filters_sql
from dashboard.query import StatsQuery
from dashboard.registry import dimension


def _column(name: str) -> str:
    """SQL of a dimension on events and visit rows, which name their columns alike."""
    if name in DIMENSIONS:
        return DIMENSIONS[name]
    declared = dimension(name)
    expression = declared and (declared.on_visits or declared.on_events)
    if not expression:
        raise ValueError(f"{name} has no column on these rows")
    return expression


def filter_sql(index: int, condition: FilterTree, params: dict[str, Any]) -> str:
    """SQL for one top-level filter (a leaf or an and/or/not tree), its values bound as parameters.

    The index is kept for existing callers; parameter names are picked unused by dashboard/filters.py.
    """
    return filters_sql((condition,), _column, params)


def order_sql(query: StatsQuery) -> str:
    """ORDER BY over the d<i>/m<i> aliases, with every dimension as a final tie-breaker."""
    terms = []
    for name, direction in query.order_by:
        alias = f"m{query.metrics.index(name)}" if name in query.metrics else f"d{query.dimensions.index(name)}"
        terms.append(f"{alias} {direction.upper()}")
    terms += [f"d{i} ASC" for i in range(len(query.dimensions)) if f"d{i} " not in " ".join(terms) + " "]
    return " ORDER BY " + ", ".join(terms) if terms else ""
