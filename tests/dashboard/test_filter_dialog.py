"""The filter dialog, its suggestions and saved segments on both engines: what the page shows is the API's."""

import html
import re
from urllib.parse import parse_qs, urlsplit

from harness import Harness
from test_panels import SITE, known_events
from web_login import ORIGIN, form_token, user_client

from dashboard.web.filter_params import decode_condition, describe, encode_condition

DAY = "period=custom&from=2026-11-20&to=2026-11-20"
DATE_RANGE = ["2026-11-20", "2026-11-20"]


def test_filter_parameters_round_trip() -> None:
    condition = ("contains_not", "page", ("/a,b", "back\\slash", ""))
    assert decode_condition(encode_condition(condition)) == condition
    assert encode_condition(("is", "source", ("Google", "Bing"))) == "is,source,Google,Bing"
    for bad in ("matches,page,x", "is,nope,x", "is,page", "is,page," + ",".join(str(n) for n in range(30))):
        assert decode_condition(bad) is None, bad
    assert describe(("is_not", "source", ("Google", "Facebook"))) == "Source is not Google nor Facebook"
    assert describe(("contains", "page", ("pri",))) == "Page contains pri"
    # A custom property is the key props:<key>; any number of them may be set at once.
    assert decode_condition("is,props:plan,pro") == ("is", "props:plan", ("pro",))
    assert decode_condition("is,props:,pro") is None and decode_condition("is,props:" + "k" * 301 + ",x") is None
    assert describe(("is_not", "props:plan", ("pro",))) == "Property plan is not pro"


def _kpis(page: str) -> dict[str, float]:
    found = re.findall(
        r'data-metric="(\w+)"[^>]*>\s*<span class="kpi-label">[^<]*</span>\s*<span class="kpi-value" '
        r'data-value="([^"]*)"',
        page,
    )
    return {name: float(value) for name, value in found if value}


def _api_kpis(harness: Harness, filters: list) -> dict[str, float]:
    metrics = ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration"]
    row = harness.results({"site_id": SITE, "metrics": metrics, "date_range": DATE_RANGE, "filters": filters})[0]
    return {name: float(value) for name, value in zip(metrics, row, strict=True)}


def test_dialog_filters_suggestions_and_segments(harness: Harness) -> None:
    known_events(harness)
    client = user_client(harness, "editor@example.com", "viewer")
    base = f"/sites/{SITE}"
    page = client.get(f"{base}?{DAY}").text
    assert 'id="filter-form"' in page and '<option value="is_not">is not</option>' in page
    assert '<option value="channel">Channel</option>' in page  # any filterable dimension, not only the panels'

    # The dialog's GET answers with the shareable URL of the view with the filter added.
    answer = client.get(f"{base}/filter?{DAY}&fd=source&fo=is_not&fv=Google&fv=Facebook&fv=", follow_redirects=False)
    assert answer.status_code == 303
    target = answer.headers["location"]
    assert parse_qs(urlsplit(target).query)["f"] == ["is_not,source,Google,Facebook"]
    filtered = client.get(target).text
    assert "<span>Source is not Google nor Facebook</span>" in filtered
    assert _kpis(filtered) == _api_kpis(harness, [["is_not", "visit:source", ["Google", "Facebook"]]])

    # A second filter from the dialog (contains) adds to the first; the URL holds both.
    again = client.get(f"{target.replace('?', '/filter?', 1)}&fd=page&fo=contains&fv=pri", follow_redirects=False)
    both = again.headers["location"]
    assert parse_qs(urlsplit(both).query)["f"] == ["is_not,source,Google,Facebook", "contains,page,pri"]
    filters = [["is_not", "visit:source", ["Google", "Facebook"]], ["contains", "event:page", ["pri"]]]
    shown = client.get(both).text
    assert _kpis(shown) == _api_kpis(harness, filters)
    removes = [html.unescape(url) for url in re.findall(r'<a href="([^"]*)" class="chip-remove"', shown)]
    assert parse_qs(urlsplit(removes[0]).query)["f"] == ["contains,page,pri"]

    # "is" with one value is the clicked-row form.
    single = client.get(f"{base}/filter?{DAY}&fd=country&fo=is&fv=NO", follow_redirects=False).headers["location"]
    assert parse_qs(urlsplit(single).query)["country"] == ["NO"]
    for bad in ("fd=nope&fo=is&fv=x", "fd=page&fo=matches&fv=x", "fd=page&fo=is"):
        assert client.get(f"{base}/filter?{DAY}&{bad}", follow_redirects=False).status_code == 400, bad

    # Suggestions: the dimension's top values in the period, as the API ranks them, under the other filters.
    suggested = client.get(f"{base}/suggestions?{DAY}&key=source").json()
    api = harness.results(
        {"site_id": SITE, "metrics": ["visitors"], "date_range": DATE_RANGE, "dimensions": ["visit:source"]}
    )
    assert [(row["value"], row["visitors"]) for row in suggested["values"]] == [tuple(row) for row in api]
    narrowed = client.get(f"{base}/suggestions?{DAY}&key=source&q=FACE").json()["values"]
    assert [row["value"] for row in narrowed] == ["Facebook"]
    by_page = client.get(f"{base}/suggestions?{DAY}&key=source&page=/blog").json()["values"]
    assert [row["value"] for row in by_page] == [
        row[0]
        for row in harness.results(
            {
                "site_id": SITE,
                "metrics": ["visitors"],
                "date_range": DATE_RANGE,
                "dimensions": ["visit:source"],
                "filters": [["is", "event:page", ["/blog"]]],
            }
        )
    ]
    refused = client.get(f"{base}/suggestions?{DAY}&key=nope")
    assert refused.status_code == 400 and "unknown filter key" in refused.json()["error"]

    # Save the two filters as a segment; another user of the site sees it and applies it in one click.
    csrf = form_token(shown, "csrf")
    view = urlsplit(both).query
    saved = client.post(
        f"{base}/segments",
        data={"csrf": csrf, "name": "Pricing, not social", "view": view},
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    other = user_client(harness, "colleague@example.com", "viewer", ip="195.159.200.1")
    listed = other.get(f"{base}?{DAY}").text
    link = re.search(r'<li class="segment" data-segment="Pricing, not social"><a href="([^"]*)"', listed)
    assert link and "Delete segment" not in listed  # only its creator or an admin deletes it
    applied = other.get(html.unescape(link.group(1))).text
    assert "<span>Source is not Google nor Facebook</span>" in applied and "<span>Page contains pri</span>" in applied
    assert _kpis(applied) == _api_kpis(harness, filters)
    segment_id = re.search(r'name="segment_id" value="([^"]+)"', client.get(f"{base}?{DAY}").text).group(1)
    denied = other.post(
        f"{base}/segments/delete",
        data={"csrf": form_token(listed, "csrf"), "segment_id": segment_id},
        headers={"Origin": ORIGIN},
    )
    assert denied.status_code == 403
    deleted = client.post(
        f"{base}/segments/delete",
        data={"csrf": csrf, "segment_id": segment_id},
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )
    assert deleted.status_code == 303 and 'class="segment"' not in client.get(f"{base}?{DAY}").text
    no_csrf = client.post(f"{base}/segments", data={"name": "x", "view": view}, headers={"Origin": ORIGIN})
    assert no_csrf.status_code == 403
