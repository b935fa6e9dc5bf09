"""Fixtures of the browser tests: Chromium, the npm tracker, a Teller process and the test site."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_check import AXE_JS
from e2e_site import TRACKER_JS, SiteServer
from e2e_teller import TellerProcess
from npm_install import npm_install

CHROMIUM = os.environ.get("TELLER_TEST_CHROMIUM", "/usr/bin/chromium")
E2E_DIR = Path(__file__).resolve().parent
SITES = ["snippet.test", "npm.test"]


def _missing(message: str) -> None:
    """Fail in CI (where .ci/run installs everything), skip elsewhere."""
    if os.environ.get("CI") or os.environ.get("TELLER_REQUIRE_SERVER") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's Chromium; the playwright package never downloads a browser here."""
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"{CHROMIUM} is missing: install it with `.ci/apt-install chromium`")
    return CHROMIUM


@pytest.fixture(scope="session")
def plausible_tracker() -> Path:
    """The official npm tracker, installed into tests/e2e/node_modules on first use."""
    npm_install(E2E_DIR, TRACKER_JS, "the browser tests install @plausible-analytics/tracker with it")
    return TRACKER_JS


@pytest.fixture(scope="session")
def teller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TellerProcess]:
    """A `teller serve` process on the embedded engine with the test sites registered."""
    process = TellerProcess(tmp_path_factory.mktemp("teller-e2e"), SITES)
    try:
        process.start()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def site(teller: TellerProcess, plausible_tracker: Path) -> Iterator[SiteServer]:
    """The test site on 127.0.0.1, its pages embedding Teller at http://stats.test:<port>."""
    with SiteServer(f"http://stats.test:{teller.port}") as test_site:
        yield test_site


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe.min.js from npm, installed into tests/e2e/node_modules on first use."""
    npm_install(E2E_DIR, AXE_JS, "the accessibility tests install axe-core with it")
    return AXE_JS.read_text(encoding="utf-8")
