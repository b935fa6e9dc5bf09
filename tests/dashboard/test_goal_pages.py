"""The dashboard's goal pages on both engines: admins define goals and funnels, the Goal conversions and
Properties panels agree with the API, a click filters, and the funnel view shows each step."""

import html
import re

from harness import Harness
from web_login import post_form, user_client

from storage.goals import add_funnel, add_goal, make_funnel, make_goal
from storage.share_links import create_share_link

SITE = "pages.test"
DAY = "2026-11-20"


def _events(harness: Harness) -> None:
    for ip, plan in [("8.8.1.1", "pro"), ("8.8.2.2", "free"), ("8.8.3.3", None)]:
        body = {"n": "pageview", "u": f"https://{SITE}/pricing", "d": SITE, "p": {"plan": plan or "none"}}
        assert harness.post_event(body, ip=ip).status_code == 202
        harness.now += 30
        if plan:
            body = {"n": "Signup", "u": f"https://{SITE}/pricing", "d": SITE, "p": {"plan": plan}}
            assert harness.post_event(body, ip=ip).status_code == 202
    harness.flush()


def test_goals_funnels_and_properties_in_the_dashboard(harness: Harness) -> None:
    harness.add_site(SITE)
    _events(harness)
    admin = user_client(harness, "admin@pages.test")
    assert post_form(admin, f"/sites/{SITE}/goals", {"kind": "pageview", "pattern": "/pricing"}).status_code == 303
    assert post_form(admin, f"/sites/{SITE}/goals", {"kind": "event", "event_name": "Signup"}).status_code == 303
    bad = post_form(admin, f"/sites/{SITE}/goals", {"kind": "scroll", "pattern": "/x", "depth": "300"})
    assert bad.status_code == 400 and "depth must be" in bad.text
    steps = {"name": "Pricing to signup", "step": ["Visit /pricing", "Signup"]}
    assert post_form(admin, f"/sites/{SITE}/funnels/add", steps).status_code == 303
    page = admin.get(f"/sites/{SITE}/goals").text
    assert 'data-goal="Visit /pricing"' in page and "Visit /pricing → Signup" in page

    viewer = user_client(harness, "viewer@pages.test", role="viewer")
    assert viewer.get(f"/sites/{SITE}/goals").status_code == 403
    dashboard = viewer.get(f"/sites/{SITE}?period=custom&from={DAY}&to={DAY}").text
    goals = dashboard[dashboard.index('id="panel-goals"') :]
    goals = goals[: goals.index("</section>")]
    rows = re.findall(r'<a href="([^"]+)" title="Filter by this">([^<]+)</a>', goals)
    assert [label for _, label in rows] == ["Visit /pricing", "Signup"]
    cells = re.findall(r'data-metric="(\w+)" data-value="([^"]+)"', goals)
    assert cells == [("visitors", "3"), ("events", "3"), ("conversion_rate", "100.0")] + [
        ("visitors", "2"),
        ("events", "2"),
        ("conversion_rate", "66.67"),
    ]
    # A click on Signup filters the dashboard by the goal; the Properties panel then shows conversion rates.
    filtered = viewer.get(rows[1][0].replace("&amp;", "&")).text
    properties = filtered[filtered.index('id="panel-properties"') :]
    assert '<option value="plan" selected>' in properties
    found = re.findall(
        r'<tr data-value="([^"]+)">.*?data-metric="conversion_rate" data-value="([^"]+)"', properties, re.S
    )
    assert sorted(found) == [("free", "33.33"), ("pro", "33.33")]
    by_plan = viewer.get(f"/sites/{SITE}?period=custom&from={DAY}&to={DAY}&prop=plan%3Dpro").text
    assert "Property" in by_plan and re.search(r'id="panel-goals".*?data-value="1"', by_plan, re.S)

    funnel = viewer.get(f"/sites/{SITE}/funnels?period=custom&from={DAY}&to={DAY}").text
    visitors = re.findall(r'data-metric="visitors">(\d+)<', funnel)
    assert visitors == ["3", "2"] and "66.7%" in funnel


def _property_links(page: str) -> dict[str, str]:
    """The Properties panel's rows: value → the link that filters by it."""
    panel = page[page.index('id="panel-properties"') :]
    panel = panel[: panel.index("</section>")]
    rows = re.findall(r'<tr data-value="([^"]+)">.*?<a href="([^"]+)"', panel, re.S)
    return {value: html.unescape(link) for value, link in rows}


def _visitors_kpi(page: str) -> str:
    return re.search(
        r'data-metric="visitors"[^>]*>\s*<span class="kpi-label">[^<]*</span>\s*<span class="kpi-value" '
        r'data-value="([^"]*)"',
        page,
    ).group(1)


def test_several_property_filters_at_once(harness: Harness) -> None:
    """event:props:a AND event:props:b in the API, and two clicked property values in the dashboard."""
    harness.add_site(SITE)
    for ip, props in [
        ("8.8.1.1", {"plan": "pro", "size": "big"}),
        ("8.8.2.2", {"plan": "pro", "size": "small"}),
        ("8.8.3.3", {"plan": "free", "size": "big"}),
        ("8.8.4.4", None),
    ]:
        body = {"n": "pageview", "u": f"https://{SITE}/pricing", "d": SITE, **({"p": props} if props else {})}
        assert harness.post_event(body, ip=ip).status_code == 202
    harness.flush()
    query = {"site_id": SITE, "metrics": ["visitors"], "date_range": [DAY, DAY]}
    pro, big = ["is", "event:props:plan", ["pro"]], ["is", "event:props:size", ["big"]]
    assert harness.results({**query, "filters": [pro, big]}) == [(1,)]
    assert harness.results({**query, "filters": [pro, ["is_not", "event:props:size", ["big"]]]}) == [(1,)]
    assert harness.results({**query, "filters": [["contains", "event:props:plan", ["r"]], big]}) == [(2,)]
    by_size = harness.results({**query, "dimensions": ["event:props:size"], "filters": [pro]})
    assert sorted(by_size) == [("big", 1), ("small", 1)]

    viewer = user_client(harness, "viewer@pages.test", role="viewer")
    base = f"/sites/{SITE}?period=custom&from={DAY}&to={DAY}"
    by_plan = viewer.get(_property_links(viewer.get(f"{base}&prop_key=plan").text)["pro"])
    assert by_plan.status_code == 200 and _visitors_kpi(by_plan.text) == "2"
    # The same view showing the size key: a click on "big" adds to the plan filter.
    sized = viewer.get(str(by_plan.url).replace("prop_key=plan", "prop_key=size")).text
    assert set(_property_links(sized)) == {"big", "small"}
    both = viewer.get(_property_links(sized)["big"]).text
    assert "Property plan is pro" in both and "Property size is big" in both
    assert _visitors_kpi(both) == "1" == str(harness.results({**query, "filters": [pro, big]})[0][0])


def test_goals_and_funnels_through_a_share_link(harness: Harness) -> None:
    harness.add_site(SITE)
    _events(harness)
    for fields in ({"pattern": "/pricing"}, {"event_name": "Signup"}):
        add_goal(harness.store, make_goal(SITE, "pageview" if "pattern" in fields else "event", **fields))
    add_funnel(harness.store, make_funnel(harness.store, SITE, "Pricing to signup", ["Visit /pricing", "Signup"]))
    token = create_share_link(harness.store, SITE, "public", "admin@pages.test")
    anonymous = harness.client()
    page = anonymous.get(f"/share/{token}?period=custom&from={DAY}&to={DAY}")
    assert page.status_code == 200 and "set-cookie" not in page.headers
    goals = page.text[page.text.index('id="panel-goals"') :]
    goals = goals[: goals.index("</section>")]
    cells = re.findall(r'data-metric="(\w+)" data-value="([^"]+)"', goals)
    api = harness.results(
        {"site_id": SITE, "metrics": ["visitors", "events", "conversion_rate"], "date_range": [DAY, DAY]}
        | {"dimensions": ["event:goal"]}
    )
    assert [value for _, value in cells] == [str(v) for row in api for v in row[1:]]
    link = re.search(r'<a href="([^"]*/share/[^"]*/funnels[^"]*)">', page.text).group(1)
    funnel = anonymous.get(html.unescape(link))
    assert funnel.status_code == 200 and "Shared, read-only view." in funnel.text
    assert re.findall(r'data-metric="visitors">(\d+)<', funnel.text) == ["3", "2"]
    assert f'href="/share/{token}?period=custom' in funnel.text and "/goals" not in funnel.text
    assert anonymous.get("/share/not-a-token/funnels").status_code == 404
