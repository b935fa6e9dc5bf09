"""End-to-end numbers on both engines: known IPs and user agents in, exact statistics out."""

from harness import CHROME_WINDOWS, GOOGLEBOT, SAFARI_IPHONE, Harness

SITE = "scenario.test"
DAY = ["2026-11-20", "2026-11-20"]


def _post_scenario(harness: Harness) -> None:
    """Eleven requests: six stored pageviews from four visitors, one engagement, bots and strangers dropped."""
    harness.add_site(SITE)
    # Visitor A: two addresses in the same /24, same browser → one visitor, two pageviews.
    assert harness.pageview(SITE, "/", ip="195.159.103.82", referrer="https://www.google.com/").status_code == 202
    assert harness.pageview(SITE, "/pricing", ip="195.159.103.17", referrer=f"https://{SITE}/").status_code == 202
    # Visitor B: same browser, a different /24 → a second visitor.
    assert harness.pageview(SITE, "/", ip="195.159.104.82").status_code == 202
    # Visitor C: an iPhone from Germany, arriving from Facebook.
    assert (
        harness.pageview(
            SITE, "/blog/a", ip="85.214.132.117", user_agent=SAFARI_IPHONE, referrer="https://facebook.com/some/post"
        ).status_code
        == 202
    )
    # Visitor D: Chrome on Windows from the US, two pages, one with a campaign.
    assert harness.pageview(SITE, "/", ip="8.8.8.8", user_agent=CHROME_WINDOWS).status_code == 202
    assert (
        harness.pageview(
            SITE, "/pricing?utm_source=newsletter&utm_campaign=winter", ip="8.8.8.8", user_agent=CHROME_WINDOWS
        ).status_code
        == 202
    )
    # Engagement of visitor A: stored, but neither a pageview nor an event.
    engagement = {"n": "engagement", "u": f"https://{SITE}/", "d": SITE, "sd": 80, "e": 4200}
    assert harness.post_event(engagement, ip="195.159.103.82").status_code == 202
    # Dropped: a bot, an unknown site, a prefetch.
    bot = harness.pageview(SITE, "/", ip="66.249.66.1", user_agent=GOOGLEBOT)
    assert bot.status_code == 202 and bot.headers["X-Teller-Dropped"] == "bot"
    stranger = harness.pageview("unknown.test", "/", ip="195.159.103.82")
    assert stranger.headers["X-Teller-Dropped"] == "unknown_site"
    prefetch = harness.post_event(
        {"n": "pageview", "u": f"https://{SITE}/", "d": SITE}, ip="1.2.3.4", **{"Sec-Purpose": "prefetch"}
    )
    assert prefetch.headers["X-Teller-Dropped"] == "prefetch"
    harness.flush()


def test_totals(harness: Harness) -> None:
    _post_scenario(harness)
    rows = harness.results({"site_id": SITE, "metrics": ["visitors", "pageviews", "events"], "date_range": DAY})
    assert rows == [(4, 6, 6)]


def test_breakdowns_from_rollups(harness: Harness) -> None:
    _post_scenario(harness)

    def breakdown(dimension: str) -> list[tuple]:
        return harness.results(
            {"site_id": SITE, "metrics": ["visitors", "pageviews"], "date_range": DAY, "dimensions": [dimension]}
        )

    assert breakdown("event:page") == [("/", 3, 3), ("/pricing", 2, 2), ("/blog/a", 1, 1)]
    # Each visit counts under its entry's source: D's second page (with utm_source) stays in D's direct visit.
    assert breakdown("visit:source") == [("Direct / None", 2, 3), ("Facebook", 1, 1), ("Google", 1, 2)]
    assert breakdown("visit:browser") == [("Firefox", 2, 3), ("Chrome", 1, 2), ("Safari", 1, 1)]
    assert breakdown("visit:os") == [("GNU/Linux", 2, 3), ("Windows", 1, 2), ("iOS", 1, 1)]
    assert breakdown("visit:device") == [("Desktop", 3, 5), ("Mobile", 1, 1)]
    assert breakdown("visit:country") == [("NO", 2, 3), ("DE", 1, 1), ("US", 1, 2)]
    assert breakdown("visit:utm_campaign") == [("(not set)", 4, 6)]


def test_rollups_and_raw_events_agree(harness: Harness) -> None:
    _post_scenario(harness)
    for dimension in ("event:page", "visit:source", "visit:browser", "visit:country", "visit:device"):
        query = {"site_id": SITE, "metrics": ["visitors", "pageviews"], "date_range": DAY, "dimensions": [dimension]}
        from_rollup = harness.query(query).json()
        # A filter that matches everything forces the raw-events path.
        raw_query = {**query, "filters": [["is_not", "event:page", ["/nowhere"]]]}
        from_events = harness.query(raw_query).json()
        assert from_rollup["meta"]["source"] == "rollup"
        assert from_events["meta"]["source"] == "events"
        assert from_rollup["results"] == from_events["results"]


def test_filters_and_time_buckets(harness: Harness) -> None:
    _post_scenario(harness)
    norway = harness.results(
        {
            "site_id": SITE,
            "metrics": ["visitors", "pageviews"],
            "date_range": DAY,
            "dimensions": ["event:page"],
            "filters": [["is", "visit:country", ["NO"]]],
        }
    )
    assert norway == [("/", 2, 2), ("/pricing", 1, 1)]
    blog = harness.results(
        {
            "site_id": SITE,
            "metrics": ["pageviews"],
            "date_range": DAY,
            "filters": [["contains", "event:page", ["BLOG"], {"case_sensitive": False}]],
        }
    )
    assert blog == [(1,)]
    hours = harness.results(
        {"site_id": SITE, "metrics": ["visitors", "pageviews"], "date_range": DAY, "dimensions": ["time:hour"]}
    )
    assert hours == [("2026-11-20 12:00:00", 4, 6)]
    days = harness.results(
        {
            "site_id": SITE,
            "metrics": ["pageviews"],
            "date_range": ["2026-11-19", "2026-11-21"],
            "dimensions": ["time:day"],
        }
    )
    assert days == [("2026-11-20", 6)]


def test_site_time_zone_moves_day_boundaries(harness: Harness) -> None:
    harness.add_site("late.test", "Pacific/Auckland")  # UTC+13 in November
    harness.now -= 11.5 * 3600  # 2026-11-20 00:30 UTC = 2026-11-20 13:30 in Auckland
    harness.pageview("late.test", "/")
    harness.now += 11 * 3600 + 1800  # 2026-11-20 12:00 UTC = 2026-11-21 01:00 in Auckland
    harness.pageview("late.test", "/")
    harness.flush()
    days = harness.results(
        {
            "site_id": "late.test",
            "metrics": ["pageviews"],
            "date_range": ["2026-11-19", "2026-11-22"],
            "dimensions": ["time:day"],
        }
    )
    assert days == [("2026-11-20", 1), ("2026-11-21", 1)]
    hours = harness.results(
        {
            "site_id": "late.test",
            "metrics": ["pageviews"],
            "date_range": ["2026-11-21", "2026-11-21"],
            "dimensions": ["time:hour"],
        }
    )
    assert hours == [("2026-11-21 01:00:00", 1)]
