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
