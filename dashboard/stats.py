"""Run a StatsQuery: from the hourly rollups when they hold the answer, else from raw events."""

import dataclasses
from typing import Any

from collector.storage.store import Store
from collector.storage.visits import watermark
from dashboard.definitions import DIMENSIONS, METRICS, ROLLUP_DIMENSIONS, TIME_DIMENSIONS, VISIT_METRICS
from dashboard.query import StatsQuery
from dashboard.sql_parts import filter_sql, order_sql
from dashboard.visits import build_visit_sql, uses_visit_rollup


def uses_rollup(query: StatsQuery) -> bool:
    """Rollups answer unfiltered queries with at most one non-time dimension they hold."""
    event_metrics = [m for m in query.metrics if m in METRICS]
    if len(event_metrics) < len(query.metrics) and not uses_visit_rollup(query):
        return False
    if not event_metrics:
        return True
    if query.filters or any(METRICS[m].rollup is None for m in event_metrics):
        return False
    plain = [d for d in query.dimensions if d not in TIME_DIMENSIONS]
    return len(plain) == 0 or (len(plain) == 1 and plain[0] in ROLLUP_DIMENSIONS)


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
        if not any(METRICS[m].engagement for m in query.metrics):
            where.append("name != 'engagement'")
        where += [filter_sql(i, f, params) for i, f in enumerate(query.filters)]
    sql = f"SELECT {', '.join(selects)} FROM {table} WHERE {' AND '.join(where)}"
    if query.dimensions:
        sql += " GROUP BY " + ", ".join(f"d{i}" for i in range(len(query.dimensions)))
        sql += order_sql(query)
        sql += f" LIMIT {int(query.offset)}, {int(query.limit)}"
    return sql, params


def run_query(store: Store, query: StatsQuery) -> list[dict[str, list[Any]]]:
    """Rows as {"dimensions": [...], "metrics": [...]}, metrics in the order asked."""
    count = len(query.dimensions)
    event_metrics = tuple(m for m in query.metrics if m in METRICS)
    visit_metrics = tuple(m for m in query.metrics if m in VISIT_METRICS)
    if not visit_metrics:
        rows = store.query(*build_sql(query))
    elif not event_metrics:
        rows = store.query(*build_visit_sql(query, watermark(store)))
    else:
        rows = _combined(store, query, event_metrics, visit_metrics)
    return [{"dimensions": list(row[:count]), "metrics": list(row[count:])} for row in rows]


def _combined(store: Store, query: StatsQuery, event_metrics: tuple, visit_metrics: tuple) -> list[tuple]:
    """Event and visit metrics run apart, joined on the dimensions, then ordered and paginated here."""
    unpaged = {"order_by": (), "limit": 10**9, "offset": 0}
    count = len(query.dimensions)
    found: dict[tuple, dict[str, Any]] = {}
    event_sql = build_sql(dataclasses.replace(query, metrics=event_metrics, **unpaged))
    visit_sql = build_visit_sql(dataclasses.replace(query, metrics=visit_metrics, **unpaged), watermark(store), False)
    for names, (sql, params) in ((event_metrics, event_sql), (visit_metrics, visit_sql)):
        for row in store.query(sql, params):
            found.setdefault(tuple(row[:count]), {}).update(zip(names, row[count:], strict=True))
    rows = [(*key, *(values.get(m, 0) for m in query.metrics)) for key, values in found.items()]
    rows.sort(key=lambda row: row[:count])
    for name, direction in reversed(query.order_by):
        index = count + query.metrics.index(name) if name in query.metrics else query.dimensions.index(name)
        rows.sort(key=lambda row, i=index: (row[i] is not None, row[i] or 0), reverse=direction == "desc")
    return rows[query.offset : query.offset + query.limit]
