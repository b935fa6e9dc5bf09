"""The first run in headless Chromium with a real `teller serve` on an empty data dir, then invitations and TOTP.

From the setup token on the terminal to "Received" on the installation check, timed; screenshots of the
setup and verify pages go to a temporary directory, or to TELLER_SCREENSHOTS (docs/screenshots).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from axe_check import violations
from e2e_site import SiteServer
from e2e_teller import _teller_command
from playwright.sync_api import Page, expect, sync_playwright
from teller_process import TellerProcess
from test_accessibility import LANGUAGES, SCHEMES, _walk
from test_browser import LINUX_CHROME, launch_args

SITE = "snippet.test"
EMAIL = "owner@example.com"
PASSWORD = "a long enough password"
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/142.0.0.0 Safari/537.36"
)
TOKEN_LINE = re.compile(r"setup token \(valid until the first account exists\): (\S+)")


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("TELLER_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def fresh_teller(tmp_path: Path, chromium: str) -> Iterator[TellerProcess]:
    """`teller serve` on a data dir that does not exist yet, as after a fresh clone."""
    process = TellerProcess(tmp_path, data_dir=str(tmp_path / "data"), flush_interval="0.2", site_refresh_interval="1")
    try:
        yield process
    finally:
        if process.process is not None and process.process.poll() is None:
            process.terminate()
        process.stop_quietly()


def _visit(browser, url: str, user_agent: str) -> None:
    """Open a page of the site in its own browser context, stay a moment, leave."""
    context = browser.new_context(user_agent=user_agent)
    context.add_init_script("window.__teller = true")  # the snippet stays quiet under webdriver otherwise
    page = context.new_page()
    page.goto(url)
    page.wait_for_timeout(1500)
    context.close()


def _axe_both_schemes(page: Page, axe_source: str, name: str, found: dict[str, list[str]]) -> None:
    """axe-core on the page as it is, in the light and then the dark colour scheme."""
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        found[f"{name} {scheme}"] = violations(page, axe_source)
    page.emulate_media(color_scheme="light")


def _keyboard_reaches_everything(page: Page) -> None:
    """Tab reaches every control of the page in turn, each with a visible focus."""
    stops = _walk(page)
    expected = page.evaluate("document.querySelectorAll('[data-walk-id]').length")
    assert {stop["key"] for stop in stops} == {str(i) for i in range(expected)}, (page.url, stops)
    assert [stop for stop in stops if not stop["visible"] or not stop["onScreen"]] == [], page.url


def test_first_run_from_an_empty_data_dir_to_a_verified_pageview(
    chromium: str, fresh_teller: TellerProcess, screenshots: Path, axe_source: str
) -> None:
    started = time.monotonic()
    fresh_teller.start()
    token = TOKEN_LINE.search(fresh_teller.log()).group(1)
    base = fresh_teller.url  # http://127.0.0.1:<port>: a secure context, so the copy button uses the clipboard
    with SiteServer(base) as site, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=launch_args(LINUX_CHROME))
        try:
            # The setup page exists only until the first account: axe-core on it in both languages and schemes.
            axe: dict[str, list[str]] = {}
            for language, locale in LANGUAGES.items():
                other = browser.new_context(locale=locale)
                try:
                    setup = other.new_page()
                    setup.goto(f"{base}/setup")
                    assert setup.get_attribute("html", "lang") == language
                    _axe_both_schemes(setup, axe_source, f"setup {language}", axe)
                finally:
                    other.close()
            context = browser.new_context(viewport={"width": 1100, "height": 860})
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page = context.new_page()
            page.goto(f"{base}/sites")
            assert urlsplit(page.url).path == "/setup"
            expect(page.locator("h1")).to_have_text("Create the first admin account")
            page.screenshot(path=str(screenshots / "setup.png"))
            page.fill("#setup_token", "0000-0000-0000-0000")
            page.fill("#email", EMAIL)
            page.fill("#password", PASSWORD)
            page.fill("#repeat", PASSWORD)
            page.click("main button[type=submit]")
            expect(page.locator(".error")).to_contain_text("not the setup token")
            _axe_both_schemes(page, axe_source, "setup with an error", axe)
            # From here on by keyboard: every control reached by Tab with its focus visible, forms sent by Enter.
            _keyboard_reaches_everything(page)
            page.focus("#setup_token")
            page.keyboard.press("Control+A")
            page.keyboard.type(token)
            for field in ("#password", "#repeat"):
                page.focus(field)
                page.keyboard.press("Control+A")
                page.keyboard.type(PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/setup/site")
            _axe_both_schemes(page, axe_source, "add-site", axe)
            _keyboard_reaches_everything(page)
            page.focus("#domain")
            page.keyboard.type(SITE)
            page.select_option("#timezone", "Europe/Oslo")
            page.screenshot(path=str(screenshots / "setup-site.png"))
            page.focus("#domain")
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/sites/{SITE}/verify")
            _keyboard_reaches_everything(page)
            page.focus("button.copy")
            page.keyboard.press("Enter")
            expect(page.locator(".copied")).to_have_text("Copied.")
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied == f'<script defer data-domain="{SITE}" src="{base}/js/script.js"></script>'
            expect(page.locator("#verify-message")).to_contain_text("Waiting for the first pageview")
            page.screenshot(path=str(screenshots / "verify-waiting.png"))
            _axe_both_schemes(page, axe_source, "verify waiting", axe)

            # A headless browser is dropped as a bot, and the page says so.
            site_url = f"http://{SITE}:{site.port}/"
            _visit(browser, site_url, HEADLESS)
            expect(page.locator("#verify-message")).to_contain_text("was dropped", timeout=20_000)
            expect(page.locator("#verify-message")).to_contain_text("crawler, monitor, headless browser")
            page.screenshot(path=str(screenshots / "verify-dropped.png"))
            _axe_both_schemes(page, axe_source, "verify dropped", axe)

            # An ordinary browser: received.
            _visit(browser, site_url, LINUX_CHROME)
            expect(page.locator("#verify-message")).to_contain_text("Received: a pageview of /", timeout=20_000)
            verified = time.monotonic() - started
            page.screenshot(path=str(screenshots / "verify.png"))
            expect(page.locator("#verify-dashboard")).to_be_visible()
            _axe_both_schemes(page, axe_source, "verify received", axe)
            print("axe-core WCAG 2.1 A/AA violations:", {name: len(lines) for name, lines in axe.items()})
            assert len(axe) == 14 and not [line for lines in axe.values() for line in lines], axe
            page.focus("#verify-dashboard")
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/sites/{SITE}")
            # Setup is gone for good.
            assert page.goto(f"{base}/setup").status == 404
        finally:
            browser.close()
    data_files = [p for p in Path(fresh_teller.env["TELLER_DATA_DIR"]).rglob("*") if p.is_file()]
    assert not [p for p in data_files if token.encode() in p.read_bytes()], "the setup token reached the disk"
    print(f"\nempty data dir to a verified first pageview: {verified:.1f} s (teller serve start included)")


def _cli(process: TellerProcess, *args: str, stdin: str = "") -> str:
    """Run a CLI command while the process serves (it goes over the control socket)."""
    done = subprocess.run(
        [*_teller_command(), *args], env=process.env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _log_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")


def test_an_invitation_then_two_factor_login(chromium: str, fresh_teller: TellerProcess, screenshots: Path) -> None:
    fresh_teller.start()
    base = fresh_teller.url
    for domain in ("a.test", "b.test"):
        _cli(fresh_teller, "sites", "add", domain)
    _cli(fresh_teller, "users", "add", EMAIL, "--role", "admin", stdin=PASSWORD + "\n")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=launch_args(LINUX_CHROME))
        try:
            admin = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
            _log_in(admin, base, EMAIL, PASSWORD)
            admin.wait_for_url(f"{base}/sites")
            admin.goto(f"{base}/admin/users")
            admin.fill("#invite-email", "guest@example.com")
            invite = admin.locator("form[action='/admin/invitations']")
            invite.locator("input[name=all_sites]").uncheck()
            invite.locator("input[name=sites][value='a.test']").check()
            invite.locator("button[type=submit]").click()
            link = admin.locator("#invite-link").inner_text().strip()
            assert link.startswith(f"{base}/invite/")

            guest = browser.new_context(viewport={"width": 1100, "height": 1000}).new_page()
            guest.goto(link)
            expect(guest.locator("h1")).to_have_text("Join Teller")
            guest.fill("#password", "the guest's own password")
            guest.fill("#repeat", "the guest's own password")
            guest.click("main button[type=submit]")
            guest.wait_for_url(f"{base}/sites")
            expect(guest.locator(".site-name")).to_have_text(["a.test"])  # only the site given
            assert guest.goto(f"{base}/sites/b.test").status == 404
            assert guest.goto(link).status == 404  # used

            # Two-factor login for the guest.
            guest.goto(f"{base}/account")
            guest.click("text=Set up two-factor login")
            expect(guest.locator(".qr svg")).to_be_visible()
            guest.screenshot(path=str(screenshots / "two-factor.png"), full_page=True)
            secret = guest.locator("#totp-secret").inner_text().strip()
            guest.fill("#code", pyotp.TOTP(secret).now())
            guest.click("text=Turn on two-factor login")
            codes = guest.locator("#recovery-codes").inner_text().split()
            assert len(codes) == 10
            guest.click("button:has-text('Log out')")
            _log_in(guest, base, "guest@example.com", "the guest's own password")
            expect(guest.locator("h1")).to_have_text("Two-factor login")
            # The confirming code is spent; the next time step's is accepted (clock drift of one step).
            guest.fill("#code", pyotp.TOTP(secret).at(time.time() + 30))
            guest.click("main button[type=submit]")
            guest.wait_for_url(f"{base}/sites")
            guest.click("button:has-text('Log out')")
            _log_in(guest, base, "guest@example.com", "the guest's own password")
            guest.fill("#code", codes[0])
            guest.click("main button[type=submit]")
            guest.wait_for_url(f"{base}/sites")
        finally:
            browser.close()
    assert "guest@example.com" in _cli(fresh_teller, "users", "list")
