-- The TOTP time steps (30-second windows) already spent on a login, one row per attempt to spend one:
-- a code works once, and a code older than the last one used not at all (storage/two_factor.py).
-- claimant is random per attempt; a row is only useful while its code could still be accepted (about a
-- minute), so retention drops whole days of them after two days.
CREATE TABLE IF NOT EXISTS totp_used_steps (
    email String,
    step UInt64,
    claimant String,
    used_at DateTime
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(used_at)
ORDER BY (email, step);
