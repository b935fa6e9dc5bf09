-- Monthly rollups (UTC months), fed from events like the hourly and daily ones, so a 12-month period
-- merges about a dozen visitor-hash states per value instead of 365 daily ones. Measured on 10M events
-- in a year (chdb, 2 cores): the 12-month dashboard took ~2.1 s from the daily rollups; see
-- docs/dashboard.md for after. Readers use a month only when it lies wholly inside the queried period
-- (and inside one time bucket); the rest comes from the daily and hourly rollups. `day` is the first
-- day of the UTC month.
CREATE TABLE IF NOT EXISTS site_monthly (
    site LowCardinality(String),
    day Date,
    visitors AggregateFunction(uniqCombined, UInt64),
    pageviews AggregateFunction(sum, UInt64),
    events AggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (site, day)
SETTINGS index_granularity = 256;

CREATE MATERIALIZED VIEW IF NOT EXISTS site_monthly_mv TO site_monthly AS
SELECT
    site,
    toStartOfMonth(toDate(ts, 'UTC')) AS day,
    uniqCombinedState(visitor_id) AS visitors,
    sumState(toUInt64(name = 'pageview')) AS pageviews,
    sumState(toUInt64(name != 'engagement')) AS events
FROM events
WHERE name != 'engagement'
GROUP BY site, day;

CREATE TABLE IF NOT EXISTS dimension_monthly (
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

CREATE MATERIALIZED VIEW IF NOT EXISTS dimension_monthly_mv TO dimension_monthly AS
SELECT
    site,
    tupleElement(pair, 1) AS dimension,
    toStartOfMonth(toDate(ts, 'UTC')) AS day,
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
INSERT INTO site_monthly
SELECT site, toStartOfMonth(toDate(hour, 'UTC')) AS day, uniqCombinedMergeState(visitors), sumMergeState(pageviews),
    sumMergeState(events)
FROM site_hourly
GROUP BY site, day;

INSERT INTO dimension_monthly
SELECT site, dimension, toStartOfMonth(toDate(hour, 'UTC')) AS day, value, uniqCombinedMergeState(visitors),
    sumMergeState(pageviews), sumMergeState(events)
FROM dimension_hourly
GROUP BY site, dimension, day, value;
