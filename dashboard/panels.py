"""The dashboard's query functions, one per panel: each builds a Stats API query and runs it as the API does.

The web UI, its CSV exports and POST /api/v2/query all go through parse_query and run_query (or
run_search_query), so a panel shows exactly what the API answers for the query panel_body() returns.
"""

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from dashboard.goal_sql import CONVERTING_OPERATORS
from dashboard.periods import Period, buckets
from dashboard.query import MAX_LIMIT, parse_query
from dashboard.registry import DIMENSIONS, NOT_SET, PROPS_PREFIX
from dashboard.search_terms import run_search_query
from dashboard.stats import run_query
from dashboard.translatable import N_
from storage.store import Store

# Dimensions the dashboard filters by: every filterable dimension of the registry. The URL parameter is
# the name after the scope ("source" for visit:source), the label the registry's.
FILTER_KEYS: dict[str, str] = {
    name.split(":", 1)[1]: name for name, declared in DIMENSIONS.items() if declared.filterable
}
FILTER_LABELS: dict[str, str] = {key: DIMENSIONS[name].label for key, name in FILTER_KEYS.items()}
# A filter of the dashboard: (operator, URL key, values), the operators the filter dialog offers.
Condition = tuple[str, str, tuple[str, ...]]
# A clicked custom property value: the URL parameter prop=<key>=<value> (one); any number of property
# filters are conditions on the key props:<key> (f=is,props:<key>,<value> in the URL).
PROP_FILTER = "prop"
FILTER_LABELS[PROP_FILTER] = N_("Property")
PROP_CONDITION_PREFIX = "props:"
KPI_METRICS = ("visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration")
KPI_LABELS = {
    "visitors": N_("Unique visitors"),
    "visits": N_("Total visits"),
    "pageviews": N_("Total pageviews"),
    "views_per_visit": N_("Views per visit"),
    "bounce_rate": N_("Bounce rate"),
    "visit_duration": N_("Visit duration"),
}
METRIC_LABELS = {
    **KPI_LABELS,
    "visitors": N_("Visitors"),
    "visits": N_("Visits"),
    "pageviews": N_("Pageviews"),
    "searches": N_("Searches"),
    "zero_result_searches": N_("No results"),
    "events": "Events",
    "conversion_rate": "CR",
    "percentage": "%",
}
SEARCH_PANEL = "search_terms"
GOALS_PANEL = "goals"


@dataclass(frozen=True)
class View:
    """What the dashboard shows: a site, a period and the filters.

    filters are clicked rows, (URL key, value) pairs meaning "is"; conditions come from the filter dialog.
    """

    site: str
    timezone: str
    period: Period
    filters: tuple[tuple[str, str], ...] = ()
    # Add imported statistics (include.imports); the dashboard turns it on when the site has imports.
    imports: bool = False
    conditions: tuple[Condition, ...] = ()

    def api_filters(self) -> list[list[Any]]:
        """The filters in Stats API form."""
        clicked = [["is", _filter_dimension(key, value), [_filter_value(key, value)]] for key, value in self.filters]
        return clicked + [[op, condition_dimension(key), list(values)] for op, key, values in self.conditions]

    @property
    def filter_dimensions(self) -> set[str]:
        """Dimensions the view is filtered by."""
        return {_filter_dimension(key, value) for key, value in self.filters} | {
            condition_dimension(key) for _, key, _ in self.conditions
        }


def condition_dimension(key: str) -> str:
    """The API dimension of a condition's key: a filter key, or props:<key> for a custom property."""
    if key.startswith(PROP_CONDITION_PREFIX):
        return PROPS_PREFIX + key.removeprefix(PROP_CONDITION_PREFIX)
    return FILTER_KEYS[key]


def _filter_dimension(key: str, value: str) -> str:
    """The API dimension of a URL filter (prop=<key>=<value> filters by event:props:<key>)."""
    return PROPS_PREFIX + value.partition("=")[0] if key == PROP_FILTER else FILTER_KEYS[key]


def _filter_value(key: str, value: str) -> str:
    return value.partition("=")[2] if key == PROP_FILTER else value


@dataclass(frozen=True)
class Panel:
    """A breakdown panel: one dimension, what a click on a row filters by, and which rows are hidden."""

    name: str
    title: str
    dimension: str
    filter_key: str | None
    hide_empty: bool = False
    empty_label: str = N_("(none)")


PANELS: tuple[Panel, ...] = (
    Panel("pages", N_("Top pages"), "event:page", "page"),
    Panel("entry_pages", N_("Entry pages"), "visit:entry_page", "entry_page"),
    Panel("exit_pages", N_("Exit pages"), "visit:exit_page", "exit_page"),
    Panel("sources", N_("Sources"), "visit:source", "source"),
    Panel("referrers", N_("Referrers"), "visit:referrer", "referrer", hide_empty=True),
    Panel("campaigns", N_("UTM campaigns"), "visit:utm_campaign", "utm_campaign", hide_empty=True),
    Panel("utm_sources", N_("UTM sources"), "visit:utm_source", "utm_source", hide_empty=True),
    Panel("browsers", N_("Browsers"), "visit:browser", "browser"),
    Panel("os", N_("Operating systems"), "visit:os", "os"),
    Panel("devices", N_("Devices"), "visit:device", "device"),
    Panel("countries", N_("Countries"), "visit:country", "country", empty_label=N_("(unknown)")),
    Panel(SEARCH_PANEL, N_("Site search"), "search:term", None),
    Panel(GOALS_PANEL, N_("Goal conversions"), "event:goal", "goal"),
)
PANELS_BY_NAME = {panel.name: panel for panel in PANELS}


@dataclass
class PanelResult:
    """Rows of a panel, or why it cannot be shown with the view's filters."""

    panel: Panel
    metrics: tuple[str, ...] = ()
    rows: list[tuple[Any, list[Any]]] = field(default_factory=list)
    unavailable: str = ""
    note: str = ""


def _with_imports(body: dict[str, Any], view: View) -> dict[str, Any]:
    """The body with include.imports when the view adds imported statistics."""
    if view.imports:
        body["include"] = {**body.get("include", {}), "imports": True}
    return body


def panel_metrics(panel: Panel, view: View) -> tuple[tuple[str, ...], str]:
    """The metrics a panel shows (every filter combines with every panel; the reason is always empty)."""
    if panel.name == SEARCH_PANEL:
        return ("searches", "zero_result_searches"), ""
    if panel.dimension == "event:page":
        return ("visitors", "pageviews"), ""
    if panel.dimension == "visit:entry_page":
        return ("visits", "bounce_rate"), ""
    if panel.dimension == "visit:exit_page":
        return ("visits",), ""
    if panel.dimension == "event:goal":
        return ("visitors", "events", "conversion_rate"), ""
    return ("visitors",), ""


def panel_body(panel: Panel, view: View, limit: int) -> dict[str, Any] | None:
    """The Stats API query of a panel (None when it cannot be shown with the view's filters)."""
    metrics, reason = panel_metrics(panel, view)
    if reason:
        return None
    body: dict[str, Any] = {
        "site_id": view.site,
        "metrics": list(metrics),
        "date_range": view.period.date_range,
        "dimensions": [panel.dimension],
        "pagination": {"limit": min(limit + 1, MAX_LIMIT) if panel.hide_empty else limit, "offset": 0},
    }
    if panel.name != SEARCH_PANEL and (view.filters or view.conditions):
        body["filters"] = view.api_filters()
    return _with_imports(body, view)


def _today(timezone: str) -> dt.date:
    """Only used for named date ranges, which panel queries never send."""
    return dt.date.today()


def run_body(store: Store, view: View, body: dict[str, Any], search_min_count: int = 3) -> list[dict[str, Any]]:
    """Validate a body exactly as POST /api/v2/query does and run it; return the API's result rows."""
    query = parse_query(body, {view.site: view.timezone}, _today)
    if any(metric in ("searches", "zero_result_searches") for metric in query.metrics):
        return run_search_query(store, query, search_min_count)
    return run_query(store, query)


def run_panel(store: Store, panel: Panel, view: View, limit: int = 9, search_min_count: int = 3) -> PanelResult:
    """A panel's top rows under the view (empty values dropped where the panel hides them)."""
    metrics, reason = panel_metrics(panel, view)
    result = PanelResult(panel, metrics, unavailable=reason)
    if panel.name == SEARCH_PANEL and view.filters:
        result.note = N_("Search terms are stored apart from visits, so filters do not apply to them.")
    if panel.name == SEARCH_PANEL and (view.filters or view.conditions):
        result.note = "Search terms are stored apart from visits, so filters do not apply to them."
    body = panel_body(panel, view, limit)
    if body is None:
        return result
    rows = run_body(store, view, body, search_min_count)
    for row in rows:
        value = row["dimensions"][0]
        # The API labels an unset UTM value "(not set)"; its panels list set values only, as Plausible's do.
        if panel.hide_empty and value in ("", NOT_SET):
            continue
        result.rows.append((value, row["metrics"]))
    result.rows = result.rows[:limit]
    return result


def kpi_body(view: View, period: Period | None = None) -> tuple[dict[str, Any], list[str]]:
    """The Stats API query of the KPIs available under the view's filters, and the ones left out."""
    skipped: set[str] = set()
    body: dict[str, Any] = {
        "site_id": view.site,
        "metrics": [m for m in KPI_METRICS if m not in skipped],
        "date_range": (period or view.period).date_range,
    }
    if view.filters or view.conditions:
        body["filters"] = view.api_filters()
    return _with_imports(body, view), [m for m in KPI_METRICS if m in skipped]


def available_kpis(view: View) -> list[str]:
    """The KPIs that can be computed under the view's filters."""
    return kpi_body(view)[0]["metrics"]


def run_kpis(store: Store, view: View, period: Period | None = None) -> dict[str, Any]:
    """KPI values of the view's period (or another period with the same filters); None where unavailable."""
    body, skipped = kpi_body(view, period)
    values: dict[str, Any] = dict.fromkeys(skipped)
    if body["metrics"]:
        row = run_body(store, view, body)[0]
        values.update(zip(body["metrics"], row["metrics"], strict=True))
    return {metric: values[metric] for metric in KPI_METRICS}


def timeseries_body(view: View, metric: str, period: Period | None = None) -> dict[str, Any]:
    """The Stats API query of the chart: one metric per bucket of the view's interval."""
    body: dict[str, Any] = {
        "site_id": view.site,
        "metrics": [metric],
        "date_range": (period or view.period).date_range,
        "dimensions": [view.period.interval],
    }
    if view.filters or view.conditions:
        body["filters"] = view.api_filters()
    return _with_imports(body, view)


def run_timeseries(store: Store, view: View, metric: str, period: Period | None = None) -> list[tuple[str, Any]]:
    """(bucket, value) for every bucket of the period, zero where nothing happened."""
    period = period or view.period
    rows = run_body(store, view, timeseries_body(view, metric, period))
    found = {row["dimensions"][0]: row["metrics"][0] for row in rows}
    return [(bucket, found.get(bucket, 0)) for bucket in buckets(period, view.period.interval)]


REALTIME_SECONDS = 300


def realtime_visitors(store: Store, site: str, now: float | None = None, seconds: int = REALTIME_SECONDS) -> int:
    """Distinct visitor hashes with any event in the last five minutes (or the last seconds)."""
    until = int(time.time() if now is None else now)
    rows = store.query(
        "SELECT uniqExact(visitor_id) FROM events WHERE site = %(site)s AND ts >= toDateTime(%(since)s) "
        "AND ts <= toDateTime(%(until)s)",
        {"site": site, "since": until - seconds, "until": until},
    )
    return int(rows[0][0]) if rows else 0


MAX_SUGGESTIONS = 25


def suggestion_body(view: View, key: str, search: str = "", limit: int = MAX_SUGGESTIONS) -> dict[str, Any]:
    """The Stats API query behind the filter dialog's suggestions: a dimension's top values in the period.

    The view's filters on other dimensions apply (the values that would still show something); its filters
    on this dimension do not, or the list would hold only what is already chosen.
    """
    dimension = FILTER_KEYS[key]
    filters = [f for f in view.api_filters() if f[1] != dimension]
    if search:
        filters.append(["contains", dimension, [search], {"case_sensitive": False}])
    body: dict[str, Any] = {
        "site_id": view.site,
        "metrics": ["visitors"],
        "date_range": view.period.date_range,
        "dimensions": [dimension],
        "pagination": {"limit": min(limit, MAX_SUGGESTIONS), "offset": 0},
    }
    if filters:
        body["filters"] = filters
    return body


def suggest_values(store: Store, view: View, key: str, search: str = "", limit: int = MAX_SUGGESTIONS) -> list[dict]:
    """Top values of a filter key in the view's period, most visitors first: [{"value", "visitors"}]."""
    rows = run_body(store, view, suggestion_body(view, key, search, limit))
    return [{"value": row["dimensions"][0], "visitors": row["metrics"][0]} for row in rows]


PROPERTIES_PANEL = "properties"
MAX_PROPERTY_KEYS = 100


def property_keys(store: Store, view: View) -> list[str]:
    """Custom property keys of the period's events (pageviews' too), the most used first."""
    query = parse_query(
        {"site_id": view.site, "metrics": ["events"], "date_range": view.period.date_range},
        {view.site: view.timezone},
        _today,
    )
    rows = store.query(
        "SELECT arrayJoin(prop_keys) AS key, count() AS n FROM events WHERE site = %(site)s "
        "AND ts >= toDateTime(%(start)s) AND ts < toDateTime(%(end)s) AND name != 'engagement' "
        f"GROUP BY key ORDER BY n DESC, key LIMIT {MAX_PROPERTY_KEYS}",
        {"site": view.site, "start": query.start, "end": query.end},
    )
    return [key for key, _ in rows]


def properties_panel(key: str) -> Panel:
    """The Properties panel for one key: its values, a click filters by key=value."""
    return Panel(PROPERTIES_PANEL, f"Property {key}", PROPS_PREFIX + key, PROP_FILTER)


def property_metrics(view: View) -> tuple[str, ...]:
    """Visitors, events and, with a goal filter, the conversion rate (else each value's share of visitors)."""
    converting = any(key == "goal" for key, _ in view.filters) or any(
        key == "goal" and op in CONVERTING_OPERATORS for op, key, _ in view.conditions
    )
    return ("visitors", "events", "conversion_rate" if converting else "percentage")


def run_properties(store: Store, view: View, key: str, limit: int = 9) -> PanelResult:
    """The values of one property key under the view."""
    panel = properties_panel(key)
    metrics = property_metrics(view)
    body: dict[str, Any] = {
        "site_id": view.site,
        "metrics": list(metrics),
        "date_range": view.period.date_range,
        "dimensions": [panel.dimension],
        "pagination": {"limit": limit, "offset": 0},
    }
    if view.filters or view.conditions:
        body["filters"] = view.api_filters()
    rows = run_body(store, view, body)
    return PanelResult(panel, metrics, [(row["dimensions"][0], row["metrics"]) for row in rows])
