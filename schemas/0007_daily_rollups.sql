-- Daily rollups (UTC days), fed from events by materialized views like the hourly ones (a view on the
-- hourly tables would not fire on ClickHouse 18.16, where inserts made by a view trigger no further
-- views), so a long period merges one visitor-hash state per day instead of 24. Measured on 10M events in 30 days (chdb, 2 cores): the
-- top-pages panel of a 30-day view took ~400 ms from the hourly rollup, see docs/dashboard.md for after.
-- Readers use a day only when it lies wholly inside the queried period (and inside one time bucket);
-- the edges come from the hourly rollups.
CREATE TABLE IF NOT EXISTS site_daily (
    site LowCardinality(String),
    day Date,
    visitors AggregateFunction(uniqCombined, UInt64),
    pageviews AggregateFunction(sum, UInt64),
    events AggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (site, day)
SETTINGS index_granularity = 256;

CREATE MATERIALIZED VIEW IF NOT EXISTS site_daily_mv TO site_daily AS
SELECT
    site,
    toDate(ts, 'UTC') AS day,
    uniqCombinedState(visitor_id) AS visitors,
    sumState(toUInt64(name = 'pageview')) AS pageviews,
    sumState(toUInt64(name != 'engagement')) AS events
FROM events
WHERE name != 'engagement'
GROUP BY site, day;

CREATE TABLE IF NOT EXISTS dimension_daily (
    site LowCardinality(String),
    dimension String,
    day Date,
    value String,
    visitors AggregateFunction(uniqCombined, UInt64),
    pageviews AggregateFunction(sum, UInt64),
    events AggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (site, dimension, day, value)
SETTINGS index_granularity = 256;

CREATE MATERIALIZED VIEW IF NOT EXISTS dimension_daily_mv TO dimension_daily AS
SELECT
    site,
    tupleElement(pair, 1) AS dimension,
    toDate(ts, 'UTC') AS day,
    tupleElement(pair, 2) AS value,
    uniqCombinedState(visitor_id) AS visitors,
    sumState(toUInt64(name = 'pageview')) AS pageviews,
    sumState(toUInt64(1)) AS events
FROM events
ARRAY JOIN [
    ('event:page', pathname),
    ('visit:source', toString(source)),
    ('visit:referrer', referrer_host),
    ('visit:browser', toString(browser)),
    ('visit:os', toString(os)),
    ('visit:device', toString(device)),
    ('visit:country', toString(country)),
    ('visit:utm_source', utm_source),
    ('visit:utm_medium', utm_medium),
    ('visit:utm_campaign', utm_campaign)
] AS pair
WHERE name != 'engagement'
GROUP BY site, dimension, day, value;

-- Existing hours, once, from the hourly rollups (they reach back further than raw events). Events
-- inserted between the views' creation and these statements are counted twice in pageviews and events
-- (visitor states merge idempotently); that window is the migration's few milliseconds, before
-- `teller serve` accepts events.
INSERT INTO site_daily
SELECT site, toDate(hour, 'UTC') AS day, uniqCombinedMergeState(visitors), sumMergeState(pageviews),
    sumMergeState(events)
FROM site_hourly
GROUP BY site, day;

INSERT INTO dimension_daily
SELECT site, dimension, toDate(hour, 'UTC') AS day, value, uniqCombinedMergeState(visitors),
    sumMergeState(pageviews), sumMergeState(events)
FROM dimension_hourly
GROUP BY site, dimension, day, value;
