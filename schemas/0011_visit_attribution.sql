-- Visit attribution: every metric of a visit dimension counts the visit's own events under the visit's
-- entry attributes (a visitor from Google who reads three pages is 1 visitor and 3 pageviews under Google).
-- For that a stored visit carries its visitor hash and event count, and the visit rollups carry the
-- visitors (a mergeable uniqCombined state) and events of each (dimension, value).

-- The visitor hash of the visit's first day (0 on visits stored before this migration).
ALTER TABLE visits ADD COLUMN visitor_id UInt64;
-- Pageviews and custom events, interactive or not (engagement events are not events).
ALTER TABLE visits ADD COLUMN events UInt32;
-- Host of the last pageview, the screen width and the referrer URL (no query) of the first event.
ALTER TABLE visits ADD COLUMN exit_hostname LowCardinality(String);
ALTER TABLE visits ADD COLUMN screen_width UInt16;
ALTER TABLE visits ADD COLUMN referrer String;

-- The recounts of visit_hourly and visit_daily are complete rows, so the newest (most visits) carries
-- the visitor state too; readers take argMax(visitors, visits) like the other columns.
ALTER TABLE visit_hourly ADD COLUMN visitors AggregateFunction(uniqCombined, UInt64);
ALTER TABLE visit_hourly ADD COLUMN events UInt64;
ALTER TABLE visit_daily ADD COLUMN visitors AggregateFunction(uniqCombined, UInt64);
ALTER TABLE visit_daily ADD COLUMN events UInt64;

-- The stored visits' hours and days, recounted once with visitors and events. Recounts of equal visits
-- are told apart by events (0 on the rows written before this migration): readers take
-- argMax(..., (visits, events)). Visits stored before this migration have no visitor hash: each counts
-- as its own visitor, and its events are its pageviews and interactive custom events.
INSERT INTO visit_hourly (site, dimension, hour, value, visits, bounces, pageviews, duration_ms, visitors, events)
SELECT site, tupleElement(pair, 1) AS dimension, toStartOfHour(start_ts) AS hour, tupleElement(pair, 2) AS value,
    count() AS visits, sum(bounce) AS bounces, sum(pageviews) AS pageview_sum, sum(duration_ms) AS duration_sum,
    uniqCombinedState(if(visitor_id = 0, visit_id, visitor_id)) AS visitors,
    sum(if(events = 0, pageviews + custom_events, events)) AS event_sum
FROM (
    SELECT site, visit_id, any(start_ts) AS start_ts, any(visitor_id) AS visitor_id, any(bounce) AS bounce,
        any(pageviews) AS pageviews, any(custom_events) AS custom_events, any(events) AS events,
        any(duration_ms) AS duration_ms, any(entry_page) AS entry_page, any(exit_page) AS exit_page,
        any(source) AS source, any(referrer_host) AS referrer_host, any(browser) AS browser, any(os) AS os,
        any(device) AS device, any(country) AS country, any(utm_source) AS utm_source,
        any(utm_medium) AS utm_medium, any(utm_campaign) AS utm_campaign
    FROM visits
    GROUP BY site, visit_id
)
ARRAY JOIN [
    ('', ''),
    ('visit:entry_page', entry_page),
    ('visit:exit_page', exit_page),
    ('visit:source', toString(source)),
    ('visit:referrer', referrer_host),
    ('visit:browser', toString(browser)),
    ('visit:os', toString(os)),
    ('visit:device', toString(device)),
    ('visit:country', toString(country)),
    ('visit:utm_source', utm_source),
    ('visit:utm_medium', utm_medium),
    ('visit:utm_campaign', utm_campaign)
] AS pair
GROUP BY site, dimension, hour, value;

INSERT INTO visit_daily (site, dimension, day, value, visits, bounces, pageviews, duration_ms, visitors, events)
SELECT site, tupleElement(pair, 1) AS dimension, toDate(start_ts, 'UTC') AS day, tupleElement(pair, 2) AS value,
    count() AS visits, sum(bounce) AS bounces, sum(pageviews) AS pageview_sum, sum(duration_ms) AS duration_sum,
    uniqCombinedState(if(visitor_id = 0, visit_id, visitor_id)) AS visitors,
    sum(if(events = 0, pageviews + custom_events, events)) AS event_sum
FROM (
    SELECT site, visit_id, any(start_ts) AS start_ts, any(visitor_id) AS visitor_id, any(bounce) AS bounce,
        any(pageviews) AS pageviews, any(custom_events) AS custom_events, any(events) AS events,
        any(duration_ms) AS duration_ms, any(entry_page) AS entry_page, any(exit_page) AS exit_page,
        any(source) AS source, any(referrer_host) AS referrer_host, any(browser) AS browser, any(os) AS os,
        any(device) AS device, any(country) AS country, any(utm_source) AS utm_source,
        any(utm_medium) AS utm_medium, any(utm_campaign) AS utm_campaign
    FROM visits
    GROUP BY site, visit_id
)
ARRAY JOIN [
    ('', ''),
    ('visit:entry_page', entry_page),
    ('visit:exit_page', exit_page),
    ('visit:source', toString(source)),
    ('visit:referrer', referrer_host),
    ('visit:browser', toString(browser)),
    ('visit:os', toString(os)),
    ('visit:device', toString(device)),
    ('visit:country', toString(country)),
    ('visit:utm_source', utm_source),
    ('visit:utm_medium', utm_medium),
    ('visit:utm_campaign', utm_campaign)
] AS pair
GROUP BY site, dimension, day, value;
