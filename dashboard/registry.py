"""Every dimension and metric of the stats API, declared once: scope, SQL on each table, label, filter rules.

Validation (dashboard/query.py), the planner (dashboard/planner.py), the dashboard's panels and filters,
the CSV exports and docs/stats-api.md's tables are all derived from these declarations; a test keeps the
docs and the rollup views in step with them.

Scopes follow Plausible's: an `event:` dimension is an attribute of each event; a `visit:` dimension is an
attribute of the visit, taken from its entry (first) event, and applies to every metric: the pageviews
of a visit that came from Google all count under Google.
"""

from dataclasses import dataclass

from dashboard.translatable import N_
from storage.channels import channel_sql
from storage.value_names import browser_sql, device_sql, os_sql, referrer_sql, screen_sql, source_sql

EVENT = "event"
VISIT = "visit"
TIME = "time"
SEARCH = "search"
DERIVED = "derived"

# Names of the visit rows' columns (stored visits, open visits and sessionised events share them) are the
# events table's, so one expression serves both kinds of row.
NOT_SET = "(not set)"


@dataclass(frozen=True)
class Dimension:
    """One dimension: where it lives, its SQL on event and visit rows, and how it is shown."""

    name: str
    scope: str
    label: str
    # SQL over an events row (None: events alone cannot tell, e.g. the entry page).
    on_events: str | None
    # SQL over a visit row (stored visits, open visits); None: not a visit attribute.
    on_visits: str | None
    # The dimension value of the visit rollups (visit_hourly/visit_daily) and of the event rollups
    # (dimension_hourly/...); None: no rollup holds it.
    visit_rollup: str | None = None
    event_rollup: str | None = None
    # SQL of the shown value over a rollup row's `value` column (stored names renamed, as on the other rows).
    on_rollup: str = "value"
    # Shown for an empty value.
    empty: str = NOT_SET
    # Values are matched case-insensitively by default (Plausible's default is case-sensitive; this only
    # changes what `contains` does when the modifier is absent).
    filterable: bool = True


def _event(name: str, label: str, sql: str, rollup: bool = False) -> Dimension:
    return Dimension(f"event:{name}", EVENT, label, sql, None, event_rollup=f"event:{name}" if rollup else None)


def _visit(
    name: str, label: str, sql: str, rollup: bool = True, empty: str = NOT_SET, on_rollup: str = "value"
) -> Dimension:
    visit_rollup = f"visit:{name}" if rollup else None
    return Dimension(f"visit:{name}", VISIT, label, sql, sql, visit_rollup, empty=empty, on_rollup=on_rollup)


_DIMENSIONS: tuple[Dimension, ...] = (
    _event("page", N_("Page"), "pathname", rollup=True),
    _event("name", N_("Event name"), "name"),
    _event("hostname", N_("Hostname"), "toString(hostname)"),
    Dimension("visit:entry_page", VISIT, N_("Entry page"), None, "entry_page", visit_rollup="visit:entry_page"),
    Dimension("visit:exit_page", VISIT, N_("Exit page"), None, "exit_page", visit_rollup="visit:exit_page"),
    Dimension("visit:entry_page_hostname", VISIT, N_("Entry page hostname"), None, "toString(hostname)"),
    Dimension("visit:exit_page_hostname", VISIT, N_("Exit page hostname"), None, "toString(exit_hostname)"),
    _visit("source", N_("Source"), source_sql("source"), empty="Direct / None", on_rollup=source_sql("value")),
    _visit(
        "referrer",
        N_("Referrer"),
        referrer_sql("referrer", "referrer_host"),
        empty="Direct / None",
        on_rollup=referrer_sql(None, "value"),
    ),
    _visit("channel", N_("Channel"), channel_sql("source", "utm_medium", "utm_source", "utm_campaign"), rollup=False),
    _visit("utm_source", N_("UTM source"), "utm_source"),
    _visit("utm_medium", N_("UTM medium"), "utm_medium"),
    _visit("utm_campaign", N_("UTM campaign"), "utm_campaign"),
    _visit("utm_content", N_("UTM content"), "utm_content", rollup=False),
    _visit("utm_term", N_("UTM term"), "utm_term", rollup=False),
    _visit("browser", N_("Browser"), browser_sql("browser"), on_rollup=browser_sql("value")),
    _visit("browser_version", N_("Browser version"), "toString(browser_version)", rollup=False),
    _visit("os", N_("Operating system"), os_sql("os"), on_rollup=os_sql("value")),
    _visit("os_version", N_("OS version"), "toString(os_version)", rollup=False),
    _visit("device", N_("Device"), device_sql("device"), on_rollup=device_sql("value")),
    _visit("screen", N_("Screen size"), screen_sql("screen_width"), rollup=False),
    _visit("country", N_("Country"), "toString(country)"),
    # The goals an event completes, compiled per query from the site's goals (dashboard/goal_sql.py).
    Dimension("event:goal", EVENT, "Goal", "<goals>", None, empty=""),
)
# on_events of a dimension made from the site's goals when a query runs.
GOALS_SQL = "<goals>"
DIMENSIONS: dict[str, Dimension] = {dimension.name: dimension for dimension in _DIMENSIONS}

# `event:props:<key>`: a custom property of the event, "" where the event has none.
PROPS_PREFIX = "event:props:"
MAX_PROP_KEY = 300


def dimension(name: str) -> Dimension | None:
    """The declared dimension of a name, including custom properties; None when unknown."""
    if name.startswith(PROPS_PREFIX):
        key = name[len(PROPS_PREFIX) :]
        if not key or len(key) > MAX_PROP_KEY:
            return None
        # The key is bound as a parameter by the planner (%(prop_<n>)s), never pasted into SQL.
        return Dimension(name, EVENT, f"Property {key}", "", None)
    return DIMENSIONS.get(name)


# Time dimension → bucket of a DateTime column {col} in the site's time zone, labelled as Plausible does.
TIME_DIMENSIONS: dict[str, str] = {
    "time:minute": "toString(toStartOfMinute({col}, %(tz)s), %(tz)s)",
    "time:hour": "toString(toStartOfHour({col}, %(tz)s), %(tz)s)",
    "time:day": "toString(toDate({col}, %(tz)s))",
    # Weeks start on Monday (mode 1 of toMonday); a week cut by the range starts at the range's first day.
    "time:week": "toString(greatest(toMonday(toDate({col}, %(tz)s)), toDate(%(first_day)s)))",
    "time:month": "toString(greatest(toStartOfMonth(toDate({col}, %(tz)s)), toDate(%(first_day)s)))",
}
# "time" (the dimension) stands for the natural bucket of the range; dashboard/query.py resolves it.
SEARCH_DIMENSION = "search:term"


@dataclass(frozen=True)
class Metric:
    """One metric: its kind, its SQL on each source, and how it is shown and rounded."""

    name: str
    kind: str  # EVENT (counted from events), VISIT (from visits), SEARCH, or DERIVED (from other metrics)
    label: str
    # Over events rows, and over the event rollups' states; None where that source cannot give it.
    on_events: str | None
    on_event_rollup: str | None
    # Over visit rows carrying v_* per-visit columns (see dashboard/visit_rows.py).
    on_visits: str | None
    # Needs engagement events (the other metrics skip them).
    engagement: bool = False
    # False for the parts of other metrics that merging imported statistics needs (not asked by name).
    public: bool = True
    # Over the event rows of a goal query (event:goal dimension or filter), which keep engagement events
    # completing a scroll goal; None: as on_events.
    on_goal_events: str | None = None


# Engaged time and scroll depth are averaged over (visitor, page) pairs that sent engagement events.
_ENGAGED_PAIRS = "uniqExactIf(visitor_id, pathname, name = 'engagement')"
# Largest scroll depth per (visitor, page): sort (pair hash, depth) and keep the last of each pair.
_DEPTHS = "arraySort(groupArrayIf((cityHash64(visitor_id, pathname), scroll_depth), name = 'engagement'))"
_PAIR_KEYS = f"arrayMap(x -> tupleElement(x, 1), {_DEPTHS})"
_MAX_DEPTHS = (
    f"arrayFilter((depth, key, next) -> key != next, arrayMap(x -> tupleElement(x, 2), {_DEPTHS}), "
    f"{_PAIR_KEYS}, arrayPushBack(arrayPopFront({_PAIR_KEYS}), 0))"
)
_VISITS = "sum(v_visits)"

_METRICS: tuple[Metric, ...] = (
    Metric(
        "visitors",
        EVENT,
        "Visitors",
        "uniqCombinedIf(visitor_id, name != 'engagement')",
        "uniqCombinedMerge(visitors)",
        "uniqCombinedMerge(v_visitors)",
        on_goal_events="uniqCombined(visitor_id)",
    ),
    Metric("pageviews", EVENT, "Pageviews", "countIf(name = 'pageview')", "sumMerge(pageviews)", "sum(v_pageviews)"),
    Metric(
        "events",
        EVENT,
        "Events",
        "countIf(name != 'engagement')",
        "sumMerge(events)",
        "sum(v_events)",
        on_goal_events="count()",
    ),
    Metric("visits", VISIT, "Visits", None, None, _VISITS),
    Metric(
        "bounce_rate",
        VISIT,
        "Bounce rate",
        None,
        None,
        f"if({_VISITS} = 0, 0, round(100 * sum(v_bounces) / {_VISITS}))",
    ),
    Metric(
        "visit_duration",
        VISIT,
        "Visit duration",
        None,
        None,
        f"if({_VISITS} = 0, 0, round(sum(v_duration) / {_VISITS} / 1000))",
    ),
    Metric(
        "views_per_visit",
        VISIT,
        "Views per visit",
        None,
        None,
        f"if({_VISITS} = 0, 0, round(sum(v_pageviews) / {_VISITS}, 2))",
    ),
    Metric(
        "time_on_page",
        EVENT,
        "Time on page",
        f"if({_ENGAGED_PAIRS} = 0, NULL, round(sumIf(engagement_ms, name = 'engagement') / {_ENGAGED_PAIRS} / 1000))",
        None,
        None,
        engagement=True,
    ),
    Metric(
        "scroll_depth",
        EVENT,
        "Scroll depth",
        f"if({_ENGAGED_PAIRS} = 0, NULL, round(arraySum({_MAX_DEPTHS}) / length({_MAX_DEPTHS})))",
        None,
        None,
        engagement=True,
    ),
    # The sums behind bounce_rate, visit_duration and views_per_visit, for adding imported visits to them.
    Metric("bounces", VISIT, "Bounces", None, None, "sum(v_bounces)", public=False),
    Metric("visit_duration_ms", VISIT, "Total visit duration", None, None, "sum(v_duration)", public=False),
    Metric("visit_pageviews", VISIT, "Pageviews of visits", None, None, "sum(v_pageviews)", public=False),
    Metric("percentage", DERIVED, "%", None, None, None),
    Metric("conversion_rate", DERIVED, "Conversion rate", None, None, None),
    Metric("group_conversion_rate", DERIVED, "Group conversion rate", None, None, None),
    Metric("searches", SEARCH, "Searches", None, None, None),
    Metric("zero_result_searches", SEARCH, "No results", None, None, None),
)
METRICS: dict[str, Metric] = {metric.name: metric for metric in _METRICS}
PUBLIC_METRICS: dict[str, Metric] = {name: metric for name, metric in METRICS.items() if metric.public}
EVENT_METRICS = frozenset(m.name for m in _METRICS if m.kind == EVENT)
VISIT_METRICS = frozenset(m.name for m in _METRICS if m.kind == VISIT)
SEARCH_METRICS: dict[str, str] = {"searches": "searches", "zero_result_searches": "zero_result_searches"}

# Imported statistics (schemas/0016_imported.sql, a Plausible export's daily tables): the table answering each
# dimension and its column there. A query whose dimensions and filters fall in one table gets the imported
# numbers added (include.imports); any other dimension or filter is answered without them, and meta says so.
IMPORTED_TOTALS = "imported_visitors"
IMPORTED_DIMENSIONS: dict[str, tuple[str, str]] = {
    "event:page": ("imported_pages", "page"),
    "event:hostname": ("imported_pages", "hostname"),
    "event:name": ("imported_custom_events", "name"),
    "visit:entry_page": ("imported_entry_pages", "entry_page"),
    "visit:exit_page": ("imported_exit_pages", "exit_page"),
    "visit:source": ("imported_sources", "source"),
    "visit:referrer": ("imported_sources", "referrer"),
    "visit:utm_source": ("imported_sources", "utm_source"),
    "visit:utm_medium": ("imported_sources", "utm_medium"),
    "visit:utm_campaign": ("imported_sources", "utm_campaign"),
    "visit:utm_content": ("imported_sources", "utm_content"),
    "visit:utm_term": ("imported_sources", "utm_term"),
    "visit:country": ("imported_locations", "country"),
    "visit:device": ("imported_devices", "device"),
    "visit:browser": ("imported_browsers", "browser"),
    "visit:browser_version": ("imported_browsers", "browser_version"),
    "visit:os": ("imported_operating_systems", "operating_system"),
    "visit:os_version": ("imported_operating_systems", "operating_system_version"),
}
# Day-sized buckets only: the imported tables hold whole days.
IMPORTED_TIME_DIMENSIONS = frozenset({"time:day", "time:week", "time:month"})
