"""SQL shared by every source's query: ORDER BY over the d<i>/m<i> aliases."""

from dashboard.query import StatsQuery


def order_sql(query: StatsQuery) -> str:
    """ORDER BY over the d<i>/m<i> aliases, with every dimension as a final tie-breaker."""
    terms = []
    for name, direction in query.order_by:
        alias = f"m{query.metrics.index(name)}" if name in query.metrics else f"d{query.dimensions.index(name)}"
        terms.append(f"{alias} {direction.upper()}")
    terms += [f"d{i} ASC" for i in range(len(query.dimensions)) if f"d{i} " not in " ".join(terms) + " "]
    return " ORDER BY " + ", ".join(terms) if terms else ""
