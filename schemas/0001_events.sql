-- Raw events: one row per accepted event, already anonymised. There is no IP column of any kind:
-- visitor_id is a keyed hash that changes with the daily salt.
CREATE TABLE IF NOT EXISTS events (
    site LowCardinality(String),
    ts DateTime,
    name String,
    visitor_id UInt64,
    hostname LowCardinality(String),
    pathname String,
    referrer String,
    referrer_host String,
    source LowCardinality(String),
    source_class LowCardinality(String),
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
    country LowCardinality(String),
    screen_width UInt16,
    interactive UInt8,
    engagement_ms UInt32,
    scroll_depth UInt8,
    prop_keys Array(String),
    prop_values Array(String)
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (site, toDate(ts), visitor_id, ts);
