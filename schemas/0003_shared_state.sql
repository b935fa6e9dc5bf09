-- State shared by every collector process: sites, hashed API keys, daily visitor-hash salts.
CREATE TABLE IF NOT EXISTS sites (
    domain String,
    timezone String,
    created_at DateTime,
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY domain;

-- Only a SHA-256 of each key is stored; the key itself is shown once when created.
CREATE TABLE IF NOT EXISTS api_keys (
    key_hash String,
    name String,
    created_at DateTime,
    revoked UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY key_hash;

-- Random salts, one per UTC day; several candidates may race in, the smallest wins everywhere.
-- One partition per day, so deleting a day's salt is an immediate DROP PARTITION.
CREATE TABLE IF NOT EXISTS salts (
    day Date,
    salt String,
    created_at DateTime
) ENGINE = MergeTree
PARTITION BY day
ORDER BY (day, salt);
