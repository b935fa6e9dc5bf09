"""SQL fragments shared by the event and visit queries: filters and ORDER BY."""

from typing import Any

from dashboard.definitions import DIMENSIONS
from dashboard.query import Filter, StatsQuery


def filter_sql(index: int, condition: Filter, params: dict[str, Any]) -> str:
    """SQL for one filter, its values bound as parameters."""
    column = DIMENSIONS[condition.dimension]
    name = f"f{index}"
    if condition.operator == "contains":
        parts = []
        for position, value in enumerate(condition.values):
            params[f"{name}_{position}"] = value
            parts.append(f"positionCaseInsensitiveUTF8({column}, %({name}_{position})s) > 0")
        return "(" + " OR ".join(parts) + ")"
    params[name] = condition.values
    operator = "IN" if condition.operator == "is" else "NOT IN"
    return f"{column} {operator} %({name})s"


def order_sql(query: StatsQuery) -> str:
    """ORDER BY over the d<i>/m<i> aliases, with every dimension as a final tie-breaker."""
    terms = []
    for name, direction in query.order_by:
        alias = f"m{query.metrics.index(name)}" if name in query.metrics else f"d{query.dimensions.index(name)}"
        terms.append(f"{alias} {direction.upper()}")
    terms += [f"d{i} ASC" for i in range(len(query.dimensions)) if f"d{i} " not in " ".join(terms) + " "]
    return " ORDER BY " + ", ".join(terms) if terms else ""
