"""Umami's and Matomo's own npm clients, run by node, counting into Teller on both engines."""

import shutil
import socket
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import uvicorn
from harness import CHROME_WINDOWS, Harness
from npm_install import npm_install
from privacy import ip_forms, table_hits

from storage.store import Store
from storage.tracker_ids import set_tracker_id

TRACKERS_DIR = Path(__file__).resolve().parents[2] / "trackers"
UMAMI_ID = "4f1b2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
PUBLIC_IP = "195.159.103.82"

UMAMI_SCRIPT = """
const { Umami } = require('@umami/node');
const umami = new Umami({ websiteId: process.env.WID, hostUrl: process.env.URL, userAgent: process.env.UA });
(async () => {
  const answers = [];
  answers.push((await umami.track({ hostname: 'umami.test', url: '/pricing?utm_source=news',
    referrer: 'https://www.google.com/search?q=x', screen: '1920x1080', language: 'nb-NO', title: 'Pricing' })).status);
  answers.push((await umami.track('signup', { plan: 'pro' })).status);
  answers.push((await umami.identify({ plan: 'pro' })).status);
  console.log(JSON.stringify(answers));
})().catch((error) => { console.error(error); process.exit(1); });
"""

MATOMO_SCRIPT = """
const MatomoTracker = require('matomo-tracker');
const ua = process.env.UA;
const matomo = new MatomoTracker(7, process.env.URL + '/matomo.php');
const piwik = new MatomoTracker(8, process.env.URL + '/piwik.php');
const errors = [];
matomo.on('error', (e) => errors.push(String(e)));
piwik.on('error', (e) => errors.push(String(e)));
matomo.track({ url: 'https://matomo.test/docs', urlref: 'https://duckduckgo.com/', action_name: 'Docs',
  res: '1280x800', ua });
matomo.track({ url: 'https://matomo.test/docs', e_c: 'Video', e_a: 'Play', e_n: 'intro', ua });
matomo.track({ url: 'https://matomo.test/search?q=hello', search: 'hello world', search_count: 0, ua });
piwik.track({ url: 'https://elsewhere.test/', ua });
matomo.trackBulk([{ url: 'https://matomo.test/a', ua }, { url: 'https://matomo.test/b', ua }], (body) => {
  setTimeout(() => { console.log(JSON.stringify({ body, errors })); }, 1000);
});
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """@umami/node and matomo-tracker, installed into tests/trackers/node_modules on first use."""
    if shutil.which("node") is None:
        pytest.fail("node and npm are needed to run the trackers' own clients")
    npm_install(TRACKERS_DIR, TRACKERS_DIR / "node_modules" / "matomo-tracker", "the trackers' own clients need it")
    return TRACKERS_DIR / "node_modules"


@pytest.fixture
def served(store: Store, tmp_path: Path) -> Iterator[tuple[Harness, str]]:
    """A Teller app on the store, served over HTTP on a loopback port, with the two sites mapped."""
    harness = Harness(store, tmp_path)
    harness.start()
    harness.add_site("umami.test")
    harness.add_site("matomo.test")
    set_tracker_id(store, "umami", UMAMI_ID, "umami.test")
    set_tracker_id(store, "matomo", "7", "matomo.test")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(harness.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield harness, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        harness.stop()


def _node(script: str, node_modules: Path, url: str) -> str:
    """Run a client script with node; its last output line."""
    env = {"NODE_PATH": str(node_modules), "URL": url, "WID": UMAMI_ID, "UA": CHROME_WINDOWS, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["node", "-e", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _events(store: Store, site: str) -> list[tuple]:
    return [
        tuple(row)
        for row in store.query(
            "SELECT name, pathname, referrer_host, screen_width, utm_source, browser, prop_keys, prop_values "
            "FROM events WHERE site = %(s)s ORDER BY name, pathname",
            {"s": site},
        )
    ]


def test_umami_node_client(served: tuple[Harness, str], node_modules: Path) -> None:
    harness, url = served
    assert _node(UMAMI_SCRIPT, node_modules, url) == "[200,200,200]"
    harness.flush()
    assert _events(harness.store, "umami.test") == [
        ("pageview", "/pricing", "www.google.com", 1920, "news", "Chrome", [], []),
        ("signup", "/", "", 0, "", "Chrome", ["plan"], ["pro"]),
    ]
    assert table_hits(harness.store, ip_forms("127.0.0.1")) == []


def test_matomo_tracker_client(served: tuple[Harness, str], node_modules: Path) -> None:
    harness, url = served
    output = _node(MATOMO_SCRIPT, node_modules, url)
    assert '"errors":[]' in output and '\\"tracked\\":2' in output
    harness.flush()
    assert _events(harness.store, "matomo.test") == [
        ("Play", "/docs", "", 0, "", "Chrome", ["category", "name"], ["Video", "intro"]),
        ("pageview", "/a", "", 0, "", "Chrome", [], []),
        ("pageview", "/b", "", 0, "", "Chrome", [], []),
        ("pageview", "/docs", "duckduckgo.com", 1280, "", "Chrome", [], []),
    ]
    searches = harness.store.query(
        "SELECT term, sum(searches), sum(zero_result_searches) FROM search_terms GROUP BY term"
    )
    assert [tuple(row) for row in searches] == [("hello world", 1, 1)]
    assert harness.teller.ingest.dropped["unknown_site"] == 1  # idsite 8 is mapped to no site
    assert table_hits(harness.store, ip_forms("127.0.0.1")) == []


def test_bad_bodies_are_refused_with_a_reason(served: tuple[Harness, str]) -> None:
    harness, _ = served
    client = harness.client(PUBLIC_IP)
    assert client.post("/api/send", content=b"nope").status_code == 400
    assert client.post("/api/send", json={"type": "event", "payload": {}}).json()["error"]
    assert client.post("/api/send", content=b"x" * 70_000).status_code == 413
    assert client.post("/matomo.php", json={"requests": "x"}).status_code == 400
    assert client.post("/matomo.php", json={"requests": ["?idsite=7&rec=1"] * 1001}).status_code == 400
    assert client.get("/matomo.php?rec=1").status_code == 400
    assert client.get("/matomo.php?idsite=7").status_code == 200  # rec missing: nothing recorded


def test_no_full_address_after_compat_ingest(served: tuple[Harness, str]) -> None:
    harness, _ = served
    client = harness.client(PUBLIC_IP)
    headers = {"User-Agent": CHROME_WINDOWS}
    body = {"type": "event", "payload": {"website": UMAMI_ID, "hostname": "umami.test", "url": "/x", "referrer": ""}}
    assert client.post("/api/send", json=body, headers=headers).status_code == 200
    query = f"idsite=7&rec=1&url=https%3A%2F%2Fmatomo.test%2Fy&cip={PUBLIC_IP}&ua=" + CHROME_WINDOWS.replace(" ", "+")
    assert client.get(f"/matomo.php?{query}").status_code == 200
    harness.flush()
    assert harness.store.query("SELECT count() FROM events")[0][0] == 2
    assert table_hits(harness.store, ip_forms(PUBLIC_IP)) == []


UMAMI_PACKAGE = "umami@2.10.0"  # the application's own package; it ships the browser tracker's source
PAGE = """<!doctype html><html><head><title>Pricing</title>
<script defer src="/umami.js" data-website-id="{wid}" data-host-url="{teller}"></script></head>
<body><button id="buy" data-umami-event="buy">Buy</button></body></html>"""


@pytest.fixture(scope="module")
def umami_script(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """src/tracker/index.js of Umami's npm package, fetched with npm pack."""
    target = TRACKERS_DIR / "umami-tracker.js"
    if not target.exists():
        work = tmp_path_factory.mktemp("umami")
        subprocess.run(["npm", "pack", UMAMI_PACKAGE], cwd=work, check=True, capture_output=True, timeout=300)
        tarball = next(work.glob("umami-*.tgz"))
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/src/tracker/index.js")
            assert member is not None
            target.write_bytes(member.read())
    return target.read_bytes()


def test_umami_browser_tracker(served: tuple[Harness, str], umami_script: bytes) -> None:
    from playwright.sync_api import sync_playwright

    harness, teller = served
    page_html = PAGE.format(wid=UMAMI_ID, teller=teller).encode()

    class Site(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body, kind = (umami_script, "text/javascript") if self.path == "/umami.js" else (page_html, "text/html")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            page = browser.new_page(user_agent=CHROME_WINDOWS)
            with page.expect_response(lambda r: r.url.endswith("/api/send")) as first:
                page.goto(f"http://127.0.0.1:{site.server_address[1]}/pricing?utm_source=mail")
            assert first.value.status == 200
            with page.expect_response(lambda r: r.url.endswith("/api/send")) as second:
                page.click("#buy")
            assert second.value.status == 200
            browser.close()
    finally:
        site.shutdown()
    harness.flush()
    rows = [row[:2] + row[4:6] for row in _events(harness.store, "umami.test")]
    assert rows == [("buy", "/pricing", "mail", "Chrome"), ("pageview", "/pricing", "mail", "Chrome")]
