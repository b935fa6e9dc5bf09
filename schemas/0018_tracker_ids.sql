-- Server access log lines already imported, and the ids other trackers give a site.

-- Lines of server access logs already imported (teller import-logs): one 64-bit fingerprint per stored
-- line, per site and UTC day, so re-importing a file or an overlapping rotated one adds nothing. The
-- fingerprint hashes the line's time, request, status, size, referrer, user agent and its occurrence
-- number among identical lines of the same second; the client address is not part of it.
CREATE TABLE IF NOT EXISTS log_lines (
    site LowCardinality(String),
    day Date,
    fingerprint UInt64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (site, day, fingerprint);

-- The ids other trackers call a site by: Umami's website id (a UUID), Matomo's idsite (a number). A
-- site keeps Umami's and Matomo's trackers unchanged and Teller maps their ids to it; the newest
-- version of a (kind, tracker_id) row wins, site '' removes the mapping.
CREATE TABLE IF NOT EXISTS tracker_ids (
    kind LowCardinality(String),
    tracker_id String,
    site String,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (kind, tracker_id);
