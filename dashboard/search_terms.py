"""Search-term statistics from the search_terms table, with rare terms summed into one row."""

from typing import Any

from dashboard.query import StatsQuery
from dashboard.registry import SEARCH_DIMENSION, SEARCH_METRICS
from storage.store import Store


def is_search_query(query: StatsQuery) -> bool:
    """True when the query asks for search metrics (parse_query allows nothing else with them)."""
    return any(metric in SEARCH_METRICS for metric in query.metrics)


def build_search_sql(query: StatsQuery, min_count: int) -> tuple[str, dict[str, Any]]:
    """SQL and parameters: totals, or one row per term searched at least min_count times plus a 'rare' row."""
    params: dict[str, Any] = {
        "site": query.site,
        "first": query.first_day.isoformat(),
        "last": query.last_day.isoformat(),
        "k": min_count,
    }
    where = "site = %(site)s AND day >= toDate(%(first)s) AND day <= toDate(%(last)s)"
    columns = [SEARCH_METRICS[metric] for metric in query.metrics]
    if SEARCH_DIMENSION not in query.dimensions:
        totals = ", ".join(f"sum({column}) AS m{index}" for index, column in enumerate(columns))
        return f"SELECT {totals} FROM search_terms WHERE {where}", params
    # The threshold applies to each term's total over the whole period, hence the inner GROUP BY.
    inner = (
        "SELECT term, sum(searches) AS n_searches, sum(zero_result_searches) AS n_zero_result_searches, "
        f"n_searches < %(k)s AS rare FROM search_terms WHERE {where} GROUP BY term"
    )
    metrics = [f"sum(n_{column}) AS m{index}" for index, column in enumerate(columns)]
    order = [
        f"{'d0' if name == SEARCH_DIMENSION else 'm' + str(query.metrics.index(name))} {direction.upper()}"
        for name, direction in query.order_by
    ]
    sql = (
        f"SELECT rare, if(rare, '', term) AS d0, {', '.join(metrics)} FROM ({inner}) GROUP BY rare, d0 "
        f"ORDER BY rare ASC, {', '.join([*order, 'd0 ASC'])} LIMIT {int(query.offset)}, {int(query.limit)}"
    )
    return sql, params


def run_search_query(store: Store, query: StatsQuery, min_count: int) -> list[dict[str, list[Any]]]:
    """Rows as {"dimensions": [...], "metrics": [...]}; the rare-terms row has the dimension null."""
    sql, params = build_search_sql(query, min_count)
    rows = store.query(sql, params)
    if SEARCH_DIMENSION not in query.dimensions:
        return [{"dimensions": [], "metrics": list(row)} for row in rows]
    return [{"dimensions": [None if row[0] else row[1]], "metrics": list(row[2:])} for row in rows]
