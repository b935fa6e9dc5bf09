-- Dashboard access, shared by every Teller process through ClickHouse: users, login sessions, share
-- links, failed logins and the dashboard's signing secret. Rows are versioned like sites and api_keys;
-- readers take the newest version of each key.

-- Editors who log in to the dashboard; password_hash is an argon2id hash, role 'admin' or 'viewer'.
CREATE TABLE IF NOT EXISTS users (
    email String,
    password_hash String,
    role LowCardinality(String),
    created_at DateTime,
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY email;

-- Login sessions: only a SHA-256 of the cookie's random id is stored.
CREATE TABLE IF NOT EXISTS dashboard_sessions (
    id_hash String,
    email String,
    created_at DateTime,
    expires_at DateTime,
    revoked UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY id_hash;

-- Read-only links to one site's dashboard: only a SHA-256 of the link's token is stored.
CREATE TABLE IF NOT EXISTS share_links (
    token_hash String,
    site String,
    label String,
    created_by String,
    created_at DateTime,
    revoked UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY token_hash;

-- Failed logins, keyed by a keyed hash of the account or of the client's network prefix; one
-- partition per day, so old days are dropped whole.
CREATE TABLE IF NOT EXISTS login_failures (
    key String,
    ts DateTime
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (key, ts);

-- Random secrets of the dashboard (CSRF tokens, throttle keys); several processes may race to create
-- one, the smallest value wins everywhere.
CREATE TABLE IF NOT EXISTS dashboard_secrets (
    name String,
    value String,
    created_at DateTime
) ENGINE = MergeTree
ORDER BY (name, value);
