-- Saved segments, e-mail report subscriptions and the claims that make each report go out once.

-- A named set of dashboard filters of one site, visible to the site's users; filters is the JSON list
-- of [operator, filter key, [values]] the dashboard's URL encodes. Versioned like share_links.
CREATE TABLE IF NOT EXISTS segments (
    id String,
    site String,
    name String,
    filters String,
    created_by String,
    created_at DateTime,
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- Who gets which report of a site: kind 'weekly', 'monthly' or 'spike' (an alert when the visitors of
-- the last hour exceed threshold, at most once every every_hours). id is site, kind and address joined.
CREATE TABLE IF NOT EXISTS report_subscriptions (
    id String,
    site String,
    kind LowCardinality(String),
    address String,
    threshold UInt32,
    every_hours UInt16,
    created_by String,
    created_at DateTime,
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- One row per process that wants to send one message (claim_key names site, kind, period and address).
-- claimed_at is the server's clock; the earliest claim wins (ties: the smallest claimant), decided after
-- every claim of the same second is visible (storage/report_claims.py). noted_at is the claiming
-- process's clock, which spaces alerts. One partition a month, dropped by retention after a few months.
CREATE TABLE IF NOT EXISTS report_claims (
    claim_key String,
    claimant String,
    claimed_at DateTime,
    noted_at DateTime
) ENGINE = MergeTree
PARTITION BY toYYYYMM(claimed_at)
ORDER BY claim_key;
