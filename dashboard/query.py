"""Parse and validate a Stats API v2 query into a StatsQuery with a concrete UTC time range.

The format and the error messages follow Plausible's (priv/json-schemas/query-api-schema.json and its
query parser): an error names the JSON path it is about, e.g. `#/metrics/1: Invalid metric "baa"`.
"""

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.filters import (
    AND,
    COUNTRY_CODES,
    IS,
    MATCHES,
    NEGATIVE,
    NOT,
    OPERATORS,
    OR,
    Filter,
    FilterNode,
    FilterTree,
    regex_problem,
)
from dashboard.goal_sql import GOAL_DIMENSION, GOAL_OPERATORS, converts
from dashboard.registry import PUBLIC_METRICS, SEARCH_DIMENSION, SEARCH_METRICS, TIME_DIMENSIONS, dimension
from storage.dates import month_start

MAX_LIMIT = 10_000
MAX_DIMENSIONS = 4
MAX_FILTER_VALUES = 100
MAX_FILTER_VALUE_LENGTH = 2000
MAX_FILTER_DEPTH = 10
# Dates outside this span are refused: a previous period or a local midnight beyond it would leave the
# range of ClickHouse's DateTime (1970-2106) and Python's date arithmetic (year 1-9999).
FIRST_DAY = dt.date(1990, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
MAX_DAYS = 3660
NAMED_RANGES = (
    "day",
    "yesterday",
    "7d",
    "28d",
    "30d",
    "91d",
    "month",
    "last_month",
    "6mo",
    "12mo",
    "year",
    "all",
)
TIME = "time"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TOP_LEVEL_FIELDS = ("site_id", "metrics", "date_range", "dimensions", "filters", "order_by", "include", "pagination")
REQUIRED_FIELDS = ("site_id", "metrics", "date_range")


class QueryError(ValueError):
    """The query is invalid; the message says why."""


@dataclass(frozen=True)
class Include:
    """What the answer carries besides the rows (Plausible's `include`)."""

    time_labels: bool = False
    total_rows: bool = False
    # Add imported statistics (dashboard/imported.py); meta says whether they were and why not.
    imports: bool = False


@dataclass(frozen=True)
class StatsQuery:
    """A validated query: what to compute, over which time range, in the site's time zone.

    first_day and last_day are the local dates covering the range; start and end are its exact Unix
    seconds, end excluded (local midnights unless the body gave datetimes; computed when left 0).
    """

    site: str
    timezone: str
    metrics: tuple[str, ...]
    dimensions: tuple[str, ...]
    first_day: dt.date
    last_day: dt.date
    filters: tuple[FilterTree, ...] = ()
    order_by: tuple[tuple[str, str], ...] = ()
    limit: int = MAX_LIMIT
    offset: int = 0
    date_range: Any = field(default=None, compare=False)
    start: int = 0
    end: int = 0
    include: Include = Include()
    # The body asked for "time": dimensions hold the bucket chosen for the range, the echo says "time".
    natural_time: bool = False
    # The site's goals (storage.goals.Goal), loaded when the query names event:goal (dashboard/stats.py).
    goals: tuple[Any, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.start:
            object.__setattr__(self, "start", _midnight(self.first_day, self.timezone))
        if not self.end:
            object.__setattr__(self, "end", _midnight(self.last_day + dt.timedelta(days=1), self.timezone))

    @property
    def time_dimension(self) -> str | None:
        """The query's time dimension (concrete, e.g. time:day), if any."""
        return next((d for d in self.dimensions if d in TIME_DIMENSIONS), None)

    def echo(self) -> dict[str, Any]:
        """The normalised query, as echoed back in the response."""
        asked = self.time_dimension if self.natural_time else None

        def named(name: str) -> str:
            return TIME if name == asked else name

        return {
            "site_id": self.site,
            "metrics": list(self.metrics),
            "date_range": self._echo_range(),
            "dimensions": [named(d) for d in self.dimensions],
            "filters": [f.echo() for f in self.filters],
            "order_by": [[named(name), direction] for name, direction in self.order_by],
            "include": {f.name: getattr(self.include, f.name) for f in fields(Include)},
            "pagination": {"limit": self.limit, "offset": self.offset},
        }

    def _echo_range(self) -> list[str]:
        """Dates for whole local days, else the first and last second in the site's time zone."""
        days = (_midnight(self.first_day, self.timezone), _midnight(self.last_day + dt.timedelta(1), self.timezone))
        if (self.start, self.end) == days:
            return [self.first_day.isoformat(), self.last_day.isoformat()]
        zone = ZoneInfo(self.timezone)
        return [dt.datetime.fromtimestamp(t, zone).isoformat() for t in (self.start, self.end - 1)]


def _midnight(day: dt.date, timezone: str) -> int:
    """Unix time of local midnight of a day."""
    return int(dt.datetime.combine(day, dt.time(), ZoneInfo(timezone)).timestamp())


def _show(value: Any, limit: int = 300) -> str:
    """A JSON value as an error message quotes it, cut when long."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_type(value: Any) -> str:
    """The JSON Schema name of a value's type, as Plausible's messages say it."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    for kind, name in ((float, "Number"), (str, "String"), (list, "Array"), (dict, "Object")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _mismatch(path: str, expected: str, value: Any) -> QueryError:
    return QueryError(f"{path}: Type mismatch. Expected {expected} but got {_json_type(value)}.")


# --- Date ranges -------------------------------------------------------------------------------------


def resolve_date_range(value: Any, today: dt.date, first_stored: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of a named range or a ["YYYY-MM-DD", "YYYY-MM-DD"] pair.

    first_stored is the site's first day with data, which `all` starts from (today when None).
    """
    if isinstance(value, str):
        named = _named_range(value, today, first_stored)
        if named is None:
            raise QueryError(
                f'date_range must be one of {", ".join(NAMED_RANGES)}, ["YYYY-MM-DD", "YYYY-MM-DD"] or two '
                "ISO-8601 datetimes with offsets"
            )
        return named
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        try:
            first, last = (dt.date.fromisoformat(v) if _DATE.fullmatch(v) else None for v in value)
        except ValueError:
            first = last = None
        if first is None or last is None:
            raise QueryError("date_range dates must look like YYYY-MM-DD")
        _check_days(first, last)
        return first, last
    raise QueryError("date_range must be a string or a list of two dates")


def _named_range(value: str, today: dt.date, first_stored: dt.date | None) -> tuple[dt.date, dt.date] | None:
    """The days of a named range (None for an unknown name); like Plausible's, but today is the last day."""
    if value == "day":
        return today, today
    if value == "yesterday":
        day = today - dt.timedelta(days=1)
        return day, day
    if value in ("7d", "28d", "30d", "91d"):
        return today - dt.timedelta(days=int(value[:-1]) - 1), today
    if value == "month":
        return today.replace(day=1), today
    if value == "last_month":
        last = today.replace(day=1) - dt.timedelta(days=1)
        return last.replace(day=1), last
    if value in ("6mo", "12mo"):
        return month_start(today, int(value[:-2]) - 1), today
    if value == "year":
        return today.replace(month=1, day=1), today
    if value == "all":
        # From the first stored day, within the span every other range is held to.
        first = min(first_stored or today, today)
        return max(first, today - dt.timedelta(days=MAX_DAYS), FIRST_DAY), today
    return None


def _check_days(first: dt.date, last: dt.date) -> None:
    """The bounds every range is held to."""
    if not (FIRST_DAY <= first <= LAST_DAY and FIRST_DAY <= last <= LAST_DAY):
        raise QueryError(f"date_range dates must lie between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}")
    if last < first:
        raise QueryError("date_range ends before it starts")
    if (last - first).days > MAX_DAYS:
        raise QueryError("date_range spans more than ten years")


def _is_datetime_pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and any(isinstance(v, str) and "T" in v for v in value)


def resolve_datetime_range(value: list[Any], timezone: str) -> tuple[dt.date, dt.date, int, int]:
    """Local first and last day, start and end (Unix seconds, end excluded) of two ISO-8601 datetimes.

    As in Plausible, the second datetime is the last second counted.
    """
    moments = []
    for item in value:
        try:
            moment = dt.datetime.fromisoformat(item) if isinstance(item, str) and "T" in item else None
        except ValueError:
            moment = None
        if moment is None:
            raise QueryError("date_range needs two dates or two datetimes, like 2024-01-01T10:00:00+01:00")
        if moment.tzinfo is None:
            raise QueryError("date_range datetimes need a UTC offset, like +01:00 or Z")
        moments.append(moment)
    start, last = (int(m.timestamp() // 1) for m in moments)
    zone = ZoneInfo(timezone)
    first_day, last_day = (dt.datetime.fromtimestamp(t, zone).date() for t in (start, last))
    if last < start:
        raise QueryError("date_range ends before it starts")
    _check_days(first_day, last_day)
    return first_day, last_day, start, last + 1


def natural_interval(start: int, end: int) -> str:
    """The time bucket for `time` over [start, end): Plausible's thresholds (QueryOptimizer)."""
    span = end - 1 - start  # Plausible measures from the first to the last second
    if span // 3600 <= 48:
        return "time:hour"
    if span // 86400 <= 40:
        return "time:day"
    if span // (7 * 86400) <= 52:
        return "time:week"
    return "time:month"


# --- Filters -----------------------------------------------------------------------------------------


def _invalid_filter(path: str, item: Any, reason: str) -> QueryError:
    return QueryError(f"{path}: Invalid filter {_show(item)}: {reason}")


def _filters(value: Any) -> tuple[FilterTree, ...]:
    """Validate the filters list: each item a filter tree, the items ANDed."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _mismatch("#/filters", "Array", value)
    return tuple(_filter_tree(item, f"#/filters/{i}", 1) for i, item in enumerate(value))


def _filter_tree(item: Any, path: str, depth: int) -> FilterTree:
    """One leaf [operator, dimension, [values], {modifiers}?] or node ["and"|"or", [...]] / ["not", filter]."""
    if not (isinstance(item, list) and item and isinstance(item[0], str)):
        raise _invalid_filter(path, item, "a filter is [operator, dimension, [values]], or an and/or/not of filters")
    operator = item[0]
    if operator in (AND, OR, NOT):
        if depth >= MAX_FILTER_DEPTH:
            raise _invalid_filter(path, item, f"filters nest at most {MAX_FILTER_DEPTH} deep")
        if operator == NOT:
            if len(item) != 2:
                raise _invalid_filter(path, item, 'write ["not", filter]')
            return FilterNode(NOT, (_filter_tree(item[1], f"{path}/1", depth + 1),))
        if len(item) != 2 or not isinstance(item[1], list) or not item[1]:
            raise _invalid_filter(path, item, f'write ["{operator}", [filter, ...]] with at least one filter')
        children = tuple(_filter_tree(child, f"{path}/1/{i}", depth + 1) for i, child in enumerate(item[1]))
        return FilterNode(operator, children)
    if operator not in OPERATORS:
        known = ", ".join([*OPERATORS, AND, OR, NOT])
        raise _invalid_filter(path, item, f'unknown operator "{operator}"; known: {known}')
    if len(item) not in (3, 4):
        raise _invalid_filter(path, item, 'write [operator, dimension, [values]] or add {"case_sensitive": false}')
    name, values = item[1], item[2]
    declared = dimension(name) if isinstance(name, str) else None
    if declared is None or not declared.filterable:
        raise _invalid_filter(path, item, f"cannot filter by {_show(name)}")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _invalid_filter(path, item, "the values must be a list of strings")
    if not values or len(values) > MAX_FILTER_VALUES or any(len(v) > MAX_FILTER_VALUE_LENGTH for v in values):
        limits = f"1 to {MAX_FILTER_VALUES} values of at most {MAX_FILTER_VALUE_LENGTH} characters"
        raise _invalid_filter(path, item, f"a filter needs {limits}")
    case_sensitive = True
    if len(item) == 4:
        modifiers = item[3]
        if not (
            isinstance(modifiers, dict)
            and set(modifiers) <= {"case_sensitive"}
            and isinstance(modifiers.get("case_sensitive", True), bool)
        ):
            raise _invalid_filter(path, item, 'the only modifier is {"case_sensitive": true or false}')
        case_sensitive = modifiers.get("case_sensitive", True)
    if name == GOAL_DIMENSION and operator not in GOAL_OPERATORS:
        raise _invalid_filter(path, item, f"event:goal takes {', '.join(GOAL_OPERATORS)}")
    positive = NEGATIVE.get(operator, operator)
    # "" is the unknown country, as the country rows show it.
    if name == "visit:country" and positive == IS and any(v and v.upper() not in COUNTRY_CODES for v in values):
        raise QueryError(
            f"{path}: Invalid visit:country filter, visit:country needs to be a valid 2-letter country code."
        )
    if positive == MATCHES:
        for value in values:
            problem = regex_problem(value)
            if problem:
                raise _invalid_filter(path, item, f"{_show(value, 80)}: {problem}")
    return Filter(operator, name, tuple(values), case_sensitive)


def _raw_filter_dimensions(value: Any, depth: int = 0) -> set[str]:
    """Dimension names anywhere in an unvalidated filter list (for rules checked before the filters)."""
    found: set[str] = set()
    if not isinstance(value, list) or depth > MAX_FILTER_DEPTH:
        return found
    for item in value:
        if not (isinstance(item, list) and len(item) >= 2 and isinstance(item[0], str)):
            continue
        if item[0] in OPERATORS and isinstance(item[1], str):
            found.add(item[1])
        elif item[0] in (AND, OR):
            found |= _raw_filter_dimensions(item[1], depth + 1)
        elif item[0] == NOT:
            found |= _raw_filter_dimensions([item[1]], depth + 1)
    return found


# --- The query ---------------------------------------------------------------------------------------


def _string_list(value: Any, path: str) -> list[str]:
    """A list of strings, or a QueryError."""
    if not isinstance(value, list):
        raise _mismatch(path, "Array", value)
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _mismatch(f"{path}/{index}", "String", item)
    return value


def _metrics(value: Any) -> list[str]:
    """Validated metric names: known, at least one, no repeats."""
    metrics = _string_list(value, "#/metrics")
    if not metrics:
        raise QueryError("#/metrics: metrics must name at least one metric")
    for index, metric in enumerate(metrics):
        if metric not in PUBLIC_METRICS and metric not in SEARCH_METRICS:
            raise QueryError(f"#/metrics/{index}: Invalid metric {_show(metric)}")
    if len(set(metrics)) != len(metrics):
        raise QueryError("#/metrics: Expected items to be unique but they were not.")
    return metrics


def _is_dimension(name: str) -> bool:
    return name in (TIME, SEARCH_DIMENSION) or name in TIME_DIMENSIONS or dimension(name) is not None


def _dimensions(value: Any) -> list[str]:
    """Validated dimension names as the body gives them ("time" not resolved yet)."""
    dimensions = _string_list(value, "#/dimensions")
    for index, name in enumerate(dimensions):
        if not _is_dimension(name):
            raise QueryError(f"#/dimensions/{index}: Invalid dimension {_show(name)}")
    if len(set(dimensions)) != len(dimensions):
        raise QueryError("#/dimensions: Expected items to be unique but they were not.")
    if len(dimensions) > MAX_DIMENSIONS:
        raise QueryError("#/dimensions: dimensions must be at most four distinct names")
    if sum(d == TIME or d in TIME_DIMENSIONS for d in dimensions) > 1:
        raise QueryError("#/dimensions: at most one time dimension")
    return dimensions


def _include(value: Any, dimensions: list[str]) -> Include:
    """Validated include flags."""
    if value is None:
        return Include()
    if not isinstance(value, dict):
        raise _mismatch("#/include", "Object", value)
    known = {f.name for f in fields(Include)}
    for key, flag in value.items():
        if key not in known:
            raise QueryError(f"#/include/{key}: Schema does not allow additional properties.")
        if not isinstance(flag, bool):
            raise _mismatch(f"#/include/{key}", "Boolean", flag)
    include = Include(**value)
    if include.time_labels and not any(d == TIME or d in TIME_DIMENSIONS for d in dimensions):
        raise QueryError("Invalid include.time_labels: requires a time dimension.")
    return include


CONVERSION_METRICS = ("conversion_rate", "group_conversion_rate")
# What a conversion is: a goal, or (before goals existed) a top-level event:name or event:page filter.
CONVERSION_DIMENSIONS = (GOAL_DIMENSION, "event:name", "event:page")


def _check_conversions(metrics: list[str], dimensions: list[str], filters: tuple[FilterTree, ...]) -> None:
    """Conversion rates need something to convert: a goal breakdown, or a goal (or event) filter."""
    asked = [m for m in metrics if m in CONVERSION_METRICS]
    if not asked:
        return
    top = {f.dimension for f in filters if isinstance(f, Filter) and (f.dimension != GOAL_DIMENSION or converts(f))}
    if GOAL_DIMENSION in dimensions or top & set(CONVERSION_DIMENSIONS):
        return
    index = metrics.index(asked[0])
    raise QueryError(
        f'#/metrics/{index}: Metric "{asked[0]}" can only be queried in a goal breakdown or with a goal filter'
    )


def parse_query(
    body: Any,
    sites: dict[str, str],
    today_of: Callable[[str], dt.date],
    first_day_of: Callable[[str], dt.date | None] | None = None,
) -> StatsQuery:
    """Validate a request body.

    sites maps domain to time zone, today_of(tz) gives the local date, and first_day_of(site) the site's
    first local day with data (for `all`; without it, `all` is today).
    """
    if not isinstance(body, dict):
        raise _mismatch("#", "Object", body)
    for key in body:
        if key not in TOP_LEVEL_FIELDS:
            raise QueryError(f"#/{key}: Schema does not allow additional properties.")
    missing = [key for key in REQUIRED_FIELDS if key not in body]
    if missing:
        what = "property" if len(missing) == 1 else "properties"
        verb = "was" if len(missing) == 1 else "were"
        raise QueryError(f"#: Required {what} {', '.join(missing)} {verb} not present.")
    site = body["site_id"]
    if not isinstance(site, str):
        raise _mismatch("#/site_id", "String", site)
    if not site:
        raise QueryError("#/site_id: site_id is required")
    if site not in sites:
        raise QueryError(f"#/site_id: site {_show(site)} is not registered")
    metrics = _metrics(body["metrics"])
    asked = _dimensions(body.get("dimensions", []))
    _check_search(metrics, asked, body.get("filters"))
    timezone = sites[site]
    first_day, last_day, start, end = _time_range(body["date_range"], site, timezone, today_of, first_day_of)
    dimensions = [natural_interval(start, end) if d == TIME else d for d in asked]
    if "time:minute" in dimensions and first_day != last_day and end - start > 86400:
        index = dimensions.index("time:minute")
        raise QueryError(f'#/dimensions/{index}: Invalid dimension "time:minute": only for ranges of a day or less')
    filters = _filters(body.get("filters"))
    _check_conversions(metrics, dimensions, filters)
    include = _include(body.get("include"), asked)
    order_by = _order_by(body.get("order_by"), metrics, asked, dimensions)
    limit, offset = _pagination(body.get("pagination"))
    return StatsQuery(
        site=site,
        timezone=timezone,
        metrics=tuple(metrics),
        dimensions=tuple(dimensions),
        first_day=first_day,
        last_day=last_day,
        filters=filters,
        order_by=order_by,
        limit=limit,
        offset=offset,
        date_range=body["date_range"],
        start=start,
        end=end,
        include=include,
        natural_time=TIME in asked,
    )


def _time_range(
    value: Any,
    site: str,
    timezone: str,
    today_of: Callable[[str], dt.date],
    first_day_of: Callable[[str], dt.date | None] | None,
) -> tuple[dt.date, dt.date, int, int]:
    """First and last local day, start and end of the body's date_range."""
    try:
        if _is_datetime_pair(value):
            return resolve_datetime_range(value, timezone)
        first_stored = first_day_of(site) if value == "all" and first_day_of is not None else None
        first_day, last_day = resolve_date_range(value, today_of(timezone), first_stored)
    except QueryError as error:
        raise QueryError(f"#/date_range: Invalid date range {_show(value)}: {error}") from None
    return first_day, last_day, _midnight(first_day, timezone), _midnight(last_day + dt.timedelta(1), timezone)


def _check_search(metrics: list[str], dimensions: list[str], filters: Any) -> None:
    """Search metrics and search:term stand alone: only date_range narrows them."""
    filtered = SEARCH_DIMENSION in _raw_filter_dimensions(filters)
    if not (filtered or SEARCH_DIMENSION in dimensions or any(m in SEARCH_METRICS for m in metrics)):
        return
    if filters or any(m not in SEARCH_METRICS for m in metrics) or dimensions not in ([], [SEARCH_DIMENSION]):
        raise QueryError(
            f"{SEARCH_DIMENSION} and the metrics {', '.join(SEARCH_METRICS)} cannot be combined with other "
            "metrics, dimensions or filters; only date_range narrows them"
        )


def _order_by(value: Any, metrics: list[str], asked: list[str], dimensions: list[str]) -> tuple[tuple[str, str], ...]:
    """Validated [[name, "asc"|"desc"], ...] ("time" as the bucket chosen), or the default: time ascending,
    else the first metric descending."""
    if value is None:
        time_dims = [d for d in dimensions if d in TIME_DIMENSIONS]
        if time_dims:
            return ((time_dims[0], "asc"),)
        return ((metrics[0], "desc"),) if dimensions else ()
    if not isinstance(value, list):
        raise _mismatch("#/order_by", "Array", value)
    pairs = []
    for index, item in enumerate(value):
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
            raise QueryError(f'#/order_by/{index}: each order_by item must be [name, "asc" or "desc"]')
        name, direction = item
        if direction not in ("asc", "desc"):
            raise QueryError(f'#/order_by/{index}/1: each order_by item must be [name, "asc" or "desc"]')
        if name not in PUBLIC_METRICS and name not in SEARCH_METRICS and not _is_dimension(name):
            raise QueryError(f"#/order_by/{index}/0: Invalid value in order_by {_show(name)}")
        if name not in metrics and name not in asked:
            raise QueryError(
                f"#/order_by/{index}: Invalid order_by entry {_show(item)}. Entry is not a queried metric or dimension."
            )
        pairs.append((dimensions[asked.index(name)] if name in asked else name, direction))
    return tuple(pairs)


def _pagination(value: Any) -> tuple[int, int]:
    """(limit, offset) with limit in 1..10000."""
    if value is None:
        return MAX_LIMIT, 0
    if not isinstance(value, dict):
        raise _mismatch("#/pagination", "Object", value)
    for key in value:
        if key not in ("limit", "offset"):
            raise QueryError(f"#/pagination/{key}: Schema does not allow additional properties.")
    limit, offset = value.get("limit", MAX_LIMIT), value.get("offset", 0)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"#/pagination/limit: pagination.limit must be an integer from 1 to {MAX_LIMIT}")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= 10_000_000:
        raise QueryError("#/pagination/offset: pagination.offset must be a non-negative integer")
    return limit, offset
