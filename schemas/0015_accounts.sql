-- Accounts and the first run: per-site access and two-factor login on users, invitations, the one-time
-- setup token, dashboard options, and the recent ingest drops that the installation check reads.

-- site_access: '*' for every site, else the comma-separated domains a viewer was given.
-- totp_secret: base32 TOTP secret, '' while two-factor login is off; recovery_hashes: comma-separated
-- SHA-256 of the unused recovery codes (the codes themselves are shown once).
ALTER TABLE users ADD COLUMN site_access String DEFAULT '*';
ALTER TABLE users ADD COLUMN totp_secret String DEFAULT '';
ALTER TABLE users ADD COLUMN recovery_hashes String DEFAULT '';

-- Invitations: only a SHA-256 of the link's token is stored; used or expired links open nothing.
CREATE TABLE IF NOT EXISTS invitations (
    token_hash String,
    email String,
    role LowCardinality(String),
    site_access String,
    created_by String,
    created_at DateTime,
    expires_at DateTime,
    used UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY token_hash;

-- The setup token `teller serve` prints when no user exists: only its SHA-256 is stored.
CREATE TABLE IF NOT EXISTS setup_tokens (
    token_hash String,
    created_at DateTime
) ENGINE = MergeTree
ORDER BY (token_hash, created_at);

-- Dashboard-wide switches (first run done, two-factor login required), newest version wins.
CREATE TABLE IF NOT EXISTS dashboard_options (
    name String,
    value String,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY name;

-- Ingest drops for the installation check: the site an event named, why it was dropped, and when
-- (at most one row per site and reason and ten seconds per process); nothing about the visitor.
CREATE TABLE IF NOT EXISTS ingest_drops (
    site String,
    reason LowCardinality(String),
    ts DateTime
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (site, ts);
