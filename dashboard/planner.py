"""Which table answers each part of a query, decided from the registry alone (Plausible's table_decider).

A query's metrics split into an event part (visitors, pageviews, events, time on page, scroll depth) and
a visit part (visits, bounce rate, visit duration, views per visit). Each part is answered by one source:

- `event_rollup`: site_/dimension_ hourly, daily, monthly states (no visit dimension or filter at all);
- `events`: raw events (event dimensions and filters only);
- `visit_rollup`: visit_hourly/visit_daily, plus open visits (one visit dimension at most, no filter);
- `visits`: stored visits plus open visits (visit dimensions and filters only);
- `sessions`: events sessionised at query time, each event carrying its visit's attributes: whatever
  mixes event and visit dimensions or filters ("visits that contain a matching event").

A visit dimension or filter used with an event metric counts the visit's events under the visit's entry
attributes; `event:page` as the dimension of a visit metric stands for the entry page.

Rollups hold whole UTC hours, so a range that starts or ends inside an hour (a datetime range, a time
zone 30 minutes off UTC) or a `time:minute` bucket is answered from events and visits instead.

Imported statistics (include.imports) are one more source per part: the imported table that holds every
dimension and filter of the part (`imported_table`), or none, and then the answer has no imported numbers
(Plausible's imports_skip_reason: unsupported_interval for a bucket finer than a day, else unsupported_query).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dashboard.goal_sql import GOAL_DIMENSION, converts, goal_dimension_sql, goal_filter_sql
from dashboard.registry import (
    EVENT,
    GOALS_SQL,
    IMPORTED_DIMENSIONS,
    IMPORTED_TIME_DIMENSIONS,
    IMPORTED_TOTALS,
    METRICS,
    TIME_DIMENSIONS,
    VISIT,
    dimension,
)

EVENT_ROLLUP = "event_rollup"
EVENTS = "events"
VISIT_ROLLUP = "visit_rollup"
VISITS = "visits"
SESSIONS = "sessions"


@dataclass(frozen=True)
class Part:
    """One part of a plan: its metrics, the source answering them and the dimensions it groups by."""

    metrics: tuple[str, ...]
    source: str
    dimensions: tuple[str, ...]


def _scopes(names: Iterable[str]) -> set[str]:
    """Scopes (event, visit) of the non-time dimensions named."""
    found = set()
    for name in names:
        if name in TIME_DIMENSIONS:
            continue
        declared = dimension(name)
        if declared is not None:
            found.add(declared.scope)
    return found


def _leaves(filters: Iterable[Any]) -> list[Any]:
    """Every leaf condition of a filter tree."""
    found = []
    for item in filters:
        children = getattr(item, "children", None)
        if children is not None:
            found += _leaves(children)
        else:
            found.append(item)
    return found


def filter_dimensions(filters: Iterable[Any]) -> set[str]:
    """Every dimension a filter tree names."""
    return {leaf.dimension for leaf in _leaves(filters)}


def _plain(dimensions: Iterable[str]) -> list[str]:
    return [d for d in dimensions if d not in TIME_DIMENSIONS]


def _event_part(
    metrics: tuple[str, ...], dimensions: tuple[str, ...], filtered: set[str], rollups: bool = True
) -> Part:
    scopes = _scopes(dimensions) | _scopes(filtered)
    if VISIT in scopes:
        if EVENT in scopes or any(METRICS[m].engagement for m in metrics):
            return Part(metrics, SESSIONS, dimensions)
        plain = _plain(dimensions)
        rollup = rollups and not filtered and len(plain) <= 1 and all(dimension(d).visit_rollup for d in plain)
        return Part(metrics, VISIT_ROLLUP if rollup else VISITS, dimensions)
    plain = _plain(dimensions)
    rollup = (
        rollups
        and not filtered
        and len(plain) <= 1
        and all(dimension(d).event_rollup for d in plain)
        and all(METRICS[m].on_event_rollup for m in metrics)
    )
    return Part(metrics, EVENT_ROLLUP if rollup else EVENTS, dimensions)


def _visit_part(
    metrics: tuple[str, ...], dimensions: tuple[str, ...], filtered: set[str], rollups: bool = True
) -> Part:
    # Plausible's rule: visit metrics broken down by page describe the visits that entered there.
    mapped = tuple("visit:entry_page" if d == "event:page" else d for d in dimensions)
    if EVENT in _scopes(mapped) | _scopes(filtered):
        return Part(metrics, SESSIONS, mapped)
    plain = _plain(mapped)
    rollup = rollups and not filtered and len(plain) <= 1 and all(dimension(d).visit_rollup for d in plain)
    return Part(metrics, VISIT_ROLLUP if rollup else VISITS, mapped)


def rollups_can_answer(start: int, end: int, dimensions: Iterable[str]) -> bool:
    """True when [start, end) is made of whole UTC hours and no bucket is finer than an hour."""
    return start % 3600 == 0 and end % 3600 == 0 and "time:minute" not in dimensions


def plan(
    metrics: tuple[str, ...], dimensions: tuple[str, ...], filters: tuple[Any, ...], rollups: bool = True
) -> list[Part]:
    """The parts of a query (one or two), each with its source; rollups=False keeps to events and visits."""
    filtered = filter_dimensions(filters)
    event_metrics = tuple(m for m in metrics if METRICS[m].kind == EVENT)
    visit_metrics = tuple(m for m in metrics if METRICS[m].kind == VISIT)
    parts = []
    if event_metrics:
        parts.append(_event_part(event_metrics, dimensions, filtered, rollups))
    if visit_metrics:
        parts.append(_visit_part(visit_metrics, dimensions, filtered, rollups))
    return parts


# Metrics the imported tables can add to (time on page and scroll depth are not in them as Teller counts).
IMPORTED_METRICS = frozenset(
    {"visitors", "pageviews", "events", "visits", "bounce_rate", "visit_duration", "views_per_visit"}
)
UNSUPPORTED_INTERVAL = "unsupported_interval"
UNSUPPORTED_QUERY = "unsupported_query"


def imported_table(part: Part, filtered: set[str]) -> tuple[str | None, str | None]:
    """(the imported table answering a part, None) or (None, the reason imports cannot answer it)."""
    if any(d in TIME_DIMENSIONS and d not in IMPORTED_TIME_DIMENSIONS for d in part.dimensions):
        return None, UNSUPPORTED_INTERVAL
    if not all(m in IMPORTED_METRICS for m in part.metrics):
        return None, UNSUPPORTED_QUERY
    named = set(_plain(part.dimensions)) | filtered
    if METRICS[part.metrics[0]].kind == VISIT:
        # As for stored visits: visit metrics by page are those of the visits that entered there.
        named = {"visit:entry_page" if d == "event:page" else d for d in named}
    if any(d not in IMPORTED_DIMENSIONS for d in named):
        return None, UNSUPPORTED_QUERY
    tables = {IMPORTED_DIMENSIONS[d][0] for d in named}
    if len(tables) > 1:
        return None, UNSUPPORTED_QUERY
    table = tables.pop() if tables else IMPORTED_TOTALS
    if table == "imported_custom_events" and METRICS[part.metrics[0]].kind == VISIT:
        return None, UNSUPPORTED_QUERY
    return table, None


def column_on_events(name: str, params: dict[str, Any], goals: tuple[Any, ...] = ()) -> str:
    """SQL of a dimension over events rows (custom property keys and goals bound as parameters)."""
    declared = dimension(name)
    if declared is None or declared.on_events is None:
        raise ValueError(f"{name} is not an attribute of events")
    if declared.on_events == "":
        return _prop(name, params)
    if declared.on_events == GOALS_SQL:
        return goal_dimension_sql(goals, params)
    return declared.on_events


def goal_leaf(goals: tuple[Any, ...], params: dict[str, Any]) -> Callable[[Any], str | None]:
    """The leaf_of of filters_sql for a query's goals: an event:goal filter's condition, None otherwise."""

    def leaf(condition: Any) -> str | None:
        return goal_filter_sql(goals, condition, params) if condition.dimension == GOAL_DIMENSION else None

    return leaf


def names_goals(dimensions: Iterable[str], filters: Iterable[Any]) -> bool:
    """True when a query breaks down or filters by event:goal (the site's goals are then loaded)."""
    return GOAL_DIMENSION in dimensions or GOAL_DIMENSION in filter_dimensions(filters)


def counts_conversions(dimensions: Iterable[str], filters: Iterable[Any]) -> bool:
    """True when a query breaks down by event:goal or filters by goals completed (is, contains): its event
    rows then follow goal rules. A filter on goals not completed (is_not) keeps ordinary rows."""
    return GOAL_DIMENSION in dimensions or any(converts(leaf) for leaf in _leaves(filters))


def metric_on_events(name: str, goal_rows: bool) -> str | None:
    """SQL of an event metric over event rows; goal_rows: the rows of a goal query (see registry.Metric)."""
    declared = METRICS[name]
    return (declared.on_goal_events or declared.on_events) if goal_rows else declared.on_events


def column_on_visits(name: str) -> str:
    """SQL of a dimension over visit rows (stored and open visits)."""
    declared = dimension(name)
    if declared is None or declared.on_visits is None:
        raise ValueError(f"{name} is not an attribute of visits")
    return declared.on_visits


def rollup_value(name: str) -> str:
    """SQL of a dimension's shown value over a rollup row's `value` column."""
    declared = dimension(name)
    if declared is None:
        raise ValueError(f"unknown dimension {name}")
    return declared.on_rollup


def column_on_sessions(name: str, params: dict[str, Any], goals: tuple[Any, ...] = ()) -> str:
    """SQL of a dimension over sessionised event rows: event attributes of the event, visit ones of its visit."""
    declared = dimension(name)
    if declared is None:
        raise ValueError(f"unknown dimension {name}")
    if declared.scope == VISIT:
        return column_on_visits(name)
    if declared.on_events == "toString(hostname)":
        return "event_hostname"  # the visit's entry host is `hostname` in these rows
    return column_on_events(name, params, goals)


def _prop(name: str, params: dict[str, Any]) -> str:
    """A custom property's value ("" where the event has none); the key is a bound parameter."""
    key = name.split(":", 2)[2]
    slot = f"prop_{sum(1 for k in params if k.startswith('prop_'))}"
    params[slot] = key
    return f"prop_values[indexOf(prop_keys, %({slot})s)]"
