-- Progress of dashboard imports, where every serving process reads it: the upload runs in one process
-- and the page's polls may reach another. One row per update; the highest version of a job is its state.
-- Rows are dropped with their day's partition after two days (storage/retention.py).
CREATE TABLE IF NOT EXISTS import_progress (
    site LowCardinality(String),
    job String,
    state LowCardinality(String),
    done UInt64,
    total UInt64,
    row_count UInt64,
    error String,
    status UInt16,
    updated_at DateTime,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMMDD(updated_at)
ORDER BY (site, job);
