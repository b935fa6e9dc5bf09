"""Run a StatsQuery: from the hourly rollups when they hold the answer, else from raw events."""

from typing import Any

from collector.storage.store import Store
from dashboard.definitions import DIMENSIONS, METRICS, ROLLUP_DIMENSIONS, TIME_DIMENSIONS
from dashboard.query import Filter, StatsQuery


def uses_rollup(query: StatsQuery) -> bool:
    """Rollups answer unfiltered queries with at most one non-time dimension they hold."""
    if query.filters or any(METRICS[m].rollup is None for m in query.metrics):
        return False
    plain = [d for d in query.dimensions if d not in TIME_DIMENSIONS]
    return len(plain) == 0 or (len(plain) == 1 and plain[0] in ROLLUP_DIMENSIONS)


def _filter_sql(index: int, condition: Filter, params: dict[str, Any]) -> str:
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


def _order_sql(query: StatsQuery) -> str:
    """ORDER BY over the d<i>/m<i> aliases, with every dimension as a final tie-breaker."""
    terms = []
    for name, direction in query.order_by:
        alias = f"m{query.metrics.index(name)}" if name in query.metrics else f"d{query.dimensions.index(name)}"
        terms.append(f"{alias} {direction.upper()}")
    terms += [f"d{i} ASC" for i in range(len(query.dimensions)) if f"d{i} " not in " ".join(terms) + " "]
    return " ORDER BY " + ", ".join(terms) if terms else ""


def build_sql(query: StatsQuery) -> tuple[str, dict[str, Any]]:
    """SQL and parameters for a query."""
    params: dict[str, Any] = {"site": query.site, "start": query.start, "end": query.end, "tz": query.timezone}
    rollup = uses_rollup(query)
    time_column = "hour" if rollup else "ts"
    selects, where = (
        [],
        ["site = %(site)s", f"{time_column} >= toDateTime(%(start)s)", f"{time_column} < toDateTime(%(end)s)"],
    )
    for index, dimension in enumerate(query.dimensions):
        if dimension in TIME_DIMENSIONS:
            expression = TIME_DIMENSIONS[dimension].format(col=time_column)
        elif rollup:
            expression = "value"
            params["dimension"] = dimension
            where.append("dimension = %(dimension)s")
        else:
            expression = DIMENSIONS[dimension]
        selects.append(f"{expression} AS d{index}")
    for index, metric in enumerate(query.metrics):
        definition = METRICS[metric]
        selects.append(f"{definition.rollup if rollup else definition.raw} AS m{index}")
    if rollup:
        table = "dimension_hourly" if "dimension" in params else "site_hourly"
    else:
        table = "events"
        where.append("name != 'engagement'")
        where += [_filter_sql(i, f, params) for i, f in enumerate(query.filters)]
    sql = f"SELECT {', '.join(selects)} FROM {table} WHERE {' AND '.join(where)}"
    if query.dimensions:
        sql += " GROUP BY " + ", ".join(f"d{i}" for i in range(len(query.dimensions)))
        sql += _order_sql(query)
        sql += f" LIMIT {int(query.offset)}, {int(query.limit)}"
    return sql, params


def run_query(store: Store, query: StatsQuery) -> list[dict[str, list[Any]]]:
    """Rows as {"dimensions": [...], "metrics": [...]}, metrics in the order asked."""
    sql, params = build_sql(query)
    count = len(query.dimensions)
    return [{"dimensions": list(row[:count]), "metrics": list(row[count:])} for row in store.query(sql, params)]
