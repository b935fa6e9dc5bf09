"""Imported statistics in an answer (Plausible's include.imports): the decision, the SQL, and the merge.

The planner names the imported table of each part (dashboard/planner.py, from the registry). Native
rows are read with the sums behind every ratio (visits, bounces, durations, visit pageviews), imported
rows give the same sums, and the ratios are computed after adding them, as Plausible does.
"""

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from dashboard.filters import filters_sql
from dashboard.planner import Part, filter_dimensions, imported_table, plan
from dashboard.query import StatsQuery
from dashboard.registry import DERIVED, IMPORTED_DIMENSIONS, IMPORTED_TOTALS, METRICS, TIME_DIMENSIONS
from storage.imported import imported_days
from storage.store import Store

NO_IMPORTED_DATA = "no_imported_data"
OUT_OF_RANGE = "out_of_range"
# Plausible's meta.imports_warning texts (lib/plausible/stats/query_result.ex), without its docs link.
WARNINGS = {
    "unsupported_query": "Imported stats are not included in the results because query parameters are not supported.",
    "unsupported_interval": (
        "Imported stats are not included because the time dimension (i.e. the interval) is too short."
    ),
}
# The sums each asked metric is made of, in the order they are read.
COMPONENTS: dict[str, tuple[str, ...]] = {
    "visitors": ("visitors",),
    "pageviews": ("pageviews",),
    "events": ("events",),
    "visits": ("visits",),
    "bounce_rate": ("visits", "bounces"),
    "visit_duration": ("visits", "visit_duration_ms"),
    "views_per_visit": ("visits", "visit_pageviews"),
}
_VISIT_TABLE_SUMS = {
    "visitors": "sum(visitors)",
    "pageviews": "sum(pageviews)",
    "events": "sum(pageviews)",
    "visits": "sum(visits)",
    "bounces": "sum(bounces)",
    "visit_duration_ms": "sum(visit_duration) * 1000",
    "visit_pageviews": "sum(pageviews)",
}
# The tables of visits by one visit attribute: every sum of a visit, as imported_visitors holds them.
_VISIT_TABLES = (
    IMPORTED_TOTALS,
    "imported_sources",
    "imported_locations",
    "imported_devices",
    "imported_browsers",
    "imported_operating_systems",
)
_PAGEVIEW_SUMS = {"visitors": "sum(visitors)", "pageviews": "sum(pageviews)", "events": "sum(pageviews)"}
# The SQL of each component in each imported table (a table without a component cannot give it).
_SUMS: dict[str, dict[str, str]] = {
    **dict.fromkeys(_VISIT_TABLES, _VISIT_TABLE_SUMS),
    "imported_entry_pages": {**_VISIT_TABLE_SUMS, "visits": "sum(entrances)"},
    "imported_exit_pages": {**_VISIT_TABLE_SUMS, "visits": "sum(exits)"},
    "imported_pages": _PAGEVIEW_SUMS,
    "imported_custom_events": {"visitors": "sum(visitors)", "pageviews": "0", "events": "sum(events)"},
}


@dataclasses.dataclass(frozen=True)
class _Addition:
    """Rows another imported table adds to a table's answer when the query has no filters."""

    table: str
    sums: dict[str, str]
    pageview_row: bool  # the rows are named "pageview" instead of the table's dimension values
    needs_value_dimension: bool  # only for a breakdown by a dimension other than time


_ADDITIONS = {
    # Plausible's event:name breakdown of imports lists pageviews beside the custom events.
    "imported_custom_events": _Addition(IMPORTED_TOTALS, _PAGEVIEW_SUMS, True, True),
    # Totals count custom events too, as Teller's events metric does.
    IMPORTED_TOTALS: _Addition("imported_custom_events", {"events": "sum(events)"}, False, False),
}
_BUCKETS = {
    "time:day": "toString(date)",
    "time:week": "toString(greatest(toMonday(date), toDate(%(first_day)s)))",
    "time:month": "toString(greatest(toStartOfMonth(date), toDate(%(first_day)s)))",
}


@dataclasses.dataclass(frozen=True)
class ImportsDecision:
    """Whether a query's answer includes imported statistics, and if not, why (Plausible's meta keys)."""

    included: bool
    skip_reason: str | None = None
    tables: tuple[tuple[Part, str], ...] = ()

    def meta(self) -> dict[str, Any]:
        """meta.imports_included, imports_skip_reason and imports_warning, as Plausible writes them."""
        found: dict[str, Any] = {"imports_included": self.included}
        if self.skip_reason:
            found["imports_skip_reason"] = self.skip_reason
            if self.skip_reason in WARNINGS:
                found["imports_warning"] = WARNINGS[self.skip_reason]
        return found


def components_of(metrics: tuple[str, ...]) -> tuple[str, ...]:
    """The sums behind the metrics, each once."""
    found: list[str] = []
    for metric in metrics:
        for component in COMPONENTS.get(metric, ()):
            if component not in found:
                found.append(component)
    return tuple(found)


def decide(store: Store, query: StatsQuery) -> ImportsDecision:
    """Whether the imported tables can add to this query (include.imports asked), from the planner."""
    days = imported_days(store, query.site)
    if days is None:
        return ImportsDecision(False, NO_IMPORTED_DATA)
    if days[1] < query.first_day or days[0] > query.last_day:
        return ImportsDecision(False, OUT_OF_RANGE)
    base = tuple(m for m in query.metrics if METRICS[m].kind != DERIVED)
    if len(base) < len(query.metrics) and "visitors" not in base:
        base = (*base, "visitors")  # percentage and conversion_rate are shares of visitors
    filtered = filter_dimensions(query.filters)
    tables = []
    for part in plan(base, query.dimensions, query.filters):
        table, reason = imported_table(part, filtered)
        if table is None:
            return ImportsDecision(False, reason)
        tables.append((part, table))
    return ImportsDecision(True, None, tuple(tables))


def _column(table: str) -> Callable[[str], str]:
    """A dimension's column in an imported table (the registry's declaration)."""

    def column_of(name: str) -> str:
        declared_table, column = IMPORTED_DIMENSIONS.get(name, (None, None))
        if declared_table != table and not (name == "event:page" and table == "imported_entry_pages"):
            raise ValueError(f"{name} is not held by {table}")
        return column or "entry_page"

    return column_of


def _select(
    query: StatsQuery, table: str, dimensions: tuple[str, ...], sums: list[str], pageview_row: bool
) -> tuple[str, dict[str, Any]]:
    """SQL of one imported table's rows (dimensions..., sums...) over the query's days."""
    params: dict[str, Any] = {
        "site": query.site,
        "first_day": query.first_day.isoformat(),
        "last_day": query.last_day.isoformat(),
    }
    column_of = _column(table)
    selects = []
    for index, name in enumerate(dimensions):
        if name in TIME_DIMENSIONS:
            expression = _BUCKETS[name]
        elif pageview_row:
            expression = "'pageview'"
        else:
            expression = column_of(name)
        selects.append(f"{expression} AS d{index}")
    selects += [f"toUInt64({sql}) AS m{index}" for index, sql in enumerate(sums)]
    where = ["site = %(site)s", "date >= toDate(%(first_day)s)", "date <= toDate(%(last_day)s)"]
    if not pageview_row:
        where.append(filters_sql(query.filters, column_of, params))
    sql = f"SELECT {', '.join(selects)} FROM {table} WHERE {' AND '.join(w for w in where if w)}"
    if dimensions:
        sql += " GROUP BY " + ", ".join(f"d{i}" for i in range(len(dimensions)))
    return sql, params


def imported_rows(
    store: Store, query: StatsQuery, decision: ImportsDecision, components: tuple[str, ...]
) -> dict[tuple, dict[str, int]]:
    """Imported sums per dimension values, for every component the parts hold."""
    found: dict[tuple, dict[str, int]] = {}
    count = len(query.dimensions)

    def add(rows: list[tuple], names: list[str]) -> None:
        for row in rows:
            values = found.setdefault(tuple(row[:count]), {})
            for name, value in zip(names, row[count:], strict=True):
                values[name] = values.get(name, 0) + int(value or 0)

    for part, table in decision.tables:
        mapped = part.dimensions
        names = [c for c in components if c in _SUMS[table] and _belongs(c, part)]
        if not names:
            continue
        add(store.query(*_select(query, table, mapped, [_SUMS[table][c] for c in names], False)), names)
        addition = _ADDITIONS.get(table)
        if addition is None or query.filters:
            continue
        if addition.needs_value_dimension and all(d in TIME_DIMENSIONS for d in mapped):
            continue
        added = [c for c in names if c in addition.sums]
        if added:
            sums = [addition.sums[c] for c in added]
            add(store.query(*_select(query, addition.table, mapped, sums, addition.pageview_row)), added)
    return found


def _belongs(component: str, part: Part) -> bool:
    """True when a component is read by this part (event sums by the event part, visit sums by the visit one)."""
    event_sums = {"visitors", "pageviews", "events"}
    is_event_part = any(m in event_sums for m in part.metrics)
    return (component in event_sums) == is_event_part


RATIOS = ("bounce_rate", "visit_duration", "views_per_visit")
# The visit rows' columns the registry's ratio SQL reads, and the component each holds.
_VISIT_COLUMNS = {
    "v_visits": "visits",
    "v_bounces": "bounces",
    "v_duration": "visit_duration_ms",
    "v_pageviews": "visit_pageviews",
}


def finish(store: Store, rows: list[dict[str, Any]], metrics: tuple[str, ...]) -> list[list[Any]]:
    """The asked metrics of each row from its summed components; ratios by the registry's own SQL, so they
    round as the engine rounds them for native rows (18.16 rounds halves up, 26.x to even)."""
    ratios = [m for m in metrics if m in RATIOS]
    computed: list[dict[str, Any]] = [{} for _ in rows]
    if ratios and rows:
        arrays = []
        for column, component in _VISIT_COLUMNS.items():
            values = ", ".join(str(int(row.get(component, 0))) for row in rows)
            arrays.append(f"[{values}][i + 1] AS {column}")
        selects = ", ".join(f"{METRICS[m].on_visits} AS m{index}" for index, m in enumerate(ratios))
        sql = (
            f"SELECT i, {selects} FROM (SELECT arrayJoin(range({len(rows)})) AS i, {', '.join(arrays)}) "
            "GROUP BY i ORDER BY i"
        )
        for found in store.query(sql):
            computed[int(found[0])] = dict(zip(ratios, found[1:], strict=True))
    return [[computed[index].get(m, row.get(m, 0)) for m in metrics] for index, row in enumerate(rows)]


def first_imported_day(store: Store, site: str) -> dt.date | None:
    """The first day any import of the site holds (date_range "all" starts there when imports are asked)."""
    days = imported_days(store, site)
    return days[0] if days else None
