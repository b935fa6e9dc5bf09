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
    "screen_width": "screen_width",
    "referrer": "referrer",
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
    "visitor_id",
    "events",
    "exit_hostname",
    *ENTRY_ATTRIBUTES,
)


def _field(index: int) -> str:
    """Element of the current event tuple, 1-based like tupleElement."""
    return f"tupleElement(e, {index})"


# Event fields the sessionised event rows carry besides those of _EVENT_TUPLE and ENTRY_ATTRIBUTES.
SESSION_EVENT_FIELDS: dict[str, str] = {
    "name": "name",
    "event_hostname": "toString(hostname)",
    "prop_keys": "prop_keys",
    "prop_values": "prop_values",
    "scroll_depth": "scroll_depth",
}


def _grouped_sql(fields: str, site_filter: str) -> str:
    """Each visitor hash's events as one sorted array of tuples, with the piece number of every event."""
    return f"""
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
            )"""


def segments_sql(site_filter: str, with_piece: bool = False) -> str:
    """Pieces of visits: one row per visitor hash and run of events without a 30-minute gap."""
    fields = ", ".join((*_EVENT_TUPLE, *ENTRY_ATTRIBUTES.values()))
    kind, first = _field(2), len(_EVENT_TUPLE) + 1
    attributes = ", ".join(
        f"argMinIf({_field(first + i)}, ord, {kind} != 2) AS {name}" for i, name in enumerate(ENTRY_ATTRIBUTES)
    )
    return f"""
        SELECT site, vid,{" piece," if with_piece else ""}
            min({_field(1)}) AS seg_start, max({_field(1)}) AS seg_end,
            argMin({_field(6)}, ord) AS seg_prev,
            countIf({kind} = 0) AS seg_pageviews,
            countIf({kind} = 1 AND {_field(4)} = 1) AS seg_custom,
            countIf({kind} != 2) AS seg_events,
            argMaxIf({_field(first)}, ord, {kind} = 0) AS seg_exit_host,
            sumIf({_field(5)}, {kind} = 2) AS seg_engaged,
            argMinIf({_field(3)}, ord, {kind} = 0) AS seg_entry,
            argMaxIf({_field(3)}, ord, {kind} = 0) AS seg_exit,
            {attributes}
        FROM ({_grouped_sql(fields, site_filter)}
        )
        ARRAY JOIN evs AS e, pieces AS piece, arrayEnumerate(evs) AS ord
        GROUP BY site, vid, piece
        HAVING countIf({kind} != 2) > 0
    """


def session_events_sql(site_filter: str) -> str:
    """Every event of [%(since)s, %(until)s) with its visit's entry attributes and measures, one row each.

    The visit is the event's piece of the day: unlike visits_sql(), a visit running across UTC midnight is
    two visits here (as in Plausible, whose visitor hash also changes at midnight). ALL, not ANY: on current
    releases ANY INNER JOIN keeps one row per key of the left side too. Event columns are named
    as in events (the event's host is event_hostname); visit columns as in visits, measures as v_*.
    """
    extra = tuple(SESSION_EVENT_FIELDS.values())
    fields = ", ".join((*_EVENT_TUPLE, *ENTRY_ATTRIBUTES.values(), *extra))
    offset = len(_EVENT_TUPLE) + len(ENTRY_ATTRIBUTES) + 1
    event_columns = ", ".join(f"{_field(offset + i)} AS {name}" for i, name in enumerate(SESSION_EVENT_FIELDS))
    attributes = ", ".join(ENTRY_ATTRIBUTES)
    return f"""
        SELECT * FROM (
            SELECT site, vid, piece, vid AS visitor_id, toDateTime({_field(1)}) AS ts, {_field(3)} AS pathname,
                {_field(4)} AS interactive, {_field(5)} AS engagement_ms, {event_columns}
            FROM ({_grouped_sql(fields, site_filter)}
            )
            ARRAY JOIN evs AS e, pieces AS piece
        ) AS event_rows
        ALL INNER JOIN (
            SELECT site, vid, piece, cityHash64(site, vid, seg_start) AS visit_id, toDateTime(seg_start) AS start_ts,
                seg_entry AS entry_page, seg_exit AS exit_page, seg_exit_host AS exit_hostname, {attributes},
                toUInt8(seg_pageviews = 1 AND seg_custom = 0) AS v_bounce,
                if(seg_pageviews <= 1, seg_engaged, toUInt64(seg_end - seg_start) * 1000) AS v_duration,
                toUInt64(seg_pageviews) AS v_pageviews, toUInt64(seg_events) AS v_events
            FROM ({segments_sql(site_filter, with_piece=True)})
        ) AS visit_rows USING (site, vid, piece)
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
            visitor_id, events, exit_hostname,
            {attributes}
        FROM (
            SELECT site, cityHash64(site, vid, seg_start) AS visit_id, seg_start AS first_t,
                if(merged, next_end, seg_end) AS last_t,
                seg_entry AS entry_page,
                if(merged AND next_exit != '', next_exit, seg_exit) AS exit_page,
                toUInt32(seg_pageviews + if(merged, next_pageviews, 0)) AS pageviews,
                toUInt32(seg_custom + if(merged, next_custom, 0)) AS custom_events,
                toUInt64(seg_engaged + if(merged, next_engaged, 0)) AS engaged_ms,
                vid AS visitor_id,
                toUInt32(seg_events + if(merged, next_events, 0)) AS events,
                if(merged AND next_exit != '', next_exit_host, seg_exit_host) AS exit_hostname,
                {attributes}
            FROM (
                SELECT site, vid, seg_start, seg_end, seg_prev, seg_pageviews, seg_custom, seg_engaged,
                    seg_entry, seg_exit, seg_events, seg_exit_host, {attributes},
                    next_end, next_exit, next_pageviews, next_custom, next_engaged, next_events, next_exit_host,
                    has_next = 1 AND next_start <= seg_end + {IDLE_SECONDS} AS merged
                FROM ({segments}) AS a
                ANY LEFT JOIN (
                    SELECT site, seg_prev AS vid, toUInt8(1) AS has_next, next_start, next_end, next_exit,
                        next_pageviews, next_custom, next_engaged, next_events, next_exit_host
                    FROM (
                        SELECT site, seg_prev, seg_start AS next_start, seg_end AS next_end,
                            seg_exit AS next_exit, seg_pageviews AS next_pageviews,
                            seg_custom AS next_custom, seg_engaged AS next_engaged,
                            seg_events AS next_events, seg_exit_host AS next_exit_host
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
