-- Imported statistics: the daily aggregates of a Plausible CSV export (lib/plausible/exports.ex), one
-- table per exported file, with Plausible's column names. Every table is partitioned by import_id, so
-- an import is replaced or deleted with DROP PARTITION (synchronous on 18.16 and 26.x; ALTER ... DELETE
-- is an asynchronous mutation on 18.16). visit_duration is the sum of visit durations in seconds.

-- One row per import: re-importing the same files writes the same import_id and replaces the row.
CREATE TABLE IF NOT EXISTS imports (
    site LowCardinality(String),
    import_id UInt64,
    source LowCardinality(String),
    file_name String,
    first_day Date,
    last_day Date,
    row_count UInt64,
    imported_at DateTime
) ENGINE = ReplacingMergeTree(imported_at)
PARTITION BY import_id
ORDER BY (site, import_id);

CREATE TABLE IF NOT EXISTS imported_visitors (
    site LowCardinality(String),
    import_id UInt64,
    date Date,
    visitors UInt64,
    pageviews UInt64,
    bounces UInt64,
    visits UInt64,
    visit_duration UInt64
) ENGINE = MergeTree
PARTITION BY import_id
ORDER BY (site, date);

CREATE TABLE IF NOT EXISTS imported_sources (
    site LowCardinality(String),
    import_id UInt64,
    date Date,
    source String,
    referrer String,
    utm_source String,
    utm_medium String,
    utm_campaign String,
    utm_content String,
    utm_term String,
    pageviews UInt64,
    visitors UInt64,
    visits UInt64,
    visit_duration UInt64,
    bounces UInt64
) ENGINE = MergeTree
PARTITION BY import_id
ORDER BY (site, date, source);

CREATE TABLE IF NOT EXISTS imported_pages (
    site LowCardinality(String),
    import_id UInt64,
    date Date,
    hostname String,
    page String,
    visits UInt64,
    visitors UInt64,
    pageviews UInt64,
    total_scroll_depth UInt64,
    total_scroll_depth_visits UInt64,
    total_time_on_page UInt64,
    total_time_on_page_visits UInt64
) ENGINE = MergeTree
PARTITION BY import_id
ORDER BY (site, date, page);

CREATE TABLE IF NOT EXISTS imported_entry_pages (
    site LowCardinality(String),
    import_id UInt64,
    date Date,
    entry_page String,
    visitors UInt64,
    entrances UInt64,
    visit_duration UInt64,
    bounces UInt64,
    pageviews UInt64
) ENGINE = MergeTree
PARTITION BY import_id
ORDER BY (site, date, entry_page);

CREATE TABLE IF NOT EXISTS imported_exit_pages (
    site LowCardinality(String),
    import_id UInt64,
    date Date,
    exit_page String,
    visitors UInt64,
    visit_duration UInt64,
    exits UInt64,
    bounces UInt64,
    pageviews UInt64
) ENGINE = MergeTree
PARTITION BY import_id
ORDER BY (site, date, exit_page);

CREATE TABLE IF NOT EXISTS imported_custom_events (
    site LowCardinality(String),
    import_id UInt64,
    date Date,
    name String,
    link_url String,
    path String,
    visitors UInt64,
    events UInt64
) ENGINE = MergeTree
PARTITION BY import_id
ORDER BY (site, date, name);

CREATE TABLE IF NOT EXISTS imported_locations (
    site LowCardinality(String),
    import_id UInt64,
    date Date,
    country String,
    region String,
    city UInt64,
    visitors UInt64,
    visits UInt64,
    visit_duration UInt64,
    bounces UInt64,
    pageviews UInt64
) ENGINE = MergeTree
PARTITION BY import_id
ORDER BY (site, date, country);

CREATE TABLE IF NOT EXISTS imported_devices (
    site LowCardinality(String),
    import_id UInt64,
    date Date,
    device String,
    visitors UInt64,
    visits UInt64,
    visit_duration UInt64,
    bounces UInt64,
    pageviews UInt64
) ENGINE = MergeTree
PARTITION BY import_id
ORDER BY (site, date, device);

CREATE TABLE IF NOT EXISTS imported_browsers (
    site LowCardinality(String),
    import_id UInt64,
    date Date,
    browser String,
    browser_version String,
    visitors UInt64,
    visits UInt64,
    visit_duration UInt64,
    bounces UInt64,
    pageviews UInt64
) ENGINE = MergeTree
PARTITION BY import_id
ORDER BY (site, date, browser);

CREATE TABLE IF NOT EXISTS imported_operating_systems (
    site LowCardinality(String),
    import_id UInt64,
    date Date,
    operating_system String,
    operating_system_version String,
    visitors UInt64,
    visits UInt64,
    visit_duration UInt64,
    bounces UInt64,
    pageviews UInt64
) ENGINE = MergeTree
PARTITION BY import_id
ORDER BY (site, date, operating_system);
