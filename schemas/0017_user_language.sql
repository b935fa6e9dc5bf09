-- Per-user and per-link dashboard preferences.

-- The dashboard language each user chose ('en', 'nb'); a user without a row reads the language their
-- browser asks for. Versioned like users: readers take the newest row per e-mail.
CREATE TABLE IF NOT EXISTS user_languages (
    email String,
    language LowCardinality(String),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY email;

-- The origins that may show a share link in an <iframe> (space-separated, e.g. "https://intranet.example"),
-- by the link's token hash; a link without a row may be framed nowhere (frame-ancestors 'none').
CREATE TABLE IF NOT EXISTS share_link_embeds (
    token_hash String,
    origins String,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY token_hash;
