"""Every dashboard page under axe-core (WCAG 2.1 A and AA) in both languages and colour schemes, the keyboard
walk through the dashboard, and share links framed only by the origins listed for them.

axe-core comes from npm (tests/e2e/package.json) and is injected into Debian's Chromium by Playwright.
Screenshots go to TELLER_SCREENSHOTS when it is set (docs/screenshots holds the committed ones).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from axe_check import violations as _violations
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from test_browser import LINUX_CHROME, launch_args
from test_dashboard_browser import EMAIL, PASSWORD, SITE, DashboardTeller

LANGUAGES = {"en": "en-GB", "nb": "nb-NO"}
SCHEMES = ("light", "dark")
EMBED_HOST = "npm.test"  # listed for the share link
OTHER_HOST = "snippet.test"  # not listed


class SmallDashboardTeller(DashboardTeller):
    """Fewer demo events than the dashboard test: every page is loaded many times here."""

    events = 8000


class EmbeddingSite:
    """A page on another origin that shows a URL in an <iframe>, served for both test host names."""

    def __init__(self) -> None:
        self.target = ""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = f'<!doctype html><title>embed</title><iframe src="{owner.target}" title="stats"></iframe>'
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="embedding-site", daemon=True)

    def __enter__(self) -> EmbeddingSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def embedding_site() -> Iterator[EmbeddingSite]:
    with EmbeddingSite() as site:
        yield site


@pytest.fixture(scope="module")
def a11y_teller(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[SmallDashboardTeller]:
    process = SmallDashboardTeller(tmp_path_factory.mktemp("teller-a11y"), [SITE])
    try:
        process.start()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=launch_args(LINUX_CHROME))
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("TELLER_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def _context(browser: Browser, language: str, scheme: str, width: int = 1280) -> BrowserContext:
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        locale=LANGUAGES[language],
        color_scheme=scheme,  # type: ignore[arg-type]
        accept_downloads=True,
    )
    # A dashboard page takes well under a second, but the 2 cores are shared with other test runs.
    context.set_default_timeout(120_000)
    context.set_default_navigation_timeout(120_000)
    return context


def _log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/sites")


def _share_link(page: Page, base: str, embed_origin: str) -> str:
    """A new share link made through the admin form, framable by embed_origin."""
    page.goto(f"{base}/sites/{SITE}/share")
    page.fill("#label", "board")
    page.fill("#embed-origins", embed_origin)
    page.click("form.wide-form button[type=submit]")
    page.wait_for_selector("#new-link")
    return page.inner_text("#new-link").strip()


def _pages(base: str, share: str) -> dict[str, str]:
    """Every page an admin reaches (name → URL); the dashboard with filters and the comparison on."""
    dashboard = f"{base}/sites/{SITE}"
    return {
        "sites": f"{base}/sites",
        "dashboard": dashboard,
        "dashboard-filtered-compared": f"{dashboard}?period=7d&source=Google&country=NO",
        "dashboard-no-comparison": f"{dashboard}?period=day&compare=off",
        "dashboard-custom-range": f"{dashboard}?period=custom&from=2026-01-01&to=2025-01-01",
        "snippet": f"{dashboard}/snippet",
        "privacy-text": f"{dashboard}/privacy",
        "share-links": f"{dashboard}/share",
        "admin-sites": f"{base}/admin/sites",
        "admin-users": f"{base}/admin/users",
        "admin-api-keys": f"{base}/admin/api-keys",
        "admin-ingest": f"{base}/admin/ingest",
        "add-site": f"{base}/setup/site",
        "verify-installation": f"{dashboard}/verify",
        "account": f"{base}/account",
        "goals": f"{dashboard}/goals",
        "funnels": f"{dashboard}/funnels",
        "reports": f"{dashboard}/reports",
        "imports": f"{dashboard}/imports",
        "error-404": f"{base}/sites/not-registered.example",
        "share-view": share,
    }


def test_every_page_passes_axe_in_both_languages_and_schemes(
    browser: Browser, a11y_teller: SmallDashboardTeller, axe_source: str, screenshots: Path
) -> None:
    base = a11y_teller.url
    report: dict[str, dict[str, int]] = {}
    failures: list[str] = []
    share = ""
    for language in LANGUAGES:
        for scheme in SCHEMES:
            run = f"{language}/{scheme}"
            context = _context(browser, language, scheme)
            try:
                page = context.new_page()
                page.goto(f"{base}/login")
                assert page.get_attribute("html", "lang") == language
                checked = {"login": _violations(page, axe_source)}
                _log_in(page, base)
                share = share or _share_link(page, base, f"http://{EMBED_HOST}:1")
                for name, url in _pages(base, share).items():
                    page.goto(url)
                    assert page.get_attribute("html", "lang") == language, (name, run)
                    checked[name] = _violations(page, axe_source)
                    if name == "dashboard":
                        # The period picker open and the chart's table shown are states of their own.
                        page.click("#period-menu summary")
                        page.click(".chart-table summary")
                        checked["dashboard-menus-open"] = _violations(page, axe_source)
                        if language == "nb" and scheme == "light":
                            page.screenshot(path=str(screenshots / "dashboard-nb.png"), full_page=True)
                        if language == "en" and scheme == "dark":
                            page.keyboard.press("Escape")
                            page.screenshot(path=str(screenshots / "dashboard-dark.png"), full_page=True)
                    if name == "account":
                        # Setting up two-factor login: the QR code and the confirmation form (not confirmed).
                        page.click("form[action='/account/two-factor/start'] button")
                        page.wait_for_selector(".qr svg")
                        checked["account-two-factor-setup"] = _violations(page, axe_source)
                if not report:
                    # axe-core really runs: an image without a text alternative is reported.
                    page.evaluate("document.querySelector('main').append(document.createElement('img'))")
                    assert any(line.startswith("image-alt ") for line in _violations(page, axe_source))
                report[run] = {name: len(lines) for name, lines in checked.items()}
                failures += [f"{run} {name}: {line}" for name, lines in checked.items() for line in lines]
            finally:
                context.close()
    print("axe-core WCAG 2.1 A/AA violations per page:", json.dumps(report, indent=1))
    # login, the pages, the dashboard's menus open and the two-factor setup
    assert len(report) == 4 and all(len(pages) == 24 for pages in report.values()), report
    assert failures == [], "\n".join(failures)


def test_phone_width_in_bokmal(browser: Browser, a11y_teller: SmallDashboardTeller, screenshots: Path) -> None:
    context = _context(browser, "nb", "light", width=375)
    try:
        page = context.new_page()
        _log_in(page, a11y_teller.url)
        page.goto(f"{a11y_teller.url}/sites/{SITE}")
        assert page.inner_text("#h-pages") == "Mest viste sider"
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(screenshots / "dashboard-phone-nb.png"), full_page=True)
    finally:
        context.close()


def _focus_report(page: Page) -> dict:
    """What has the focus and whether a sighted keyboard user can see it (an outline of 2 px or more)."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          const box = el.getBoundingClientRect();
          return {
            key: el.dataset.walkId || '',
            tag: el.tagName, text: (el.innerText || el.value || '').trim().slice(0, 40),
            visible: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
            onScreen: box.width > 0 && box.height > 0,
          };
        }"""
    )


_MARK_FOCUSABLE = """() => {
  const all = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, summary, [tabindex]')]
    .filter(el => el.tabIndex >= 0 && el.getClientRects().length > 0 && !el.closest('[hidden]'));
  all.forEach((el, i) => { el.dataset.walkId = String(i); });
  return all.length;
}"""


def _walk(page: Page, limit: int = 400) -> list[dict]:
    """Tab from where the focus is until it comes back round; every stop's focus report.

    The walk passes the document itself (BODY) between the last control and the first: a page whose
    focus started in the middle (an autofocus field, a blurred element) is walked round all the same.
    """
    count = page.evaluate(_MARK_FOCUSABLE)
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    stops: list[dict] = []
    for _ in range(min(limit, 2 * count + 5)):
        page.keyboard.press("Tab")
        report = _focus_report(page)
        if report["tag"] == "BODY":
            continue
        if stops and report["key"] == stops[0]["key"]:
            break
        stops.append(report)
    return stops


def test_keyboard_walks_the_dashboard(browser: Browser, a11y_teller: SmallDashboardTeller) -> None:
    base = a11y_teller.url
    context = _context(browser, "en", "light")
    try:
        page = context.new_page()
        _log_in(page, base)
        page.goto(f"{base}/sites/{SITE}?period=7d")

        # Every control is reached by Tab, in the order of the page, each with a visible focus.
        stops = _walk(page)
        expected = page.evaluate(_MARK_FOCUSABLE)
        reached = {stop["key"] for stop in stops}
        assert reached == {str(i) for i in range(expected)}, "unreachable by Tab: " + str(
            sorted(set(map(str, range(expected))) - reached)
        )
        hidden_focus = [stop for stop in stops if not stop["visible"] or not stop["onScreen"]]
        assert hidden_focus == [], hidden_focus

        # The period picker: Enter opens it, Tab reaches its choices, Escape closes it and returns the focus.
        page.focus("#period-menu summary")
        page.keyboard.press("Enter")
        assert page.get_attribute("#period-menu", "open") is not None
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('#period-menu') !== null")
        assert _focus_report(page)["visible"]
        page.keyboard.press("Escape")
        assert page.get_attribute("#period-menu", "open") is None
        assert page.evaluate("document.activeElement === document.querySelector('#period-menu summary')")
        # Choosing a period with the keyboard.
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_url("**period=yesterday**")

        # A panel row filters by Enter; the filter chip's remove link is reached and works by Enter too.
        page.focus("#panel-sources tbody tr a")
        source = page.evaluate("document.activeElement.innerText").strip()
        page.keyboard.press("Enter")
        page.wait_for_url("**source=**")
        assert page.locator(".chip").count() == 1
        stops = _walk(page)
        chip = page.evaluate("document.querySelector('.chip-remove').dataset.walkId")
        assert chip in {stop["key"] for stop in stops}, f"the filter {source} cannot be removed by keyboard"
        page.focus(".chip-remove")
        assert _focus_report(page)["visible"]
        page.keyboard.press("Enter")
        page.wait_for_function("!location.search.includes('source=')")

        # A CSV link downloads by Enter.
        page.focus("#panel-pages .panel-export")
        assert _focus_report(page)["visible"]
        with page.expect_download() as download:
            page.keyboard.press("Enter")
        assert re.search(r"_pages\.csv$", download.value.suggested_filename)

        # The chart's table opens by Enter on its summary.
        page.focus(".chart-table summary")
        page.keyboard.press("Enter")
        assert page.get_attribute(".chart-table", "open") is not None
    finally:
        context.close()


ADMIN_PAGES = (
    "sites",
    "admin-sites",
    "admin-users",
    "admin-api-keys",
    "admin-ingest",
    "add-site",
    "verify-installation",
    "snippet",
    "share-links",
    "account",
    "goals",
    "funnels",
    "reports",
    "imports",
)


def test_keyboard_reaches_every_control_of_the_admin_pages(browser: Browser, a11y_teller: SmallDashboardTeller) -> None:
    base = a11y_teller.url
    context = _context(browser, "en", "light")
    try:
        page = context.new_page()
        _log_in(page, base)
        pages = _pages(base, "")
        for name in ADMIN_PAGES:
            page.goto(pages[name])
            stops = _walk(page)
            expected = page.evaluate("document.querySelectorAll('[data-walk-id]').length")
            missed = sorted(set(map(str, range(expected))) - {stop["key"] for stop in stops})
            assert expected > 3 and missed == [], f"{name}: unreachable by Tab: {missed}"
            hidden_focus = [stop for stop in stops if not stop["visible"] or not stop["onScreen"]]
            assert hidden_focus == [], (name, hidden_focus)
        # A form sent by Enter: two-factor setup starts and shows its QR code and confirmation field.
        page.goto(f"{base}/account")
        page.focus("form[action='/account/two-factor/start'] button")
        page.keyboard.press("Enter")
        page.wait_for_selector(".qr svg")
        page.focus("#code")
        assert _focus_report(page)["visible"]
    finally:
        context.close()


def test_language_switch_is_saved_for_the_user(browser: Browser, a11y_teller: SmallDashboardTeller) -> None:
    base = a11y_teller.url
    context = _context(browser, "en", "light")
    try:
        page = context.new_page()
        _log_in(page, base)
        page.goto(f"{base}/admin/users")
        page.select_option("#language-choice", "nb")
        page.click(".language-form button")
        page.wait_for_url(f"{base}/admin/users")
        assert page.get_attribute("html", "lang") == "nb" and page.inner_text("h1") == "Brukere"
        # The browser still asks for English; the saved choice wins on every page.
        page.goto(f"{base}/sites/{SITE}?period=7d")
        assert page.inner_text("#period-menu summary") == "Siste 7 dager"
        value = page.inner_text(".kpi[data-metric=bounce_rate] .kpi-value")
        assert re.fullmatch(r"\d+(,\d)?\u00a0%", value), value
        page.select_option("#language-choice", "en")
        page.click(".language-form button")
        page.wait_for_url("**period=7d**")
        assert page.inner_text("#period-menu summary") == "Last 7 days"
        # A share link's visitor has no account: the language switch keeps the choice in the URL.
        share = _share_link(page, base, "")
        visitor = context.browser.new_context(locale="en-GB")  # type: ignore[union-attr]
        try:
            shared = visitor.new_page()
            shared.goto(share)
            shared.click(".language-links a[hreflang=nb]")
            shared.wait_for_url("**lang=nb**")
            assert shared.inner_text("#h-pages") == "Mest viste sider"
            shared.click("#period-menu summary")
            shared.click("#period-menu .menu-list a >> nth=2")
            shared.wait_for_url("**lang=nb**")
            assert shared.get_attribute("html", "lang") == "nb"
            assert visitor.cookies() == []
        finally:
            visitor.close()
    finally:
        context.close()


def test_share_link_is_framed_only_by_its_listed_origins(
    browser: Browser, a11y_teller: SmallDashboardTeller, embedding_site: EmbeddingSite
) -> None:
    base = a11y_teller.url
    context = _context(browser, "en", "light")
    try:
        page = context.new_page()
        _log_in(page, base)
        allowed = f"http://{EMBED_HOST}:{embedding_site.port}"
        framable = _share_link(page, base, allowed)
        not_framable = _share_link(page, base, "")
        for target, host, shown in (
            (framable, EMBED_HOST, True),
            (framable, OTHER_HOST, False),
            (not_framable, EMBED_HOST, False),
            (f"{base}/login", EMBED_HOST, False),
        ):
            embedding_site.target = target
            outer = context.new_page()
            try:
                outer.goto(f"http://{host}:{embedding_site.port}/")
                outer.wait_for_load_state("load")
                frame = outer.frame_locator("iframe")
                if shown:
                    frame.locator("#h-pages").wait_for(timeout=15_000)
                else:
                    # Chromium replaces a refused frame with its error page.
                    outer.wait_for_function("document.querySelector('iframe') !== null")
                    outer.wait_for_timeout(1500)
                    inner = [f.url for f in outer.frames if f != outer.main_frame]
                    assert inner and all(url.startswith("chrome-error://") for url in inner), (target, host, inner)
            finally:
                outer.close()
        headers = page.request.get(framable).headers
        assert f"frame-ancestors {allowed};" in headers["content-security-policy"]
        assert "x-frame-options" not in headers
        assert page.request.get(not_framable).headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.request.get(f"{base}/sites").headers["content-security-policy"]
    finally:
        context.close()
