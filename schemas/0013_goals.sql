-- Goals and funnels, per site, versioned like sites and share_links (readers take the newest version of
-- each id). A goal is a definition only: conversions are computed from events when a query runs, so a
-- goal added today counts last month's events too.

-- kind: 'pageview' (pattern on the path, * and ** wildcards), 'event' (event_name, optionally the custom
-- property prop_key equal to prop_value) or 'scroll' (pattern reached with scroll_depth >= depth %).
CREATE TABLE IF NOT EXISTS goals (
    goal_id String,
    site String,
    kind LowCardinality(String),
    display_name String,
    pattern String,
    event_name String,
    prop_key String,
    prop_value String,
    depth UInt8,
    created_at DateTime,
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY goal_id;

-- A funnel: 2 to 8 goals (by display name) in order.
CREATE TABLE IF NOT EXISTS funnels (
    funnel_id String,
    site String,
    name String,
    steps Array(String),
    created_at DateTime,
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY funnel_id;
