"""Parse and validate a Stats API v2 query into a StatsQuery with a concrete UTC time range."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.definitions import (
    DIMENSIONS,
    EVENT_ONLY_DIMENSIONS,
    METRICS,
    SEARCH_DIMENSION,
    SEARCH_METRICS,
    TIME_DIMENSIONS,
    VISIT_METRICS,
    VISIT_ONLY_DIMENSIONS,
)
from storage.dates import month_start

FILTER_OPERATORS = ("is", "is_not", "contains")
MAX_LIMIT = 10_000
# Dates outside this span are refused: a previous period or a local midnight beyond it would leave the
# range of ClickHouse's DateTime (1970-2106) and Python's date arithmetic (year 1-9999).
FIRST_DAY = dt.date(1990, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
NAMED_RANGES = ("day", "yesterday", "7d", "28d", "30d", "month", "last_month", "12mo", "year")


class QueryError(ValueError):
    """The query is invalid; the message says why."""


@dataclass(frozen=True)
class Filter:
    """One [operator, dimension, [values]] filter."""

    operator: str
    dimension: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class StatsQuery:
    """A validated query: what to compute, over which dates in the site's time zone."""

    site: str
    timezone: str
    metrics: tuple[str, ...]
    dimensions: tuple[str, ...]
    first_day: dt.date
    last_day: dt.date
    filters: tuple[Filter, ...] = ()
    order_by: tuple[tuple[str, str], ...] = ()
    limit: int = MAX_LIMIT
    offset: int = 0
    date_range: Any = field(default=None, compare=False)

    @property
    def start(self) -> int:
        """Unix time of the first day's midnight in the site's time zone."""
        return _midnight(self.first_day, self.timezone)

    @property
    def end(self) -> int:
        """Unix time of the midnight after the last day, in the site's time zone."""
        return _midnight(self.last_day + dt.timedelta(days=1), self.timezone)

    def echo(self) -> dict[str, Any]:
        """The normalised query, as echoed back in the response."""
        return {
            "site_id": self.site,
            "metrics": list(self.metrics),
            "date_range": [self.first_day.isoformat(), self.last_day.isoformat()],
            "dimensions": list(self.dimensions),
            "filters": [[f.operator, f.dimension, list(f.values)] for f in self.filters],
            "order_by": [list(pair) for pair in self.order_by],
            "pagination": {"limit": self.limit, "offset": self.offset},
        }


def _midnight(day: dt.date, timezone: str) -> int:
    """Unix time of local midnight of a day."""
    return int(dt.datetime.combine(day, dt.time(), ZoneInfo(timezone)).timestamp())


def resolve_date_range(value: Any, today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of a named range or a [from, to] pair."""
    if isinstance(value, str):
        if value == "day":
            return today, today
        if value == "yesterday":
            day = today - dt.timedelta(days=1)
            return day, day
        if value in ("7d", "28d", "30d"):
            return today - dt.timedelta(days=int(value[:-1]) - 1), today
        if value == "month":
            return today.replace(day=1), today
        if value == "last_month":
            last = today.replace(day=1) - dt.timedelta(days=1)
            return last.replace(day=1), last
        if value == "12mo":
            return month_start(today, 11), today
        if value == "year":
            return today.replace(month=1, day=1), today
        raise QueryError(f'date_range must be one of {", ".join(NAMED_RANGES)} or ["YYYY-MM-DD", "YYYY-MM-DD"]')
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        try:
            first, last = (dt.date.fromisoformat(v[:10]) for v in value)
        except ValueError:
            raise QueryError("date_range dates must look like YYYY-MM-DD") from None
        if not (FIRST_DAY <= first <= LAST_DAY and FIRST_DAY <= last <= LAST_DAY):
            raise QueryError(f"date_range dates must lie between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}")
        if last < first:
            raise QueryError("date_range ends before it starts")
        if (last - first).days > 3660:
            raise QueryError("date_range spans more than ten years")
        return first, last
    raise QueryError("date_range must be a string or a list of two dates")


def _string_list(value: Any, what: str) -> list[str]:
    """A list of strings, or a QueryError."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise QueryError(f"{what} must be a list of strings")
    return value


def _filters(value: Any) -> tuple[Filter, ...]:
    """Validate [[operator, dimension, [values]], ...]."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise QueryError("filters must be a list")
    filters = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 3):
            raise QueryError("each filter must be [operator, dimension, [values]]")
        operator, dimension, values = item
        if operator not in FILTER_OPERATORS:
            raise QueryError(f"filter operator must be one of {', '.join(FILTER_OPERATORS)}")
        if dimension not in DIMENSIONS:
            raise QueryError(f"cannot filter by {dimension!r}")
        values = _string_list(values, "filter values")
        if not values or len(values) > 100 or any(len(v) > 2000 for v in values):
            raise QueryError("a filter needs 1 to 100 values of at most 2000 characters")
        filters.append(Filter(operator, dimension, tuple(values)))
    return tuple(filters)


def parse_query(body: Any, sites: dict[str, str], today_of: Any) -> StatsQuery:
    """Validate a request body; sites maps domain to time zone, today_of(tz) gives the local date."""
    if not isinstance(body, dict):
        raise QueryError("the query must be a JSON object")
    unknown = set(body) - {"site_id", "metrics", "date_range", "dimensions", "filters", "order_by", "pagination"}
    if unknown:
        raise QueryError(f"unknown query field: {sorted(unknown)[0]}")
    site = body.get("site_id")
    if not isinstance(site, str) or not site:
        raise QueryError("site_id is required")
    if site not in sites:
        raise QueryError(f"site {site!r} is not registered")
    metrics = _string_list(body.get("metrics"), "metrics")
    if not metrics:
        raise QueryError("metrics must name at least one metric")
    for metric in metrics:
        if metric not in METRICS and metric not in VISIT_METRICS and metric not in SEARCH_METRICS:
            known = ", ".join([*METRICS, *VISIT_METRICS, *SEARCH_METRICS])
            raise QueryError(f"unknown metric {metric!r}; known: {known}")
    if len(set(metrics)) != len(metrics):
        raise QueryError("metrics must not repeat")
    dimensions = _string_list(body.get("dimensions", []), "dimensions")
    for dimension in dimensions:
        if dimension not in DIMENSIONS and dimension not in TIME_DIMENSIONS and dimension != SEARCH_DIMENSION:
            raise QueryError(f"unknown dimension {dimension!r}")
    if len(set(dimensions)) != len(dimensions) or len(dimensions) > 4:
        raise QueryError("dimensions must be at most four distinct names")
    if sum(d in TIME_DIMENSIONS for d in dimensions) > 1:
        raise QueryError("at most one time dimension")
    _check_search(metrics, dimensions, body.get("filters"))
    _check_visits(metrics, dimensions, body.get("filters"))
    if "date_range" not in body:
        raise QueryError("date_range is required")
    timezone = sites[site]
    first_day, last_day = resolve_date_range(body["date_range"], today_of(timezone))
    order_by = _order_by(body.get("order_by"), metrics, dimensions)
    limit, offset = _pagination(body.get("pagination"))
    return StatsQuery(
        site=site,
        timezone=timezone,
        metrics=tuple(metrics),
        dimensions=tuple(dimensions),
        first_day=first_day,
        last_day=last_day,
        filters=_filters(body.get("filters")),
        order_by=order_by,
        limit=limit,
        offset=offset,
        date_range=body["date_range"],
    )


def _check_search(metrics: list[str], dimensions: list[str], filters: Any) -> None:
    """Search metrics and search:term stand alone: only date_range narrows them."""
    filters = filters if isinstance(filters, list) else []
    filtered = any(isinstance(f, list) and len(f) == 3 and f[1] == SEARCH_DIMENSION for f in filters)
    if not (filtered or SEARCH_DIMENSION in dimensions or any(m in SEARCH_METRICS for m in metrics)):
        return
    if filters or any(m not in SEARCH_METRICS for m in metrics) or dimensions not in ([], [SEARCH_DIMENSION]):
        raise QueryError(
            f"{SEARCH_DIMENSION} and the metrics {', '.join(SEARCH_METRICS)} cannot be combined with other "
            "metrics, dimensions or filters; only date_range narrows them"
        )


def _check_visits(metrics: list[str], dimensions: list[str], filters: Any) -> None:
    """Visits are described by their entry: event:* dimensions fit event metrics only, entry/exit pages visits only."""
    filters = filters if isinstance(filters, list) else []
    named = set(dimensions) | {f[1] for f in filters if isinstance(f, list) and len(f) == 3 and isinstance(f[1], str)}
    if any(m in VISIT_METRICS for m in metrics) and named & EVENT_ONLY_DIMENSIONS:
        raise QueryError(
            f"visit metrics ({', '.join(VISIT_METRICS)}) cannot be broken down or filtered by "
            f"{', '.join(sorted(named & EVENT_ONLY_DIMENSIONS))}; use visit:entry_page or visit:exit_page"
        )
    if any(m in METRICS for m in metrics) and named & VISIT_ONLY_DIMENSIONS:
        raise QueryError(
            f"{', '.join(sorted(named & VISIT_ONLY_DIMENSIONS))} only work with the visit metrics "
            f"({', '.join(VISIT_METRICS)})"
        )


def _order_by(value: Any, metrics: list[str], dimensions: list[str]) -> tuple[tuple[str, str], ...]:
    """Validated [[name, "asc"|"desc"], ...], or the default: time ascending, else first metric descending."""
    if value is None:
        time_dims = [d for d in dimensions if d in TIME_DIMENSIONS]
        if time_dims:
            return ((time_dims[0], "asc"),)
        return ((metrics[0], "desc"),) if dimensions else ()
    if not isinstance(value, list):
        raise QueryError("order_by must be a list of [name, direction] pairs")
    pairs = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 2 and item[1] in ("asc", "desc")):
            raise QueryError('each order_by item must be [name, "asc" or "desc"]')
        if item[0] not in metrics and item[0] not in dimensions:
            raise QueryError(f"order_by {item[0]!r} is not among the query's metrics or dimensions")
        pairs.append((item[0], item[1]))
    return tuple(pairs)


def _pagination(value: Any) -> tuple[int, int]:
    """(limit, offset) with limit in 1..10000."""
    if value is None:
        return MAX_LIMIT, 0
    if not isinstance(value, dict):
        raise QueryError("pagination must be an object")
    limit, offset = value.get("limit", MAX_LIMIT), value.get("offset", 0)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"pagination.limit must be an integer from 1 to {MAX_LIMIT}")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= 10_000_000:
        raise QueryError("pagination.offset must be a non-negative integer")
    return limit, offset
