-- Site-search terms, aggregated: per site, local day and normalised, scrubbed term only. There is
-- deliberately no visitor id, visit id, time of day, IP, user agent or URL column; rows with the
-- same key are summed when parts merge, so queries must still sum().
CREATE TABLE IF NOT EXISTS search_terms (
    site LowCardinality(String),
    day Date,
    term String,
    searches UInt64,
    zero_result_searches UInt64
) ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (site, day, term);

-- Query parameter names that carry a site's search terms: comma-separated, '' = the defaults,
-- '-' = no capture from URLs.
ALTER TABLE sites ADD COLUMN search_params String DEFAULT '';
