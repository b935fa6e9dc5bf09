"""The filter dialog and saved segments in headless Chromium, by keyboard and mouse: the numbers shown are
the stats API's for the view in the URL, and the browser talks to nothing but Teller."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, sync_playwright
from starlette.datastructures import QueryParams
from test_browser import LINUX_CHROME, launch_args
from test_dashboard_browser import EMAIL, PASSWORD, SITE, DashboardTeller

from dashboard.panels import kpi_body
from dashboard.web.view_state import parse_state
from storage.sites import Site


@pytest.fixture(scope="module")
def filter_teller(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[DashboardTeller]:
    process = DashboardTeller(tmp_path_factory.mktemp("teller-filters"), [SITE])
    try:
        process.start()
        yield process
    finally:
        process.stop()


def _assert_kpis_match_api(page: Page, teller: DashboardTeller) -> None:
    state = parse_state(QueryParams(urlsplit(page.url).query), Site(SITE, "UTC"), dt.datetime.now(dt.UTC).date(), "")
    body, _ = kpi_body(state.view)
    expected = teller.query(body)["results"][0]["metrics"]
    shown = page.eval_on_selector_all(
        ".kpi",
        "cards => Object.fromEntries(cards.map(c => [c.dataset.metric, c.querySelector('.kpi-value').dataset.value]))",
    )
    assert [float(shown[m]) for m in body["metrics"]] == [float(v) for v in expected], (page.url, shown, expected)


def test_filter_dialog_and_segments(chromium: str, filter_teller: DashboardTeller, tmp_path: Path) -> None:
    screenshots = Path(os.environ.get("TELLER_SCREENSHOTS") or tmp_path)
    screenshots.mkdir(parents=True, exist_ok=True)
    base = filter_teller.url
    origins: set[str] = set()
    csp_errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=launch_args(LINUX_CHROME))
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.on("request", lambda r: origins.add("{0.scheme}://{0.netloc}".format(urlsplit(r.url))))
            context.set_default_timeout(120_000)  # a shared two-core machine answers slowly at times
            page = context.new_page()
            page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(f"{base}/login?next=/sites/{SITE}")
            page.fill("#email", EMAIL)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/sites/{SITE}")

            # Keyboard: open the dialog from its button; focus lands on the dimension.
            page.focus("#filter-menu summary")
            page.keyboard.press("Enter")
            page.wait_for_function("document.activeElement.id === 'filter-dimension'")
            page.select_option("#filter-dimension", "source")
            page.select_option("#filter-operator", "is_not")
            # Suggestions: the sources seen in the period, fetched from Teller.
            page.wait_for_selector("#filter-suggestion-list button.suggestion")
            suggested = page.eval_on_selector_all("#filter-suggestion-list button", "b => b.map(x => x.dataset.value)")
            assert len(suggested) >= 2, suggested
            page.locator("#filter-suggestion-list button").nth(0).click()
            page.locator("#filter-suggestion-list button").nth(1).click()  # a second value, in a new field
            values = page.eval_on_selector_all("input.filter-value", "inputs => inputs.map(i => i.value)")
            assert values == suggested[:2]
            page.screenshot(path=str(screenshots / "filter-dialog.png"))
            page.focus("input.filter-value")
            page.keyboard.press("Enter")
            page.wait_for_url("**f=is_not**")
            assert parse_qs(urlsplit(page.url).query)["f"] == [",".join(["is_not", "source", *suggested[:2]])]
            chip = page.locator(".chip").inner_text()
            assert chip.startswith(f"Source is not {suggested[0]} nor {suggested[1]}"), chip
            _assert_kpis_match_api(page, filter_teller)
            filtered_url = page.url

            # Escape closes an open dialog and gives focus back to its button.
            page.click("#filter-menu summary")
            page.keyboard.press("Escape")
            assert page.evaluate("document.getElementById('filter-menu').open") is False

            # Save the view's filters as a segment, clear them, then apply the segment in one click.
            page.click("#segment-menu summary")
            page.fill("#segment-name", "Not the top two")
            page.click(".segment-save button[type=submit]")
            page.wait_for_selector("li.segment", state="attached")
            page.click(".chip-remove")
            page.wait_for_function("!location.search.includes('f=')")
            assert page.locator(".chip").count() == 0
            page.click("#segment-menu summary")
            page.screenshot(path=str(screenshots / "segments.png"))
            page.click("li.segment >> text=Not the top two")
            page.wait_for_url("**f=is_not**")
            assert parse_qs(urlsplit(page.url).query)["f"] == parse_qs(urlsplit(filtered_url).query)["f"]
            _assert_kpis_match_api(page, filter_teller)

            # Delete it (its creator may).
            page.click("#segment-menu summary")
            page.click("li.segment button.danger")
            page.wait_for_selector("#segment-menu summary:text-is('Segments')", state="attached")
            assert page.locator("li.segment").count() == 0
        finally:
            browser.close()
    assert origins == {base}, origins
    assert csp_errors == []
