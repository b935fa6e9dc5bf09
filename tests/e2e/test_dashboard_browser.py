"""The dashboard in headless Chromium: log in, change the period, filter by a row, remove it, export, log out.

The numbers on the page must equal the stats API's for the same query, and the browser must talk to
nothing but Teller. Screenshots at desktop and phone width go to a temporary directory, or to the
directory named by TELLER_SCREENSHOTS (docs/screenshots holds the committed ones).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from e2e_teller import TellerProcess, _teller_command
from playwright.sync_api import Page, sync_playwright
from test_browser import LINUX_CHROME, launch_args

from dashboard.panels import PANELS_BY_NAME, View, kpi_body, panel_body
from dashboard.periods import parse_period

SITE = "demo.test"
EMAIL = "editor@example.com"
PASSWORD = "a long enough password"


class DashboardTeller(TellerProcess):
    """A Teller with a month and a half of demo data for SITE and an admin user, created before serving."""

    events = 30000

    def start(self) -> None:
        # Raw events of the whole demo history stay, so its visits are derived for every compared day.
        self.env["TELLER_RETENTION_EVENTS_DAYS"] = "90"
        for args, stdin in (
            (["demo-data", "--site", SITE, "--events", str(self.events), "--days", "45"], None),
            (["users", "add", EMAIL, "--role", "admin"], PASSWORD + "\n"),
        ):
            subprocess.run(
                [*_teller_command(), *args],
                env=self.env,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=300,
                check=True,
            )
        super().start()


@pytest.fixture(scope="module")
def dashboard_teller(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[DashboardTeller]:
    process = DashboardTeller(tmp_path_factory.mktemp("teller-dashboard"), [SITE])
    try:
        process.start()
        yield process
    finally:
        process.stop()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("TELLER_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def _view(url: str) -> View:
    """The view a dashboard URL shows (the site is in UTC)."""
    params = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    today = dt.datetime.now(dt.UTC).date()
    period = parse_period(params.get("period", "30d"), params.get("from"), params.get("to"), today)
    filters = tuple((key, params[key]) for key in ("source", "country", "page", "browser") if key in params)
    return View(SITE, "UTC", period, filters)


def _shown_kpis(page: Page) -> dict[str, str]:
    return page.eval_on_selector_all(
        ".kpi",
        "cards => Object.fromEntries(cards.map(c => [c.dataset.metric, c.querySelector('.kpi-value').dataset.value]))",
    )


def _shown_rows(page: Page, panel: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"#panel-{panel} tbody tr",
        "rows => rows.map(r => [r.dataset.value, ...[...r.querySelectorAll('td.num')].map(td => td.dataset.value)])",
    )


def _assert_matches_api(page: Page, teller: DashboardTeller) -> None:
    view = _view(page.url)
    body, _ = kpi_body(view)
    expected = teller.query(body)["results"][0]["metrics"]
    shown = _shown_kpis(page)
    assert [float(shown[m]) for m in body["metrics"]] == [float(v) for v in expected], (page.url, shown, expected)
    for name in ("pages", "sources", "countries", "browsers"):
        panel = PANELS_BY_NAME[name]
        rows = teller.query(panel_body(panel, view, 9))["results"]
        expected_rows = [[str(r["dimensions"][0]), *(str(m) for m in r["metrics"])] for r in rows]
        assert _shown_rows(page, name) == expected_rows, (name, page.url)


def test_editor_session(chromium: str, dashboard_teller: DashboardTeller, screenshots: Path) -> None:
    base = dashboard_teller.url
    origins: set[str] = set()
    csp_errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=launch_args(LINUX_CHROME))
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            context.on("request", lambda r: origins.add("{0.scheme}://{0.netloc}".format(urlsplit(r.url))))
            page = context.new_page()
            page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)

            # Not logged in: every page leads to the login form.
            page.goto(f"{base}/sites/{SITE}")
            assert urlsplit(page.url).path == "/login"
            page.screenshot(path=str(screenshots / "login.png"))
            page.fill("#email", EMAIL)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/sites/{SITE}")
            cookie = next(c for c in context.cookies() if c["name"] == "teller_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

            _assert_matches_api(page, dashboard_teller)
            page.screenshot(path=str(screenshots / "dashboard-desktop.png"), full_page=True)
            # Keyboard: the first Tab reaches the skip link, the next ones the navigation.
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.className") == "skip"
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.textContent").strip() == "Teller"

            # Change the period through the picker.
            page.click("#period-menu summary")
            page.click("#period-menu >> text=Last 7 days")
            page.wait_for_url("**period=7d**")
            _assert_matches_api(page, dashboard_teller)

            # Click a row to filter by it; the filter shows as a chip and lives in the URL.
            link = page.locator("#panel-sources tbody tr a").first
            source = link.inner_text().strip()
            link.click()
            page.wait_for_url("**source=**")
            assert _view(page.url).filters == (("source", source),)
            assert page.locator(".chip").inner_text().startswith(f"Source is {source}")
            _assert_matches_api(page, dashboard_teller)
            page.screenshot(path=str(screenshots / "dashboard-filtered.png"), full_page=True)

            # Remove the filter with the chip's button.
            page.click(".chip-remove")
            page.wait_for_function("!location.search.includes('source=')")
            assert page.locator(".chip").count() == 0
            _assert_matches_api(page, dashboard_teller)

            # Export a panel as CSV.
            with page.expect_download() as download_info:
                page.click("#panel-sources .panel-export")
            rows = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text())))
            body = panel_body(PANELS_BY_NAME["sources"], _view(page.url), 10_000)
            api = [[str(r["dimensions"][0]), str(r["metrics"][0])] for r in dashboard_teller.query(body)["results"]]
            assert rows[0] == ["source", "visitors"] and rows[1:] == api

            # Phone width: one column, nothing wider than the screen.
            page.set_viewport_size({"width": 375, "height": 812})
            page.goto(f"{base}/sites/{SITE}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            page.screenshot(path=str(screenshots / "dashboard-phone.png"), full_page=True)
            page.set_viewport_size({"width": 1280, "height": 900})
            page.goto(f"{base}/sites/{SITE}/privacy")
            page.screenshot(path=str(screenshots / "privacy.png"), full_page=True)

            # Log out: the session is gone, the dashboard asks for a login again.
            page.click("form.logout button")
            page.wait_for_url(f"{base}/login")
            page.goto(f"{base}/sites/{SITE}")
            assert urlsplit(page.url).path == "/login"
        finally:
            browser.close()
    assert origins == {base}, origins
    assert csp_errors == []
