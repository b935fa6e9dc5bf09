-- Visits (sessions): derived in ClickHouse from events by collector/storage/visits.py, never kept in
-- one process's memory, so any number of collector processes agree on them.

-- A visitor's hash with the previous UTC day's salt, stored only for events in the first 30 minutes
-- of a UTC day (0 otherwise): enough to continue a visit across midnight, too little to chain days.
ALTER TABLE events ADD COLUMN previous_visitor_id UInt64;

-- Whether the site honours Do-Not-Track and Global Privacy Control (on unless turned off).
ALTER TABLE sites ADD COLUMN respect_dnt UInt8 DEFAULT 1;

-- One row per closed visit, attributed to its first event. visit_id is a hash of the visitor hash and
-- the start, so every process computes the same rows; duplicates from concurrent runs are identical
-- and collapse on merge (readers still group by visit_id). Entry attributes come from the first event.
CREATE TABLE IF NOT EXISTS visits (
    site LowCardinality(String),
    visit_id UInt64,
    start_ts DateTime,
    end_ts DateTime,
    entry_page String,
    exit_page String,
    pageviews UInt32,
    custom_events UInt32,
    engaged_ms UInt64,
    duration_ms UInt64,
    bounce UInt8,
    hostname LowCardinality(String),
    referrer_host String,
    source LowCardinality(String),
    utm_source String,
    utm_medium String,
    utm_campaign String,
    utm_content String,
    utm_term String,
    browser LowCardinality(String),
    browser_version LowCardinality(String),
    os LowCardinality(String),
    os_version LowCardinality(String),
    device LowCardinality(String),
    country LowCardinality(String)
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(start_ts)
ORDER BY (site, toDate(start_ts), visit_id);

-- Hourly visit rollup per (dimension, value), by visit start; dimension '' holds the totals. Each row
-- is a complete recount of the hour's closed visits, so rewriting it is idempotent: the row with the
-- most visits is the newest (closed visits only accumulate), and readers take argMax(..., visits).
CREATE TABLE IF NOT EXISTS visit_hourly (
    site LowCardinality(String),
    dimension String,
    hour DateTime,
    value String,
    visits UInt64,
    bounces UInt64,
    pageviews UInt64,
    duration_ms UInt64
) ENGINE = ReplacingMergeTree(visits)
PARTITION BY toYYYYMM(hour)
ORDER BY (site, dimension, hour, value);

-- Progress of the visit job: every visit whose last event is before cutoff - 30 minutes is in visits.
CREATE TABLE IF NOT EXISTS visit_watermarks (
    cutoff DateTime,
    written_at DateTime
) ENGINE = MergeTree
ORDER BY cutoff;
