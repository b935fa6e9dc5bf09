"""What the stats API can compute: metrics and dimensions, as SQL over raw events and over rollups."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """SQL of one metric over raw events and over rollup states (None: raw events only)."""

    raw: str
    rollup: str | None


METRICS: dict[str, Metric] = {
    "visitors": Metric("uniqCombined(visitor_id)", "uniqCombinedMerge(visitors)"),
    "pageviews": Metric("countIf(name = 'pageview')", "sumMerge(pageviews)"),
    "events": Metric("count()", "sumMerge(events)"),
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
}

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
