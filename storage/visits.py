"""Closing visits: writes closed visits and their rollups, from any number of processes at once.

Every run reads the shared watermark, derives the visits that closed since (their last event is over
30 minutes old) from events with one SQL statement, inserts them, recounts the touched hours of
visit_hourly and advances the watermark. Runs are idempotent: two processes running together write
identical visit rows (same visit_id, collapsed on merge) and identical hourly recounts.
"""

from storage.sessions import IDLE_SECONDS, MAX_VISIT_SECONDS, VISIT_COLUMNS, visits_sql
from storage.store import Store
from storage.value_names import referrer_sql

# One run closes at most this much time of visit ends per statement, so catching up stays bounded.
CHUNK_SECONDS = 3600

# (dimension, visits column) pairs of visit_hourly; '' holds the totals.
HOURLY_DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("", "''"),
    ("visit:entry_page", "entry_page"),
    ("visit:exit_page", "exit_page"),
    ("visit:source", "toString(source)"),
    ("visit:referrer", referrer_sql("referrer", "referrer_host")),
    ("visit:browser", "toString(browser)"),
    ("visit:os", "toString(os)"),
    ("visit:device", "toString(device)"),
    ("visit:country", "toString(country)"),
    ("visit:utm_source", "utm_source"),
    ("visit:utm_medium", "utm_medium"),
    ("visit:utm_campaign", "utm_campaign"),
)


# A visit's visitor and event count; visits stored before schemas/0011 have neither: each counts as its
# own visitor, its events as its pageviews and interactive custom events.
VISITOR_KEY = "if(visitor_id = 0, visit_id, visitor_id)"
EVENT_COUNT = "if(events = 0, pageviews + custom_events, events)"


def deduplicated_visits(where: str) -> str:
    """SELECT of stored visits matching where, one row per visit_id (concurrent runs may repeat rows)."""
    columns = ", ".join(f"any({c}) AS {c}" for c in VISIT_COLUMNS if c not in ("site", "visit_id"))
    matching = f"SELECT {', '.join(VISIT_COLUMNS)} FROM visits WHERE {where}"
    return f"SELECT site, visit_id, {columns} FROM ({matching}) GROUP BY site, visit_id"


def watermark(store: Store) -> int | None:
    """Unix time before which (minus 30 minutes) every visit end is stored, or None before the first run."""
    rows = store.query("SELECT count(), toUInt32(max(cutoff)) FROM visit_watermarks")
    return int(rows[0][1]) if rows and rows[0][0] else None


def _first_event(store: Store) -> int | None:
    """Unix time of the oldest stored event, or None."""
    rows = store.query("SELECT count(), toUInt32(min(ts)) FROM events")
    return int(rows[0][1]) if rows and rows[0][0] else None


def recount_hours(store: Store, since: int) -> None:
    """Rewrite visit_hourly for every hour from the one containing since, and visit_daily for every day from
    the one containing since, from the stored visits."""
    pairs = ", ".join(f"('{dimension}', {column})" for dimension, column in HOURLY_DIMENSIONS)
    source = deduplicated_visits("start_ts >= toDateTime(%(since)s)")
    store.execute(
        f"""
        INSERT INTO visit_hourly
            (site, dimension, hour, value, visits, bounces, pageviews, duration_ms, visitors, events)
        SELECT site, tupleElement(pair, 1) AS dimension, toStartOfHour(start_ts) AS hour,
            tupleElement(pair, 2) AS value, count() AS visits, sum(bounce) AS bounces,
            sum(pageviews) AS pageview_sum, sum(duration_ms) AS duration_sum,
            uniqCombinedState({VISITOR_KEY}) AS visitors, sum({EVENT_COUNT}) AS event_sum
        FROM ({source})
        ARRAY JOIN [{pairs}] AS pair
        GROUP BY site, dimension, hour, value
        """,
        {"since": since - since % 3600},
    )
    # The same recount per UTC day, from the start of the day containing since (see schemas/0009).
    daily = deduplicated_visits("start_ts >= toDateTime(%(since)s)")
    store.execute(
        f"""
        INSERT INTO visit_daily
            (site, dimension, day, value, visits, bounces, pageviews, duration_ms, visitors, events)
        SELECT site, tupleElement(pair, 1) AS dimension, toDate(start_ts, 'UTC') AS day,
            tupleElement(pair, 2) AS value, count() AS visits, sum(bounce) AS bounces,
            sum(pageviews) AS pageview_sum, sum(duration_ms) AS duration_sum,
            uniqCombinedState({VISITOR_KEY}) AS visitors, sum({EVENT_COUNT}) AS event_sum
        FROM ({daily})
        ARRAY JOIN [{pairs}] AS pair
        GROUP BY site, dimension, day, value
        """,
        {"since": since - since % 86_400},
    )


def close_visits(store: Store, now: float, settle: int = 60) -> int:
    """One run: store every visit closed by now - settle seconds; return the new watermark."""
    cutoff = int(now) - settle
    last_end = cutoff - IDLE_SECONDS
    mark = watermark(store)
    begin = mark - IDLE_SECONDS if mark is not None else _first_event(store)
    if begin is None:
        begin = last_end
    columns = ", ".join(VISIT_COLUMNS)
    while True:
        end = min(begin + CHUNK_SECONDS, last_end)
        if end > begin:
            store.execute(
                f"INSERT INTO visits ({columns}) SELECT {columns} FROM ({visits_sql()}) "
                "WHERE end_ts >= toDateTime(%(lo)s) AND end_ts < toDateTime(%(hi)s)",
                {"since": begin - MAX_VISIT_SECONDS, "until": end + IDLE_SECONDS, "lo": begin, "hi": end},
            )
            recount_hours(store, begin - MAX_VISIT_SECONDS)
        if mark is None or end > begin:
            mark = end + IDLE_SECONDS
            store.insert("visit_watermarks", ["cutoff", "written_at"], [[mark], [int(now)]])
        if end >= last_end:
            return mark
        begin = end
