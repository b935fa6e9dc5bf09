"""SQL that derives visits from raw events, for ClickHouse 18.16 and 26.x alike (no window functions).

Each visitor hash's events are sorted and split where 30 minutes pass without an event; the pieces
are then joined across UTC midnight, where the visitor hash changes with the daily salt: a piece whose
first event carries previous_visitor_id P continues P's last piece if that ended at most 30 minutes
earlier. A piece made only of engagement events is not a visit (engagement never starts one).
"""

IDLE_SECONDS = 1800
# Visits are derived from windows reaching this far back; one with continuous activity for longer
# (seen only from automation) is cut where the window starts.
MAX_VISIT_SECONDS = 6 * 3600

# The sorted event tuple: time, kind (pageview 0, custom 1, engagement 2), then the other fields.
_EVENT_TUPLE = (
    "toUInt32(ts)",
    "toUInt8(multiIf(name = 'pageview', 0, name = 'engagement', 2, 1))",
    "pathname",
    "interactive",
    "engagement_ms",
    "previous_visitor_id",
)
# Entry attributes of a visit, taken from its first event that is not an engagement.
ENTRY_ATTRIBUTES: dict[str, str] = {
    "hostname": "toString(hostname)",
    "referrer_host": "referrer_host",
    "source": "toString(source)",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "utm_content": "utm_content",
    "utm_term": "utm_term",
    "browser": "toString(browser)",
    "browser_version": "toString(browser_version)",
    "os": "toString(os)",
    "os_version": "toString(os_version)",
    "device": "toString(device)",
    "country": "toString(country)",
}
VISIT_COLUMNS: tuple[str, ...] = (
    "site",
    "visit_id",
    "start_ts",
    "end_ts",
    "entry_page",
    "exit_page",
    "pageviews",
    "custom_events",
    "engaged_ms",
    "duration_ms",
    "bounce",
    *ENTRY_ATTRIBUTES,
)


def _field(index: int) -> str:
    """Element of the current event tuple, 1-based like tupleElement."""
    return f"tupleElement(e, {index})"


def segments_sql(site_filter: str) -> str:
    """Pieces of visits: one row per visitor hash and run of events without a 30-minute gap."""
    fields = ", ".join((*_EVENT_TUPLE, *ENTRY_ATTRIBUTES.values()))
    kind, first = _field(2), len(_EVENT_TUPLE) + 1
    attributes = ", ".join(
        f"argMinIf({_field(first + i)}, ord, {kind} != 2) AS {name}" for i, name in enumerate(ENTRY_ATTRIBUTES)
    )
    return f"""
        SELECT site, vid,
            min({_field(1)}) AS seg_start, max({_field(1)}) AS seg_end,
            argMin({_field(6)}, ord) AS seg_prev,
            countIf({kind} = 0) AS seg_pageviews,
            countIf({kind} = 1 AND {_field(4)} = 1) AS seg_custom,
            sumIf({_field(5)}, {kind} = 2) AS seg_engaged,
            argMinIf({_field(3)}, ord, {kind} = 0) AS seg_entry,
            argMaxIf({_field(3)}, ord, {kind} = 0) AS seg_exit,
            {attributes}
        FROM (
            SELECT site, vid, evs,
                arrayCumSum(arrayMap(
                    gap -> toUInt32(gap > {IDLE_SECONDS}),
                    arrayDifference(arrayMap(x -> tupleElement(x, 1), evs))
                )) AS pieces
            FROM (
                SELECT toString(site) AS site, visitor_id AS vid, arraySort(groupArray(({fields}))) AS evs
                FROM events
                WHERE ts >= toDateTime(%(since)s) AND ts < toDateTime(%(until)s) {site_filter}
                GROUP BY site, vid
            )
        )
        ARRAY JOIN evs AS e, pieces AS piece, arrayEnumerate(evs) AS ord
        GROUP BY site, vid, piece
        HAVING countIf({kind} != 2) > 0
    """


def visits_sql(site: bool = False, condition: str = "") -> str:
    """Visits from events in [%(since)s, %(until)s) (Unix times), optionally of %(site)s only and of events
    meeting an extra condition."""
    segments = segments_sql(("AND site = %(site)s" if site else "") + (f" AND {condition}" if condition else ""))
    attributes = ", ".join(ENTRY_ATTRIBUTES)
    return f"""
        SELECT site, visit_id, toDateTime(first_t) AS start_ts, toDateTime(last_t) AS end_ts,
            entry_page, exit_page, pageviews, custom_events, engaged_ms,
            if(pageviews <= 1, engaged_ms, toUInt64(last_t - first_t) * 1000) AS duration_ms,
            toUInt8(pageviews = 1 AND custom_events = 0) AS bounce,
            {attributes}
        FROM (
            SELECT site, cityHash64(site, vid, seg_start) AS visit_id, seg_start AS first_t,
                if(merged, next_end, seg_end) AS last_t,
                seg_entry AS entry_page,
                if(merged AND next_exit != '', next_exit, seg_exit) AS exit_page,
                toUInt32(seg_pageviews + if(merged, next_pageviews, 0)) AS pageviews,
                toUInt32(seg_custom + if(merged, next_custom, 0)) AS custom_events,
                toUInt64(seg_engaged + if(merged, next_engaged, 0)) AS engaged_ms,
                {attributes}
            FROM (
                SELECT site, vid, seg_start, seg_end, seg_prev, seg_pageviews, seg_custom, seg_engaged,
                    seg_entry, seg_exit, {attributes},
                    next_end, next_exit, next_pageviews, next_custom, next_engaged,
                    has_next = 1 AND next_start <= seg_end + {IDLE_SECONDS} AS merged
                FROM ({segments}) AS a
                ANY LEFT JOIN (
                    SELECT site, seg_prev AS vid, toUInt8(1) AS has_next, next_start, next_end, next_exit,
                        next_pageviews, next_custom, next_engaged
                    FROM (
                        SELECT site, seg_prev, seg_start AS next_start, seg_end AS next_end,
                            seg_exit AS next_exit, seg_pageviews AS next_pageviews,
                            seg_custom AS next_custom, seg_engaged AS next_engaged
                        FROM ({segments})
                        WHERE seg_prev != 0
                    )
                ) AS b USING (site, vid)
            ) AS c
            ANY LEFT JOIN (
                SELECT site, vid AS seg_prev, prev_end
                FROM (SELECT site, vid, max(seg_end) AS prev_end FROM ({segments}) GROUP BY site, vid)
            ) AS d USING (site, seg_prev)
            WHERE NOT (seg_prev != 0 AND prev_end != 0 AND seg_start <= prev_end + {IDLE_SECONDS})
        )
    """
