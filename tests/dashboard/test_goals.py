"""Goals on both engines: every kind, as a dimension and a filter, with conversion rates.

Cases follow Plausible's external stats API tests (plausible/analytics,
test/plausible_web/controllers/api/external_stats_controller/query_special_metrics_test.exs: "returns
conversion_rate in a goal filtered custom prop breakdown", "... event:page breakdown", "... multi-goal
filtered visit:screen_size breakdown"; and query_test.exs / breakdown tests with `calculates
conversion_rate when filtering for goal`): conversion_rate divides by every visitor of the period,
group_conversion_rate by the visitors of the row's group, both counted without the goal filter.
"""

import pytest
from harness import CHROME_WINDOWS, SAFARI_IPHONE, Harness

from storage.goals import GoalError, add_goal, list_goals, make_goal, pattern_regex, remove_goal

SITE = "goals.test"
DAY = ["2026-11-20", "2026-11-20"]
IPS = ["8.8.8.1", "8.8.9.2", "8.8.10.3", "8.8.11.4", "8.8.12.5", "8.8.13.6", "8.8.14.7", "8.8.15.8", "8.8.16.9"]


def _goal(harness: Harness, kind: str, **fields: object) -> str:
    return add_goal(harness.store, make_goal(SITE, kind, **fields)).display_name


def _event(harness: Harness, name: str, path: str, ip: str, props: dict | None = None, **extra: object) -> None:
    body = {"n": name, "u": f"https://{SITE}{path}", "d": SITE, **extra}
    if props:
        body["p"] = props
    response = harness.post_event(body, ip=ip)
    assert response.status_code == 202, response.text


def _query(harness: Harness, metrics: list[str], dimensions: list[str], filters: list | None = None) -> list[tuple]:
    body = {"site_id": SITE, "metrics": metrics, "date_range": DAY, "dimensions": dimensions}
    if filters:
        body["filters"] = filters
    return harness.results(body)


def _authors(harness: Harness) -> None:
    """Plausible's custom prop breakdown case: 8 visitors, 6 read the blog, under two authors."""
    harness.add_site(SITE)
    for path, author, ip in [
        ("/blog/1", "Uku", IPS[0]),
        ("/blog/2", "Uku", IPS[1]),
        ("/blog/3", "Uku", IPS[2]),
        ("/blog/1", "Marko", IPS[3]),
        ("/blog/2", "Marko", IPS[4]),
        ("/blog/3", "Marko", IPS[4]),
        ("/blog", None, IPS[5]),
        ("/", "Marko", IPS[6]),
        ("/", None, IPS[7]),
    ]:
        _event(harness, "pageview", path, ip, {"author": author} if author else None)
    harness.flush()


def test_pattern_wildcards() -> None:
    import re

    def matches(pattern: str, path: str) -> bool:
        return re.search(pattern_regex(pattern).replace("\\x{", "\\x").replace("}", ""), path) is not None

    assert matches("/blog**", "/blog") and matches("/blog**", "/blog/a/b")
    assert matches("/blog/*", "/blog/a") and not matches("/blog/*", "/blog/a/b")
    assert matches("/blog/**", "/blog/a/b") and not matches("/blog/**", "/blogs")
    assert not matches("/a.b", "/aXb") and matches("/a.b", "/a.b")


def test_goal_definitions_are_validated(store) -> None:
    with pytest.raises(GoalError, match="pattern must start with /"):
        make_goal(SITE, "pageview", pattern="blog")
    with pytest.raises(GoalError, match="depth"):
        make_goal(SITE, "scroll", pattern="/a", depth=101)
    with pytest.raises(GoalError, match="go together"):
        make_goal(SITE, "event", event_name="Signup", prop_key="plan")
    with pytest.raises(GoalError, match="kind"):
        make_goal(SITE, "revenue")
    goal = add_goal(store, make_goal(SITE, "event", event_name="Signup", prop_key="plan", prop_value="pro"))
    assert goal.display_name == "Signup (plan=pro)"
    with pytest.raises(GoalError, match="already has"):
        add_goal(store, make_goal(SITE, "event", event_name="Signup", prop_key="plan", prop_value="pro"))
    assert [g.display_name for g in list_goals(store, SITE)] == ["Signup (plan=pro)"]
    assert remove_goal(store, SITE, "Signup (plan=pro)") and list_goals(store, SITE) == []
    assert not remove_goal(store, SITE, "Signup (plan=pro)")


def test_pageview_goal_conversion_rate_in_a_property_breakdown(harness: Harness) -> None:
    _authors(harness)
    goal = _goal(harness, "pageview", pattern="/blog**")
    assert goal == "Visit /blog**"
    filters = [["is", "event:goal", [goal]]]
    rows = _query(harness, ["visitors", "events", "conversion_rate"], ["event:props:author"], filters)
    assert rows == [("Uku", 3, 3, 37.5), ("Marko", 2, 3, 25.0), ("(not set)", 1, 1, 12.5)]
    assert _query(harness, ["conversion_rate"], ["event:props:author"], filters)[0] == ("Uku", 37.5)


def test_goal_breakdown_counts_history_and_every_kind(harness: Harness) -> None:
    harness.add_site(SITE)
    _event(harness, "pageview", "/pricing", IPS[0])
    _event(harness, "Signup", "/pricing", IPS[0], {"plan": "pro"})
    _event(harness, "pageview", "/pricing", IPS[1])
    _event(harness, "Signup", "/pricing", IPS[1], {"plan": "free"})
    _event(harness, "Signup", "/pricing", IPS[1], {"plan": "free"})
    _event(harness, "pageview", "/docs/a/b", IPS[2])
    _event(harness, "engagement", "/docs/a/b", IPS[2], e=4000, sd=80)
    _event(harness, "pageview", "/docs/c", IPS[3])
    _event(harness, "engagement", "/docs/c", IPS[3], e=4000, sd=30)
    harness.flush()
    # Goals made after the events still count them.
    _goal(harness, "event", event_name="Signup")
    _goal(harness, "event", event_name="Signup", prop_key="plan", prop_value="pro", display_name="Pro signup")
    _goal(harness, "scroll", pattern="/docs/**", depth=75)
    _goal(harness, "pageview", pattern="/docs/*")
    rows = _query(harness, ["visitors", "events", "conversion_rate", "group_conversion_rate"], ["event:goal"])
    assert sorted(rows) == [
        ("Pro signup", 1, 1, 25.0, 25.0),
        ("Scroll 75% on /docs/**", 1, 1, 25.0, 25.0),
        ("Signup", 2, 3, 50.0, 50.0),
        ("Visit /docs/*", 1, 1, 25.0, 25.0),
    ]
    # As a filter: the visitors who converted, and their events of the goal.
    assert _query(harness, ["visitors", "events"], [], [["is", "event:goal", ["Signup"]]]) == [(2, 3)]
    scrolled = [["is", "event:goal", ["Scroll 75% on /docs/**"]]]
    assert _query(harness, ["visitors", "conversion_rate"], [], scrolled) == [(1, 25.0)]
    either = [["contains", "event:goal", ["signup"], {"case_sensitive": False}]]
    assert _query(harness, ["visitors"], [], either) == [(2,)]
    assert _query(harness, ["visitors"], [], [["is", "event:goal", ["No such goal"]]]) == [(0,)]


def test_group_conversion_rate_by_page_and_device(harness: Harness) -> None:
    harness.add_site(SITE)
    _event(harness, "pageview", "/en/register", IPS[0])
    _event(harness, "Signup", "/en/register", IPS[1])
    _event(harness, "Signup", "/en/register", IPS[2])
    _event(harness, "Signup", "/it/register", IPS[3])
    _event(harness, "Signup", "/it/register", IPS[3])
    _event(harness, "pageview", "/it/register", IPS[4])
    harness.flush()
    _goal(harness, "event", event_name="Signup")
    filters = [["is", "event:goal", ["Signup"]]]
    rows = _query(harness, ["visitors", "events", "group_conversion_rate"], ["event:page"], filters)
    assert rows == [("/en/register", 2, 2, 66.67), ("/it/register", 1, 2, 50.0)]
    # A visit dimension with a goal filter (sessionised events): Plausible's screen size case.
    harness.post_event({"n": "pageview", "u": f"https://{SITE}/", "d": SITE}, ip=IPS[5], user_agent=SAFARI_IPHONE)
    harness.post_event({"n": "Signup", "u": f"https://{SITE}/", "d": SITE}, ip=IPS[5], user_agent=SAFARI_IPHONE)
    harness.post_event({"n": "pageview", "u": f"https://{SITE}/", "d": SITE}, ip=IPS[6], user_agent=CHROME_WINDOWS)
    harness.flush()
    rows = _query(harness, ["visitors", "group_conversion_rate"], ["visit:device"], filters)
    assert sorted(rows) == [("Desktop", 3, 50.0), ("Mobile", 1, 100.0)]


def test_goal_validation_errors(harness: Harness) -> None:
    harness.add_site(SITE)
    body = {"site_id": SITE, "metrics": ["conversion_rate"], "date_range": DAY}
    response = harness.query(body)
    assert response.status_code == 400 and "goal" in response.json()["error"]
    # Visitors who did not convert convert nothing: no conversion rate under an is_not goal filter alone.
    response = harness.query({**body, "filters": [["is_not", "event:goal", ["x"]]]})
    assert response.status_code == 400 and "goal" in response.json()["error"]
    response = harness.query({**body, "metrics": ["visitors"], "filters": [["matches", "event:goal", ["x"]]]})
    assert response.status_code == 400
    assert "event:goal takes is, is_not, contains, contains_not" in response.json()["error"]


def test_goal_is_not_keeps_the_visitors_who_never_converted(harness: Harness) -> None:
    """is_not and contains_not on event:goal are Plausible's dashboard "is not" (has_not_done): every event
    of the visitors who completed none of the named goals in the period."""
    harness.add_site(SITE)
    _event(harness, "pageview", "/pricing", IPS[0])
    _event(harness, "Signup", "/pricing", IPS[0], {"plan": "pro"})
    _event(harness, "pageview", "/", IPS[1])
    _event(harness, "pageview", "/pricing", IPS[1])
    for name in ("pageview", "Download"):
        harness.post_event({"n": name, "u": f"https://{SITE}/docs", "d": SITE}, ip=IPS[2], user_agent=SAFARI_IPHONE)
    _event(harness, "pageview", "/docs", IPS[3])
    harness.flush()
    _goal(harness, "event", event_name="Signup")
    _goal(harness, "event", event_name="Download")
    _goal(harness, "pageview", pattern="/pricing")
    never_signed_up = [["is_not", "event:goal", ["Signup"]]]
    assert _query(harness, ["visitors", "pageviews", "events"], [], never_signed_up) == [(3, 4, 5)]
    assert _query(harness, ["visits", "bounce_rate"], [], never_signed_up) == [(3, 33)]
    assert sorted(_query(harness, ["visitors"], ["visit:device"], never_signed_up)) == [("Desktop", 2), ("Mobile", 1)]
    assert sorted(_query(harness, ["visitors"], ["event:page"], never_signed_up)) == [
        ("/", 1),
        ("/docs", 2),
        ("/pricing", 1),
    ]
    # Several values: none of them; contains_not by part of the name, also without case.
    neither = [["is_not", "event:goal", ["Signup", "Download"]]]
    assert _query(harness, ["visitors"], [], neither) == [(2,)]
    no_sign = [["contains_not", "event:goal", ["SIGN"], {"case_sensitive": False}]]
    assert _query(harness, ["visitors"], [], no_sign) == [(3,)]
    assert _query(harness, ["visitors"], [], [["contains_not", "event:goal", ["SIGN"]]]) == [(4,)]
    assert _query(harness, ["visitors"], [], [["is_not", "event:goal", ["No such goal"]]]) == [(4,)]
    # With a converting filter: who visited /pricing among those who never signed up, and its rate.
    pricing = [*never_signed_up, ["is", "event:goal", ["Visit /pricing"]]]
    assert _query(harness, ["visitors", "conversion_rate"], [], pricing) == [(1, 33.33)]
    rows = _query(harness, ["visitors", "conversion_rate"], ["event:goal"], never_signed_up)
    assert sorted(rows) == [("Download", 1, 33.33), ("Visit /pricing", 1, 33.33)]


def test_goal_and_funnel_endpoints(harness: Harness) -> None:
    harness.add_site(SITE)
    client = harness.client("127.0.0.1")
    auth = {"Authorization": f"Bearer {harness.api_key}"}
    base = f"/api/v1/sites/{SITE}"
    assert client.get(f"{base}/goals").status_code == 401
    assert client.get("/api/v1/sites/nosuch.example/goals", headers=auth).status_code == 404
    made = client.post(f"{base}/goals", json={"kind": "pageview", "pattern": "/pricing"}, headers=auth)
    assert made.status_code == 201 and made.json()["display_name"] == "Visit /pricing"
    signup = {"kind": "event", "event_name": "Signup", "prop_key": "plan", "prop_value": "pro"}
    assert client.post(f"{base}/goals", json=signup, headers=auth).status_code == 201
    for bad, status in [
        ({"kind": "scroll", "pattern": "/x", "depth": "lots"}, 422),
        ({"kind": "pageview", "pattern": ["/x"]}, 422),
        ({"kind": "pageview", "pattern": "/x", "colour": "red"}, 422),
        ([1, 2], 400),
    ]:
        answer = client.post(f"{base}/goals", json=bad, headers=auth)
        assert answer.status_code == status and answer.json()["error"], answer.text
    big = client.post(f"{base}/goals", content=b"{" + b" " * 20_000 + b"}", headers=auth)
    assert big.status_code == 413
    names = [g["display_name"] for g in client.get(f"{base}/goals", headers=auth).json()["goals"]]
    assert names == ["Visit /pricing", "Signup (plan=pro)"]
    funnel = client.post(f"{base}/funnels", json={"name": "Buy", "steps": names}, headers=auth)
    assert funnel.status_code == 201, funnel.text
    assert client.post(f"{base}/funnels", json={"name": "Bad", "steps": names[:1]}, headers=auth).status_code == 422

    # A second apart: a funnel orders a visitor's events by their time, which has one-second resolution.
    sent = (("pageview", IPS[0], None), ("Signup", IPS[0], {"plan": "pro"}), ("pageview", IPS[1], None))
    for name, ip, props in sent:
        harness.now += 1
        _event(harness, name, "/pricing", ip, props)
    harness.flush()
    body = {"site_id": SITE, "funnel": "Buy", "date_range": DAY}
    numbers = client.post("/api/v2/funnel", json=body, headers=auth)
    assert numbers.status_code == 200, numbers.text
    steps = [(s["goal"], s["visitors"], s["conversion_from_previous"], s["dropoff"]) for s in numbers.json()["steps"]]
    assert steps == [("Visit /pricing", 2, 100.0, 0), ("Signup (plan=pro)", 1, 50.0, 1)]
    assert client.post("/api/v2/funnel", json={**body, "funnel": "Nope"}, headers=auth).status_code == 404
    assert client.post("/api/v2/funnel", json={**body, "date_range": "x"}, headers=auth).status_code == 400
    assert client.delete(f"{base}/funnels/Buy", headers=auth).status_code == 200
    assert client.delete(f"{base}/goals/Visit%20%2Fpricing", headers=auth).status_code == 200
    assert client.delete(f"{base}/goals/Visit%20%2Fpricing", headers=auth).status_code == 404
