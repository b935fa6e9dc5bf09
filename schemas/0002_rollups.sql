-- Hourly rollups per site, fed by materialized views. Unique visitors are kept as mergeable
-- uniqCombined states so any range of hours can be combined exactly as ClickHouse merges them.
CREATE TABLE IF NOT EXISTS site_hourly (
    site LowCardinality(String),
    hour DateTime,
    visitors AggregateFunction(uniqCombined, UInt64),
    pageviews AggregateFunction(sum, UInt64),
    events AggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (site, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS site_hourly_mv TO site_hourly AS
SELECT
    site,
    toStartOfHour(ts) AS hour,
    uniqCombinedState(visitor_id) AS visitors,
    sumState(toUInt64(name = 'pageview')) AS pageviews,
    sumState(toUInt64(name != 'engagement')) AS events
FROM events
WHERE name != 'engagement'
GROUP BY site, hour;

-- One table for every single-dimension breakdown: (dimension, value) per site and hour.
CREATE TABLE IF NOT EXISTS dimension_hourly (
    site LowCardinality(String),
    dimension String,
    hour DateTime,
    value String,
    visitors AggregateFunction(uniqCombined, UInt64),
    pageviews AggregateFunction(sum, UInt64),
    events AggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (site, dimension, hour, value);

CREATE MATERIALIZED VIEW IF NOT EXISTS dimension_hourly_mv TO dimension_hourly AS
SELECT
    site,
    tupleElement(pair, 1) AS dimension,
    toStartOfHour(ts) AS hour,
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
GROUP BY site, dimension, hour, value;
