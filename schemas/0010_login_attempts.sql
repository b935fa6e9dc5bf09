-- Login attempts, for throttling in every Teller process: an attempt is written ('reserved') before its
-- password is checked, then counted; a 'refused' row (throttled, the password never checked) or a
-- 'succeeded' row names the same attempt, so only failed and pending attempts count. key is a keyed
-- hash of the account and the client's network prefix, or of the prefix alone; seq (nanoseconds) orders
-- attempts, so a success can reset its key. One partition per day, so old days are dropped whole.
CREATE TABLE IF NOT EXISTS login_attempts (
    key String,
    ts DateTime,
    seq UInt64,
    attempt UInt64,
    outcome LowCardinality(String)
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (key, ts);

-- Replaced by login_attempts: failures recorded after the password check could not hold a limit
-- under concurrent attempts.
DROP TABLE IF EXISTS login_failures;

-- The users row version a session was issued for: a password, role or removal writes a new version,
-- and the session ends. Sessions from before this migration have 0 and end too.
ALTER TABLE dashboard_sessions ADD COLUMN user_version UInt64;
