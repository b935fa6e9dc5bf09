"""Run a StatsQuery: each part of its plan from the source the planner chose, joined on the dimensions."""

import dataclasses
import datetime as dt
from typing import Any

from dashboard.filters import filters_sql
from dashboard.goal_sql import GOAL_DIMENSION, converts, counted_rows_sql
from dashboard.imported import ImportsDecision, components_of, decide, finish, imported_rows
from dashboard.planner import (
    EVENT_ROLLUP,
    SESSIONS,
    VISIT_ROLLUP,
    VISITS,
    Part,
    column_on_events,
    counts_conversions,
    goal_leaf,
    metric_on_events,
    names_goals,
    plan,
    rollup_value,
    rollups_can_answer,
)
from dashboard.query import MAX_LIMIT, StatsQuery
from dashboard.registry import DERIVED, METRICS, TIME_DIMENSIONS, dimension
from dashboard.rollup_days import InStep, split_period
from dashboard.session_rows import build_sessions_sql
from dashboard.sql_parts import order_sql
from dashboard.visits import OpenVisitors, build_visit_sql, open_visitors
from storage.dates import utc_day
from storage.derived_rollups import in_step
from storage.goals import list_goals
from storage.sessions import IDLE_SECONDS, MAX_VISIT_SECONDS
from storage.store import Store
from storage.visits import watermark


def query_plan(query: StatsQuery) -> list[Part]:
    """The plan of a query (see dashboard/planner.py)."""
    rollups = rollups_can_answer(query.start, query.end, query.dimensions)
    return plan(query.metrics, query.dimensions, query.filters, rollups)


def uses_rollup(query: StatsQuery) -> bool:
    """True when every part of the query is answered from rollups (the API reports it in meta.source)."""
    return all(part.source in (EVENT_ROLLUP, VISIT_ROLLUP) for part in query_plan(query))


def build_sql(
    query: StatsQuery, part: Part, only_values: tuple[str, ...] = (), usable: InStep | None = None
) -> tuple[str, dict[str, Any]]:
    """SQL and parameters of an event part (raw events or event rollups); only_values limits a rollup
    query's dimension to those values, usable names the days and months whose derived rollups may be read."""
    params: dict[str, Any] = {
        "site": query.site,
        "start": query.start,
        "end": query.end,
        "tz": query.timezone,
        "first_day": query.first_day.isoformat(),
    }
    if only_values:
        params["only_values"] = only_values
    rollup = part.source == EVENT_ROLLUP
    time_column = "hour" if rollup else "ts"
    selects = []
    where = ["site = %(site)s", f"{time_column} >= toDateTime(%(start)s)", f"{time_column} < toDateTime(%(end)s)"]
    for index, name in enumerate(part.dimensions):
        if name in TIME_DIMENSIONS:
            expression = TIME_DIMENSIONS[name].format(col=time_column)
        elif rollup:
            expression = rollup_value(name)
            params["dimension"] = name
            where.append("dimension = %(dimension)s")
        else:
            expression = column_on_events(name, params, query.goals)
        selects.append(f"{expression} AS d{index}")
    goal_rows = counts_conversions(part.dimensions, query.filters)
    for index, metric in enumerate(part.metrics):
        on_events = metric_on_events(metric, goal_rows)
        selects.append(f"{METRICS[metric].on_event_rollup if rollup else on_events} AS m{index}")
    if rollup:
        sql = f"SELECT {', '.join(selects)} FROM ({_rollup_source(query, part, params, usable)})"
    else:
        if not any(METRICS[m].engagement for m in part.metrics):
            where.append(counted_rows_sql(query.goals, params) if goal_rows else "name != 'engagement'")
        column_of = lambda name: column_on_events(name, params, query.goals)  # noqa: E731
        where.append(filters_sql(query.filters, column_of, params, goal_leaf(query.goals, params)))
        sql = f"SELECT {', '.join(selects)} FROM events WHERE {' AND '.join(where)}"
    if part.dimensions:
        sql += " GROUP BY " + ", ".join(f"d{i}" for i in range(len(part.dimensions)))
        sql += order_sql(query)
        sql += f" LIMIT {int(query.offset)}, {int(query.limit)}"
    return sql, params


def usable_rollups(store: Store, query: StatsQuery) -> InStep:
    """The days and months of the query's period whose daily and monthly rollups are in step."""
    first, end = utc_day(query.start), utc_day(query.end - 1) + dt.timedelta(days=1)
    return in_step(store, query.site, first, end)


def _rollup_source(query: StatsQuery, part: Part, params: dict[str, Any], usable: InStep | None) -> str:
    """Rollup rows of the period: whole UTC months and days from those tables, the remaining hours from hourly ones."""
    table, value = ("dimension", "value, ") if "dimension" in params else ("site", "")
    match = f"site = %(site)s{' AND dimension = %(dimension)s' if 'dimension' in params else ''}"
    if "only_values" in params:
        match += " AND value IN %(only_values)s"
    time_dimension = next((d for d in part.dimensions if d in TIME_DIMENSIONS), None)
    if usable is None:
        usable = (set(), set())  # nothing known to be in step: every hour from the hourly rollups
    months, days, hours = split_period(query.start, query.end, query.timezone, time_dimension, usable)
    parts = []
    for suffix, runs in (("monthly", months), ("daily", days)):
        if not runs:
            continue
        conditions = []
        for index, (first, last) in enumerate(runs):
            params[f"{suffix}_from{index}"], params[f"{suffix}_to{index}"] = first.isoformat(), last.isoformat()
            conditions.append(f"(day >= toDate(%({suffix}_from{index})s) AND day <= toDate(%({suffix}_to{index})s))")
        # Noon UTC of the first day stands for the row: the whole month or day lies in one time bucket.
        parts.append(
            f"SELECT toDateTime(toUInt32(day) * 86400 + 43200) AS hour, {value}visitors, pageviews, events "
            f"FROM {table}_{suffix} WHERE {match} AND ({' OR '.join(conditions)})"
        )
    if hours:
        spans = []
        for index, (begin, end) in enumerate(hours):
            params[f"hour_from{index}"], params[f"hour_to{index}"] = begin, end
            spans.append(f"(hour >= toDateTime(%(hour_from{index})s) AND hour < toDateTime(%(hour_to{index})s))")
        hourly = f"{table}_hourly WHERE {match} AND ({' OR '.join(spans)})"
        parts.append(f"SELECT hour, {value}visitors, pageviews, events FROM {hourly}")
    return " UNION ALL ".join(parts)


def _part_rows(store: Store, query: StatsQuery, part: Part, ordered: bool) -> list[tuple]:
    """Rows (dimensions..., metrics of the part...) of one part."""
    if part.source == SESSIONS:
        return store.query(*build_sessions_sql(query, part, ordered))
    if part.source in (VISITS, VISIT_ROLLUP):
        mark, visitors = _visit_state(store, query)
        return store.query(*build_visit_sql(query, part, mark, ordered, visitors))
    if ordered:
        rows = _top_by_visitors(store, query, part)
        if rows is not None:
            return rows
    usable = usable_rollups(store, query) if part.source == EVENT_ROLLUP else None
    return store.query(*build_sql(query, part, usable=usable))


def run_query(store: Store, query: StatsQuery) -> list[dict[str, list[Any]]]:
    """Rows as {"dimensions": [...], "metrics": [...]}, metrics in the order asked; empty values as the
    registry labels them ("(not set)", "Direct / None")."""
    count = len(query.dimensions)
    query = _stored_filter_values(query)
    if names_goals(query.dimensions, query.filters) and not query.goals:
        query = dataclasses.replace(query, goals=tuple(list_goals(store, query.site)))
    if any(METRICS[m].kind == DERIVED for m in query.metrics):
        rows = _with_derived(store, query)
    else:
        rows = _rows(store, query)
    labels = [_empty_label(name) for name in query.dimensions]
    return [
        {
            "dimensions": [labels[i] if value == "" and labels[i] else value for i, value in enumerate(row[:count])],
            "metrics": list(row[count:]),
        }
        for row in rows
    ]


def _rows(store: Store, query: StatsQuery) -> list[tuple]:
    """Rows (dimensions..., metrics...) of a query without derived metrics, imported ones added when asked."""
    if query.include.imports:
        decision = decide(store, query)
        if decision.included:
            return _with_imports(store, query, decision)
    return _native_rows(store, query)


def _with_imports(store: Store, query: StatsQuery, decision: ImportsDecision) -> list[tuple]:
    """Native and imported sums added per dimension values, the metrics computed from them, then ordered."""
    components = components_of(query.metrics)
    count = len(query.dimensions)
    native = dataclasses.replace(
        query,
        metrics=components,
        order_by=(),
        limit=10**9,
        offset=0,
        include=dataclasses.replace(query.include, imports=False),
    )
    found: dict[tuple, dict[str, Any]] = {}
    for row in _native_rows(store, native):
        found[tuple(row[:count])] = {name: value or 0 for name, value in zip(components, row[count:], strict=True)}
    for key, values in imported_rows(store, query, decision, components).items():
        merged = found.setdefault(key, {})
        for name, value in values.items():
            merged[name] = merged.get(name, 0) + value
    keys = list(found)
    metrics = finish(store, [found[key] for key in keys], query.metrics)
    return _ordered([(*key, *values) for key, values in zip(keys, metrics, strict=True)], query)


def _native_rows(store: Store, query: StatsQuery) -> list[tuple]:
    """Rows (dimensions..., metrics...) of Teller's own data, without derived metrics."""
    parts = query_plan(query)
    return _part_rows(store, query, parts[0], ordered=True) if len(parts) == 1 else _combined(store, query, parts)


def _empty_label(name: str) -> str:
    """What an empty value of a dimension is shown as ("" for time dimensions)."""
    declared = dimension(name)
    return declared.empty if declared is not None else ""


def _stored_filter_values(query: StatsQuery) -> StatsQuery:
    """`is` / `is_not` filters naming a dimension's empty label ("(not set)", "Direct / None") also match
    the empty value it stands for; the label itself stays, since some rows store it ("Direct / None")."""

    def stored(item: Any) -> Any:
        children = getattr(item, "children", None)
        if children is not None:
            return dataclasses.replace(item, children=tuple(stored(child) for child in children))
        label = _empty_label(item.dimension)
        if label and label in item.values and item.operator in ("is", "is_not") and "" not in item.values:
            return dataclasses.replace(item, values=(*item.values, ""))
        return item

    return dataclasses.replace(query, filters=tuple(stored(item) for item in query.filters))


def _with_derived(store: Store, query: StatsQuery) -> list[tuple]:
    """Rows with `percentage` (a row's share of all visitors), `conversion_rate` (a row's converted visitors
    as a share of all visitors, counted without the conversion filters and dimensions) and
    `group_conversion_rate` (the same share within the row's group: its values of the dimensions other
    than event:goal), as Plausible's v2 defines them; rounded to two decimals, ordered and paginated here."""
    base = tuple(m for m in query.metrics if METRICS[m].kind != DERIVED)
    wanted = base if "visitors" in base else (*base, "visitors")
    unpaged = dataclasses.replace(query, metrics=wanted, order_by=(), limit=10**9, offset=0)
    count = len(query.dimensions)
    rows = _rows(store, unpaged)
    visitors_at = count + wanted.index("visitors")
    total = None
    if "percentage" in query.metrics:
        totals = _rows(store, dataclasses.replace(unpaged, metrics=("visitors",), dimensions=()))
        total = totals[0][0] if totals else 0
    unconverted = dataclasses.replace(unpaged, metrics=("visitors",), filters=_unconverted_filters(query))
    all_visitors = None
    if "conversion_rate" in query.metrics:
        totals = _rows(store, dataclasses.replace(unconverted, dimensions=()))
        all_visitors = totals[0][0] if totals else 0
    kept = [i for i, name in enumerate(query.dimensions) if name != GOAL_DIMENSION]
    groups: dict[tuple, Any] = {}
    if "group_conversion_rate" in query.metrics:
        if kept:
            grouped = dataclasses.replace(unconverted, dimensions=tuple(query.dimensions[i] for i in kept))
            groups = {tuple(row[: len(kept)]): row[len(kept)] for row in _rows(store, grouped)}
        else:
            totals = _rows(store, dataclasses.replace(unconverted, dimensions=()))
            groups = {(): totals[0][0] if totals else 0}
    result = []
    for row in rows:
        values = dict(zip(wanted, row[count:], strict=True))
        visitors = row[visitors_at] or 0
        if total is not None:
            values["percentage"] = _share(visitors, total)
        if all_visitors is not None:
            values["conversion_rate"] = _share(visitors, all_visitors)
        if "group_conversion_rate" in query.metrics:
            values["group_conversion_rate"] = _share(visitors, groups.get(tuple(row[i] for i in kept)) or 0)
        result.append((*row[:count], *(values[m] for m in query.metrics)))
    return _ordered(result, query)


def _share(part: int, whole: int) -> float:
    """part as a percentage of whole, two decimals (0 when whole is 0)."""
    return round(100 * part / whole, 2) if whole else 0.0


def _unconverted_filters(query: StatsQuery) -> tuple[Any, ...]:
    """The query's filters without those defining a conversion: top-level event:goal is/contains filters, or, in a
    query without goals, top-level event:name and event:page filters (Teller's conversions before goals)."""
    if counts_conversions(query.dimensions, query.filters):
        return tuple(f for f in query.filters if not converts(f))
    conversion = ("event:name", "event:page")
    return tuple(f for f in query.filters if getattr(f, "children", None) is not None or f.dimension not in conversion)


def _ordered(rows: list[tuple], query: StatsQuery) -> list[tuple]:
    """Rows sorted by the query's order_by (dimensions ascending to break ties), then paginated."""
    count = len(query.dimensions)
    rows.sort(key=lambda row: row[:count])
    for name, direction in reversed(query.order_by):
        index = count + query.metrics.index(name) if name in query.metrics else query.dimensions.index(name)
        rows.sort(key=lambda row, i=index: (row[i] is not None, row[i] or 0), reverse=direction == "desc")
    return rows[query.offset : query.offset + query.limit]


# Visitor states are costly to read (~0.3 ms for a large one on chdb) while event counts are cheap sums,
# and a value's events bound its visitors from above (the margin covers the estimate's error). So the top
# rows by visitors are taken among the values with the most events, widening the candidates until no
# other value could rank: the same rows as merging every value. Top pages of 10M events in 30 days went
# from ~230 ms to ~70 ms.
_FIRST_CANDIDATES = 24
_ESTIMATE_MARGIN = 1.05


def _top_by_visitors(store: Store, query: StatsQuery, part: Part) -> list[tuple] | None:
    """Rows of a rollup breakdown ordered by visitors, reading visitor states of likely values only; None if n/a."""
    wanted = query.offset + query.limit
    applies = (
        part.source == EVENT_ROLLUP
        and len(part.dimensions) == 1
        and part.dimensions[0] not in TIME_DIMENSIONS
        and query.order_by[:1] == (("visitors", "desc"),)
        and part.metrics == query.metrics
        and wanted <= 1000
    )
    if not applies:
        return None
    by_events = dataclasses.replace(query, metrics=("events",), order_by=(("events", "desc"),), offset=0)
    events_part = dataclasses.replace(part, metrics=("events",))
    usable = usable_rollups(store, query)
    counts = store.query(*build_sql(dataclasses.replace(by_events, limit=MAX_LIMIT), events_part, usable=usable))
    size = max(_FIRST_CANDIDATES, 2 * wanted)
    while size < len(counts):
        candidates = tuple(row[0] for row in counts[:size])
        narrowed = dataclasses.replace(query, offset=0, limit=wanted)
        ranked = store.query(*build_sql(narrowed, part, candidates, usable))
        bound = counts[size][1] * _ESTIMATE_MARGIN + 1
        if len(ranked) >= wanted and ranked[wanted - 1][1 + query.metrics.index("visitors")] > bound:
            return ranked[query.offset :]
        size *= 4
    return None


def _visit_state(store: Store, query: StatsQuery) -> tuple[int | None, OpenVisitors | None]:
    """The visit job's watermark, and who can be in a visit it has not stored yet."""
    mark = watermark(store)
    if mark is not None and query.end + MAX_VISIT_SECONDS < mark - IDLE_SECONDS:
        return mark, None
    return mark, open_visitors(store, query.site, mark)


def _combined(store: Store, query: StatsQuery, parts: list[Part]) -> list[tuple]:
    """Parts run apart, joined on the dimensions, then ordered and paginated here."""
    unpaged = dataclasses.replace(query, order_by=(), limit=10**9, offset=0)
    count = len(query.dimensions)
    found: dict[tuple, dict[str, Any]] = {}
    for part in parts:
        for row in _part_rows(store, unpaged, part, ordered=False):
            found.setdefault(tuple(row[:count]), {}).update(zip(part.metrics, row[count:], strict=True))
    rows = [(*key, *(values.get(m, 0) for m in query.metrics)) for key, values in found.items()]
    return _ordered(rows, query)
