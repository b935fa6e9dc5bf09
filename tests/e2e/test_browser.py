"""Headless Chromium reads the test site, carrying Teller's snippet or the npm Plausible tracker.

Teller's stats API must then report pageviews, visits, bounce rate and entry/exit pages exactly, and
engaged times within the tolerances below. The browser must end with no cookie and no storage entry,
and must have talked to nothing but the test site and Teller.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
from e2e_site import SiteServer
from e2e_teller import TellerProcess
from playwright.sync_api import BrowserContext, Page, Request, Response, sync_playwright

# Realistic desktop user agents: the default one says HeadlessChrome, which Teller drops as a bot.
LINUX_CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
)
HOSTS = ("snippet.test", "npm.test", "stats.test")
# Seconds the browser stays on each page before leaving it.
READ = {"/about": 3.0, "/": 4.0, "/spa/": 2.0, "/spa/settings": 3.0}
# Engaged time also covers loading and unloading around the waits: measured 0.02-0.3 s here, more on a
# loaded machine. Visit durations of multi-page visits come from whole-second server timestamps.
ENGAGED_TOLERANCE = (-0.2, 1.5)
DURATION_TOLERANCE = (-1.5, 2.5)


def launch_args(user_agent: str) -> list[str]:
    """Chromium flags: a real user agent on every request (keepalive ones too), the test host names, quiet."""
    rules = ", ".join(f"MAP {host} 127.0.0.1" for host in HOSTS)
    return [
        f"--user-agent={user_agent}",
        f"--host-resolver-rules={rules}",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]


@dataclass
class Browsing:
    """What one browser session did and left behind."""

    origins: set[str] = field(default_factory=set)
    teller_responses: list[Response] = field(default_factory=list)
    storage_in_page: list[dict] = field(default_factory=list)
    cookies_after: list = field(default_factory=list)
    storage_after: dict = field(default_factory=dict)
    set_cookie_headers: list[str] = field(default_factory=list)


@contextmanager
def browser_page(chromium: str, user_agent: str, teller_port: int, record: Browsing) -> Iterator[Page]:
    """A fresh headless Chromium with one page; records origins, cookies and storage when done."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=launch_args(user_agent))
        context: BrowserContext = browser.new_context()
        # Both trackers ignore browsers driven by automation (navigator.webdriver) unless told otherwise.
        context.add_init_script("window.__teller = true; window.__plausible = true;")

        def on_request(request: Request) -> None:
            parts = urlsplit(request.url)
            if parts.scheme in ("http", "https"):
                record.origins.add(f"{parts.scheme}://{parts.netloc}")

        def on_response(response: Response) -> None:
            if urlsplit(response.url).port == teller_port:
                record.teller_responses.append(response)

        context.on("request", on_request)
        context.on("response", on_response)
        page = context.new_page()
        try:
            yield page
            for response in record.teller_responses:
                # A keepalive response of an unloaded page may be gone already.
                with contextlib.suppress(Exception):
                    record.set_cookie_headers += [v for k, v in response.headers_array() if k.lower() == "set-cookie"]
            # Let the keepalive requests of the last unload reach Teller before the browser goes.
            time.sleep(1.0)
            record.cookies_after = context.cookies()
            record.storage_after = context.storage_state(indexed_db=True)
        finally:
            browser.close()


def _storage(page: Page) -> dict:
    """Cookies and storage entries the page's origin holds."""
    return page.evaluate(
        """async () => ({
            cookie: document.cookie,
            local: localStorage.length,
            session: sessionStorage.length,
            indexedDB: (await indexedDB.databases()).length,
        })"""
    )


def _read(page: Page, seconds: float) -> None:
    """Stay on the page, visible and focused, for a known time."""
    page.wait_for_timeout(seconds * 1000)


def _visit_and_bounce(page: Page, base: str) -> None:
    """Visit 1: one page, read for 3 s, then leave the site."""
    with page.expect_request(lambda r: r.url.endswith("/api/event")):
        page.goto(f"{base}/about")
    _read(page, READ["/about"])
    page.goto("about:blank")


def _visit_three_pages(page: Page, base: str, record: Browsing) -> None:
    """Visit 2: scroll the long home page, open the app, navigate inside it, click, then close the tab."""
    with page.expect_request(lambda r: r.url.endswith("/api/event")):
        page.goto(f"{base}/")
    _read(page, READ["/"] / 2)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    _read(page, READ["/"] / 2)
    with page.expect_request(lambda r: r.url.endswith("/api/event") and '"pageview"' in (r.post_data or "")):
        page.click("#to-spa")
    _read(page, READ["/spa/"])
    page.click("#go-settings")
    page.wait_for_function("location.pathname == '/spa/settings'")
    for selector in ("#outbound", "#download", "#signup"):
        page.click(selector)
    _read(page, READ["/spa/settings"])
    record.storage_in_page.append(_storage(page))
    page.close(run_before_unload=True)


def _wait_for_stats(teller: TellerProcess, domain: str) -> None:
    """Poll until every pageview and the last page's engagement are stored."""
    query = {
        "site_id": domain,
        "metrics": ["pageviews", "time_on_page"],
        "date_range": "7d",
        "dimensions": ["event:page"],
    }
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = {r["dimensions"][0]: r["metrics"] for r in teller.query(query)["results"]}
        if sum(m[0] for m in rows.values()) == 4 and all(rows.get(p, [0, None])[1] is not None for p in READ):
            return
        time.sleep(0.3)
    raise AssertionError(f"stats incomplete after 30 s: {rows}\n{teller.log()}")


def _results(teller: TellerProcess, domain: str, metrics: list[str], dimension: str | None = None) -> list[tuple]:
    query = {"site_id": domain, "metrics": metrics, "date_range": "7d", "dimensions": [dimension] if dimension else []}
    return [tuple(r["dimensions"]) + tuple(r["metrics"]) for r in teller.query(query)["results"]]


def _within(measured: float, expected: float, tolerance: tuple[float, float]) -> bool:
    return expected + tolerance[0] <= measured <= expected + tolerance[1]


@pytest.mark.parametrize("domain", ["snippet.test", "npm.test"])
def test_browser_visits(domain: str, chromium: str, teller: TellerProcess, site: SiteServer) -> None:
    base = f"http://{domain}:{site.port}"
    teller_origin = f"http://stats.test:{teller.port}"
    records = [Browsing(), Browsing()]
    started = time.monotonic()
    with browser_page(chromium, LINUX_CHROME, teller.port, records[0]) as page:
        _visit_and_bounce(page, base)
    with browser_page(chromium, WINDOWS_CHROME, teller.port, records[1]) as page:
        _visit_three_pages(page, base, records[1])
    _wait_for_stats(teller, domain)

    assert _results(teller, domain, ["visitors", "pageviews", "visits", "bounce_rate"]) == [(2, 4, 2, 50)]
    assert _results(teller, domain, ["visits", "bounce_rate"], "visit:entry_page") == [("/", 1, 0), ("/about", 1, 100)]
    assert _results(teller, domain, ["visits"], "visit:exit_page") == [("/about", 1), ("/spa/settings", 1)]
    assert _results(teller, domain, ["events"], "event:name") == [
        ("pageview", 4),
        ("File Download", 1),
        ("Outbound Link: Click", 1),
        ("Signup", 1),
    ]
    pages = {row[0]: row[1:] for row in _results(teller, domain, ["time_on_page", "scroll_depth"], "event:page")}
    measured = {path: pages[path][0] for path in READ}
    print(f"\n{domain}: engaged seconds expected {READ}, measured {measured}")
    for path, expected in READ.items():
        assert _within(measured[path], expected, ENGAGED_TOLERANCE), (path, measured[path], expected)
    assert pages["/"][1] == 100
    # Visit 1 lasts its engaged time (one page); visit 2 from its first pageview to its last engagement.
    expected_duration = (READ["/about"] + sum(READ[p] for p in ("/", "/spa/", "/spa/settings"))) / 2
    duration = _results(teller, domain, ["visit_duration"])[0][0]
    print(f"{domain}: visit_duration expected {expected_duration}, measured {duration}")
    assert _within(duration, expected_duration, DURATION_TOLERANCE), (duration, expected_duration)
    assert time.monotonic() - started < 120

    for record in records:
        assert record.origins <= {base, teller_origin}, record.origins
        assert record.cookies_after == []
        assert record.storage_after == {"cookies": [], "origins": []}
        assert record.set_cookie_headers == []
    assert records[1].storage_in_page == [{"cookie": "", "local": 0, "session": 0, "indexedDB": 0}]
    assert records[1].teller_responses, "no response from Teller was seen"


def test_collector_sets_no_cookie(teller: TellerProcess) -> None:
    event = b'{"n": "pageview", "u": "https://snippet.test/", "d": "snippet.test"}'
    answers = [
        httpx.post(f"{teller.url}/api/event", content=event, headers={"User-Agent": LINUX_CHROME}),
        httpx.get(f"{teller.url}/js/script.js"),
        httpx.get(f"{teller.url}/healthz"),
    ]
    for answer in answers:
        assert answer.status_code < 300 and "set-cookie" not in answer.headers


@pytest.mark.parametrize(
    ("host", "init_script", "why"),
    [
        ("127.0.0.1", "window.__teller = true;", "localhost is ignored unless data-local is set"),
        ("snippet.test", "", "automation (navigator.webdriver) is ignored"),
        (
            "snippet.test",
            "window.__teller = true; Object.defineProperty(navigator, 'globalPrivacyControl', {value: true});",
            "Global Privacy Control is honoured",
        ),
    ],
)
def test_snippet_stays_silent(
    host: str, init_script: str, why: str, chromium: str, teller: TellerProcess, site: SiteServer
) -> None:
    sent: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=launch_args(LINUX_CHROME))
        try:
            context = browser.new_context()
            if init_script:
                context.add_init_script(init_script)
            context.on("request", lambda r: sent.append(r.url) if "/api/event" in r.url else None)
            page = context.new_page()
            with page.expect_response(lambda r: r.url.endswith("/js/script.js")):
                page.goto(f"http://{host}:{site.port}/about")
            page.wait_for_function("typeof window.teller == 'function'")
            page.evaluate("window.teller('Signup')")
            page.goto("about:blank")
            page.wait_for_timeout(300)
        finally:
            browser.close()
    assert sent == [], why


def test_snippet_reports_a_site_search(chromium: str, teller: TellerProcess, site: SiteServer) -> None:
    """window.teller('search', {term, results}) sends the search event the server aggregates."""
    bodies: list[dict] = []
    answers: list[Response] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=launch_args(LINUX_CHROME))
        try:
            context = browser.new_context()
            context.add_init_script("window.__teller = true;")
            context.on("request", lambda r: bodies.append(r.post_data_json) if "/api/event" in r.url else None)
            context.on("response", lambda r: answers.append(r) if "/api/event" in r.url else None)
            page = context.new_page()
            page.goto(f"http://snippet.test:{site.port}/about")
            page.wait_for_function("typeof window.teller == 'function'")
            with page.expect_response(lambda r: "/api/event" in r.url and r.request.post_data_json["n"] == "search"):
                page.evaluate("window.teller('search', {term: 'Tyttebær åpningstider', results: 0})")
        finally:
            browser.close()
    search = next(body for body in bodies if body["n"] == "search")
    assert search["p"] == {"term": "Tyttebær åpningstider", "results": 0}
    assert search["d"] == "snippet.test"
    answer = next(a for a in answers if a.request.post_data_json["n"] == "search")
    assert answer.status == 202 and "x-teller-dropped" not in answer.headers
