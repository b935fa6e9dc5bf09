"""What the stats API can compute: metrics and dimensions, as SQL over raw events and over rollups."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """SQL of one metric over raw events and over rollup states (None: raw events only)."""

    raw: str
    rollup: str | None
    engagement: bool = False  # reads engagement events, which other metrics skip


# Engaged time and scroll depth are averaged over (visitor, page) pairs that sent engagement events.
_ENGAGED_PAIRS = "uniqExactIf(visitor_id, pathname, name = 'engagement')"
# Largest scroll depth per (visitor, page): sort (pair hash, depth) and keep the last of each pair.
_DEPTHS = "arraySort(groupArrayIf((cityHash64(visitor_id, pathname), scroll_depth), name = 'engagement'))"
_PAIR_KEYS = f"arrayMap(x -> tupleElement(x, 1), {_DEPTHS})"
_MAX_DEPTHS = (
    f"arrayFilter((depth, key, next) -> key != next, arrayMap(x -> tupleElement(x, 2), {_DEPTHS}), "
    f"{_PAIR_KEYS}, arrayPushBack(arrayPopFront({_PAIR_KEYS}), 0))"
)

METRICS: dict[str, Metric] = {
    "visitors": Metric("uniqCombinedIf(visitor_id, name != 'engagement')", "uniqCombinedMerge(visitors)"),
    "pageviews": Metric("countIf(name = 'pageview')", "sumMerge(pageviews)"),
    "events": Metric("countIf(name != 'engagement')", "sumMerge(events)"),
    "time_on_page": Metric(
        f"if({_ENGAGED_PAIRS} = 0, NULL, "
        f"round(sumIf(engagement_ms, name = 'engagement') / {_ENGAGED_PAIRS} / 1000, 1))",
        None,
        engagement=True,
    ),
    "scroll_depth": Metric(
        f"if({_ENGAGED_PAIRS} = 0, NULL, round(arraySum({_MAX_DEPTHS}) / length({_MAX_DEPTHS})))",
        None,
        engagement=True,
    ),
}

# Visit metric → expression over the summed columns of dashboard/visits.py (v_visits, v_bounces, ...).
VISIT_METRICS: dict[str, str] = {
    "visits": "sum(v_visits)",
    "bounce_rate": "if(sum(v_visits) = 0, 0, round(100 * sum(v_bounces) / sum(v_visits), 1))",
    "visit_duration": "if(sum(v_visits) = 0, 0, round(sum(v_duration) / sum(v_visits) / 1000, 1))",
    "views_per_visit": "if(sum(v_visits) = 0, 0, round(sum(v_pageviews) / sum(v_visits), 2))",
}

# Metric → summed column of the search_terms table, and its one dimension (see dashboard/search_terms.py);
# they combine with nothing else, so no search term can be related to other data through a query.
SEARCH_METRICS: dict[str, str] = {"searches": "searches", "zero_result_searches": "zero_result_searches"}
SEARCH_DIMENSION = "search:term"

# Dimension → events column. LowCardinality columns are cast so both engines group them alike.
DIMENSIONS: dict[str, str] = {
    "event:page": "pathname",
    "event:name": "name",
    "event:hostname": "toString(hostname)",
    "visit:source": "toString(source)",
    "visit:referrer": "referrer_host",
    "visit:browser": "toString(browser)",
    "visit:browser_version": "toString(browser_version)",
    "visit:os": "toString(os)",
    "visit:os_version": "toString(os_version)",
    "visit:device": "toString(device)",
    "visit:country": "toString(country)",
    "visit:utm_source": "utm_source",
    "visit:utm_medium": "utm_medium",
    "visit:utm_campaign": "utm_campaign",
    "visit:utm_content": "utm_content",
    "visit:utm_term": "utm_term",
    "visit:entry_page": "entry_page",
    "visit:exit_page": "exit_page",
}

# Dimensions that only visits have, and those only events have (visits are described by their entry).
VISIT_ONLY_DIMENSIONS = frozenset({"visit:entry_page", "visit:exit_page"})
EVENT_ONLY_DIMENSIONS = frozenset({"event:page", "event:name", "event:hostname"})

# Dimensions the dimension_hourly rollup holds (see schemas/0002_rollups.sql).
ROLLUP_DIMENSIONS = frozenset(
    {
        "event:page",
        "visit:source",
        "visit:referrer",
        "visit:browser",
        "visit:os",
        "visit:device",
        "visit:country",
        "visit:utm_source",
        "visit:utm_medium",
        "visit:utm_campaign",
    }
)

# Time dimension → bucket expression of a DateTime column named {col}, in the site's time zone.
TIME_DIMENSIONS: dict[str, str] = {
    "time:hour": "toString(toStartOfHour({col}, %(tz)s), %(tz)s)",
    "time:day": "toString(toDate({col}, %(tz)s))",
    "time:month": "toString(toStartOfMonth(toDate({col}, %(tz)s)))",
}
