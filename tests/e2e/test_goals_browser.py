"""Goals, funnels and properties in headless Chromium: an admin defines goals and a funnel through the
forms, the Goal conversions panel equals the stats API, a click on a goal and on a property value filters,
and the Funnels view equals POST /api/v2/funnel. Screenshots go where test_dashboard_browser's do."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from e2e_teller import TellerProcess, _teller_command
from playwright.sync_api import sync_playwright
from test_browser import LINUX_CHROME, launch_args

SITE = "goals.test"
EMAIL = "admin@example.com"
PASSWORD = "a long enough password"
# (user agent version, plan): each version is one visitor; None signs up never.
ROWS_JS = "rows => rows.map(r => [r.dataset.value, ...[...r.querySelectorAll('td.num')].map(td => td.dataset.value)])"
VISITORS = [("120", "pro"), ("121", "free"), ("122", "free"), ("123", None), ("124", None)]


class GoalsTeller(TellerProcess):
    """A Teller with an admin user, created before serving."""

    def start(self) -> None:
        subprocess.run(
            [*_teller_command(), "users", "add", EMAIL, "--role", "admin"],
            env=self.env,
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        super().start()

    def post(self, path: str, body: dict) -> dict:
        response = httpx.post(
            f"{self.url}{path}", json=body, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def goals_teller(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[GoalsTeller]:
    process = GoalsTeller(tmp_path_factory.mktemp("teller-goals"), [SITE])
    try:
        process.start()
        for version, plan in VISITORS:
            agent = f"Mozilla/5.0 (X11; Linux x86_64; rv:{version}.0) Gecko/20100101 Firefox/{version}.0"
            events = [{"n": "pageview", "u": f"https://{SITE}/pricing", "p": {"plan": plan or "none"}}]
            if plan:
                events.append({"n": "Signup", "u": f"https://{SITE}/pricing", "p": {"plan": plan}})
            for event in events:
                sent = httpx.post(
                    f"{process.url}/api/event",
                    json={**event, "d": SITE},
                    headers={"User-Agent": agent, "Content-Type": "text/plain"},
                    timeout=30,
                )
                assert sent.status_code == 202, sent.text
        yield process
    finally:
        process.stop()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("TELLER_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def _wait_for_events(teller: GoalsTeller) -> None:
    """Until the collector has written every event (it flushes every 0.2 s)."""
    body = {"site_id": SITE, "metrics": ["events"], "date_range": "day"}
    for _ in range(100):
        if teller.query(body)["results"][0]["metrics"] == [len(VISITORS) + 3]:
            return
        time.sleep(0.2)
    raise AssertionError("events were not written")


def test_goals_funnel_and_properties(chromium: str, goals_teller: GoalsTeller, screenshots: Path) -> None:
    base = goals_teller.url
    _wait_for_events(goals_teller)
    origins: set[str] = set()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=launch_args(LINUX_CHROME))
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.on("request", lambda r: origins.add("{0.scheme}://{0.netloc}".format(urlsplit(r.url))))
            page = context.new_page()
            page.goto(f"{base}/login")
            page.fill("#email", EMAIL)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/sites")

            # Define two goals and a funnel through the admin forms.
            page.goto(f"{base}/sites/{SITE}")
            page.click("nav.site-links >> text=Goals")
            page.wait_for_url(f"{base}/sites/{SITE}/goals")
            page.fill("#goal-pattern", "/pric*")
            page.click("#add-goal button[type=submit]")
            page.wait_for_selector('tr[data-goal="Visit /pric*"]')
            page.select_option("#goal-kind", "event")
            page.fill("#goal-event", "Signup")
            page.click("#add-goal button[type=submit]")
            page.wait_for_selector('tr[data-goal="Signup"]')
            page.fill("#funnel-name", "Pricing to signup")
            page.select_option("#funnel-step-1", "Visit /pric*")
            page.select_option("#funnel-step-2", "Signup")
            page.click("#add-funnel button[type=submit]")
            page.wait_for_selector("#funnel-list >> text=Pricing to signup")
            page.screenshot(path=str(screenshots / "goals-admin.png"), full_page=True)

            # The Goal conversions panel equals the API's goal breakdown.
            page.goto(f"{base}/sites/{SITE}?period=day")
            shown = page.eval_on_selector_all(
                "#panel-goals tbody tr",
                ROWS_JS,
            )
            body = {"site_id": SITE, "metrics": ["visitors", "events", "conversion_rate"], "date_range": "day"}
            api = goals_teller.query({**body, "dimensions": ["event:goal"], "order_by": [["visitors", "desc"]]})
            expected = [[r["dimensions"][0], *(str(m) for m in r["metrics"])] for r in api["results"]]
            assert shown == expected == [["Visit /pric*", "5", "5", "100.0"], ["Signup", "3", "3", "60.0"]]
            page.locator("#panel-goals").screenshot(path=str(screenshots / "goals-panel.png"))

            # Click the Signup goal: the dashboard filters by it.
            page.click("#panel-goals >> text=Signup")
            page.wait_for_url("**goal=Signup**")
            assert page.locator(".chip").inner_text().startswith("Goal is Signup")
            assert page.locator('.kpi[data-metric="visitors"] .kpi-value').get_attribute("data-value") == "3"

            # The Properties panel: pick plan, see its values with conversion rates, click one to filter.
            page.select_option("#prop-key", "plan")
            page.click("#property-key-form button[type=submit]")
            page.wait_for_url("**prop_key=plan**")
            rows = page.eval_on_selector_all(
                "#panel-properties tbody tr",
                ROWS_JS,
            )
            assert rows == [["free", "2", "2", "40.0"], ["pro", "1", "1", "20.0"]]
            page.locator("#panel-properties").screenshot(path=str(screenshots / "properties-panel.png"))
            page.click("#panel-properties >> text=free")
            page.wait_for_url("**props%3Aplan**")
            assert parse_qs(urlsplit(page.url).query)["f"] == ["is,props:plan,free"]
            assert page.locator('.kpi[data-metric="visitors"] .kpi-value').get_attribute("data-value") == "2"

            # The Funnels view equals POST /api/v2/funnel.
            page.goto(f"{base}/sites/{SITE}/funnels?period=day")
            visitors = page.eval_on_selector_all(
                "#funnel td[data-metric=visitors]", "cells => cells.map(c => c.textContent)"
            )
            numbers = goals_teller.post(
                "/api/v2/funnel", {"site_id": SITE, "funnel": "Pricing to signup", "date_range": "day"}
            )
            assert visitors == [str(step["visitors"]) for step in numbers["steps"]] == ["5", "3"]
            page.screenshot(path=str(screenshots / "funnel.png"), full_page=True)
        finally:
            browser.close()
    assert origins == {base}, origins
