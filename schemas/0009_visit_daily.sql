-- Daily visit rollup (UTC days by visit start), recounted by the visit job with visit_hourly: each row
-- is a complete recount of the day's closed visits, and the one with the most visits is the newest.
-- A 12-month view of entry pages merged ~1.2M hourly rows (~175 ms on chdb for 10M events a year);
-- whole days of a period are read from here, the remaining hours from visit_hourly.
CREATE TABLE IF NOT EXISTS visit_daily (
    site LowCardinality(String),
    dimension String,
    day Date,
    value String,
    visits UInt64,
    bounces UInt64,
    pageviews UInt64,
    duration_ms UInt64
) ENGINE = ReplacingMergeTree(visits)
PARTITION BY toYYYYMM(day)
ORDER BY (site, dimension, day, value)
SETTINGS index_granularity = 256;

-- Existing days, once, from the newest recount of each hour.
INSERT INTO visit_daily (site, dimension, day, value, visits, bounces, pageviews, duration_ms)
SELECT site, dimension, toDate(hour, 'UTC') AS day, value, sum(v), sum(b), sum(p), sum(d)
FROM (
    SELECT site, dimension, hour, value, max(visits) AS v, argMax(bounces, visits) AS b,
        argMax(pageviews, visits) AS p, argMax(duration_ms, visits) AS d
    FROM visit_hourly
    GROUP BY site, dimension, hour, value
)
GROUP BY site, dimension, day, value;
