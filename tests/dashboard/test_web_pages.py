"""The dashboard's pages on both engines: the numbers shown are the stats API's, links filter, exports, texts."""

import csv
import datetime as dt
import html
import io
import re
import zipfile
from pathlib import Path

from harness import Harness
from test_panels import SITE, known_events
from web_login import user_client

from dashboard.panels import PANELS, View, kpi_body, panel_body
from dashboard.periods import Period
from dashboard.web.privacy import PrivacyFacts, privacy_text, public_host
from storage.sites import Site
from storage.store import Store

DAY_URL = f"/sites/{SITE}?period=custom&from=2026-11-20&to=2026-11-20"


def _panel_html(page: str, name: str) -> str:
    match = re.search(rf'<section class="card panel" id="panel-{name}".*?</section>', page, re.S)
    assert match, name
    return match.group(0)


def _shown_rows(section: str) -> list[tuple]:
    """(value, metric values...) of each row of a panel, as the page states them in data-value attributes."""
    rows = []
    for row in re.findall(r'<tr data-value="([^"]*)">(.*?)</tr>', section, re.S):
        values = re.findall(r'<td class="num" data-metric="[^"]+" data-value="([^"]*)"', row[1])
        rows.append((html.unescape(row[0]), *values))
    return rows


def test_dashboard_shows_the_stats_apis_numbers(harness: Harness) -> None:
    known_events(harness)
    client = user_client(harness, "viewer@example.com", "viewer")
    page = client.get(DAY_URL).text
    view = View(SITE, "UTC", Period("custom", "", dt.date(2026, 11, 20), dt.date(2026, 11, 20)))
    body, _ = kpi_body(view)
    api = harness.query(body).json()["results"][0]["metrics"]
    shown = dict(
        re.findall(
            r'data-metric="(\w+)"[^>]*>\s*<span class="kpi-label">[^<]*</span>\s*<span class="kpi-value" '
            r'data-value="([^"]*)"',
            page,
        )
    )
    assert [float(shown[m]) for m in body["metrics"]] == [float(v) for v in api]
    assert '<span class="kpi-value" data-value="8">8</span>' in page
    assert ">28s<" in page and ">40%<" in page and ">1.60<" in page
    for panel in PANELS:
        body = panel_body(panel, view, 9)
        expected = [
            (str(r["dimensions"][0]) if r["dimensions"][0] is not None else "", *(str(m) for m in r["metrics"]))
            for r in harness.query(body).json()["results"]
            if not (panel.hide_empty and r["dimensions"][0] in ("", "(not set)"))
        ]
        assert _shown_rows(_panel_html(page, panel.name)) == expected, panel.name
    assert "Norway" in _panel_html(page, "countries")


def test_rows_filter_and_chips_remove_filters(harness: Harness) -> None:
    known_events(harness)
    client = user_client(harness, "viewer@example.com", "viewer")
    page = client.get(DAY_URL).text
    link = html.unescape(re.search(r'<a href="([^"]*source=Facebook[^"]*)"', _panel_html(page, "sources")).group(1))
    assert link == f"{DAY_URL}&source=Facebook"
    filtered = client.get(link).text
    assert 'class="chip"' in filtered and "Source is <strong>Facebook</strong>" in filtered
    assert '<span class="kpi-value" data-value="1">1</span>' in filtered  # one visitor came from Facebook
    remove = html.unescape(re.search(r'<a href="([^"]*)" class="chip-remove"', filtered).group(1))
    assert remove == DAY_URL
    assert 'class="chip"' not in client.get(remove).text
    # The period, comparison and chart metric live in the URL too.
    week = client.get(f"/sites/{SITE}?period=7d&metric=bounce_rate&compare=off&country=NO").text
    assert 'aria-current="true">Last 7 days' in week and "Comparing with" not in week
    assert 'class="kpi selected" href="' in week and 'data-metric="bounce_rate"' in week


def test_bad_custom_range_falls_back_with_a_message(harness: Harness) -> None:
    harness.add_site(SITE)
    client = user_client(harness, "viewer@example.com", "viewer")
    page = client.get(f"/sites/{SITE}?period=custom&from=2026-11-20&to=2026-11-01")
    # The page still shows the default period beneath the reason, answered as the 400 it is.
    assert page.status_code == 400 and "ends before it starts" in page.text and "Last 30 days" in page.text
    assert client.get("/sites/nope.test").status_code == 404


def test_csv_exports(harness: Harness) -> None:
    known_events(harness)
    client = user_client(harness, "viewer@example.com", "viewer")
    query = "?period=custom&from=2026-11-20&to=2026-11-20"
    response = client.get(f"/sites/{SITE}/export/sources.csv{query}")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["source", "visitors"]
    assert rows[1:] == [["Direct / None", "2"], ["Facebook", "1"], ["Google", "1"], ["newsletter", "1"]]
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/sites/{SITE}/export.zip{query}").content))
    assert {"kpis.csv", "timeseries.csv", *(f"{p.name}.csv" for p in PANELS)} <= set(archive.namelist())
    kpis = dict(csv.reader(io.StringIO(archive.read("kpis.csv").decode())))
    assert kpis["pageviews"] == "8" and kpis["visits"] == "5"
    series = list(csv.reader(io.StringIO(archive.read("timeseries.csv").decode())))
    assert len(series) == 25 and series[0][:3] == ["bucket", "visitors", "visits"]
    assert client.get(f"/sites/{SITE}/export/nope.csv").status_code == 404


def test_csv_cells_cannot_become_formulas(harness: Harness) -> None:
    harness.add_site(SITE)
    harness.pageview(SITE, "/=HYPERLINK(1)", ip="10.0.0.1")
    harness.flush()
    client = user_client(harness, "viewer@example.com", "viewer")
    text = client.get(f"/sites/{SITE}/export/pages.csv?period=custom&from=2026-11-20&to=2026-11-20").text
    assert "/=HYPERLINK(1)" in text  # a path starts with '/', so it stays as it is
    from dashboard.web.export import to_csv

    assert to_csv(["a"], [["=1+1"], ["@x"], ["-2"], ["plain"]]) == "a\n'=1+1\n'@x\n'-2\nplain\n"


def test_install_snippet(harness: Harness) -> None:
    harness.add_site(SITE)
    client = user_client(harness, "viewer@example.com", "viewer")
    page = client.get(f"/sites/{SITE}/snippet").text
    code = f'<script defer data-domain="{SITE}" src="http://testserver/js/script.js"></script>'
    assert code in html.unescape(page)


def _privacy(store: Store, tmp_path: Path, **settings: object) -> str:
    harness = Harness(store, tmp_path, **settings)
    harness.start()
    try:
        harness.add_site(SITE)
        client = user_client(harness, f"v{len(settings)}@example.com", "viewer")
        return html.unescape(client.get(f"/sites/{SITE}/privacy").text)
    finally:
        harness.stop()


def test_privacy_text_follows_the_configuration(store: Store, tmp_path: Path) -> None:
    default = _privacy(store, tmp_path / "a")
    for text in (
        "slettes etter 30 dager",
        "beholdes i 25 måneder",
        "deleted after 30 days",
        "kept for 25 months",
        "minst 3 ganger",
        "at least 3 times",
        "203.0.113.0",
        "ingen informasjonskapsler",
        "sets no cookies",
        "48 hours",
        "48 timer",
        "Do Not Track",
        "not sent to, shared with or sold to anyone else",
    ):
        assert text in default, text
    changed = _privacy(store, tmp_path / "b", retention_events_days=7, retention_rollup_months=13, search_min_count=5)
    assert "slettes etter 7 dager" in changed and "deleted after 7 days" in changed
    assert "kept for 13 months" in changed and "beholdes i 13 måneder" in changed
    assert "at least 5 times" in changed and "deleted after 30 days" not in changed
    assert changed != default


def test_privacy_text_has_a_rights_section_and_names_the_public_host(store: Store, tmp_path: Path) -> None:
    unconfigured = _privacy(store, tmp_path / "a")
    for heading in ("Dine rettigheter", "Your rights"):
        assert heading in unconfigured
    assert f"whoever runs {SITE}" in unconfigured and "within 30 days" in unconfigured
    assert "innen 30 dager" in unconfigured
    configured = _privacy(
        store,
        tmp_path / "b",
        public_url="http://testserver",
        controller_name="Eksempel AS",
        controller_email="personvern@example.no",
        privacy_request_days=14,
    )
    assert "under our control (testserver)" in configured
    assert "Eksempel AS (personvern@example.no)" in configured
    assert "within 14 days" in configured and "innen 14 dager" in configured
    assert "cannot be computed again" in configured and "kan ikke regnes ut på nytt" in configured
    assert "delete all statistics of a page, or of a period" in configured


def test_a_loopback_address_is_never_named_as_the_statistics_host() -> None:
    for url in ("http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000", "http://0.0.0.0"):
        assert public_host(url) == ""
    assert public_host("https://stats.example.no/") == "stats.example.no"
    site = Site("example.org", "UTC")
    facts = PrivacyFacts(site, 30, 25, 25, 3, public_host("http://127.0.0.1:8000"))
    for lang in ("nb", "en"):
        text = privacy_text(facts, lang)
        assert "127.0.0.1" not in text and "()" not in text
