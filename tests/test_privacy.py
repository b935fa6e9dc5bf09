"""Privacy invariants: no full IP address in any table or file, no cookie, no IP column anywhere."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from harness import FIREFOX, SAFARI_IPHONE, Harness
from privacy import file_hits, ip_forms, packed_forms, table_hits

from storage.store import Store

SITE = "privacy.test"
ADDRESSES = ["195.159.103.82", "85.214.132.117", "2a02:2121:2c4:5d3b:1c9e:7a12:88f0:4b1d"]


def _needles() -> list[str]:
    return [form for ip in ADDRESSES for form in ip_forms(ip)]


def test_no_ip_column_in_any_table(store: Store) -> None:
    columns = store.query(
        "SELECT table, name FROM system.columns WHERE database = currentDatabase() "
        "AND (positionCaseInsensitive(name, 'ip') > 0 OR positionCaseInsensitive(name, 'addr') > 0)"
    )
    # A report subscription's `address` is the e-mail address reports go to, not a network address.
    not_network = {("report_subscriptions", "address")}
    assert [tuple(column) for column in columns if tuple(column) not in not_network] == []


def test_no_full_ip_in_any_column(harness: Harness) -> None:
    harness.add_site(SITE)
    for ip in ADDRESSES:
        for path in ("/", "/about"):
            response = harness.pageview(SITE, path, ip=ip, referrer="https://www.google.com/")
            assert response.status_code == 202
            assert "set-cookie" not in response.headers
        harness.post_event({"n": "Signup", "u": f"https://{SITE}/", "d": SITE, "p": {"plan": "x"}}, ip=ip)
        harness.post_event({"n": "engagement", "u": f"https://{SITE}/", "d": SITE, "e": 5000, "sd": 50}, ip=ip)
    harness.post_event(
        {"n": "pageview", "u": f"https://{SITE}/", "d": SITE}, ip="195.159.103.82", user_agent=SAFARI_IPHONE
    )
    harness.flush()
    assert harness.store.query("SELECT count() FROM events WHERE site = %(s)s", {"s": SITE})[0][0] == 13
    assert table_hits(harness.store, _needles()) == []


def test_forwarded_for_from_trusted_proxy_is_truncated_too(store: Store, tmp_path: Path) -> None:
    harness = Harness(store, tmp_path, trusted_proxies=["127.0.0.1"])
    harness.start()
    try:
        harness.add_site(SITE)
        response = harness.client("127.0.0.1").post(
            "/api/event",
            content=f'{{"n":"pageview","u":"https://{SITE}/","d":"{SITE}"}}',
            headers={"User-Agent": FIREFOX, "X-Forwarded-For": "85.214.132.117, 127.0.0.1"},
        )
        assert response.status_code == 202
        harness.flush()
        assert store.query("SELECT country FROM events WHERE site = %(s)s", {"s": SITE}) == [("DE",)]
        assert table_hits(store, ip_forms("85.214.132.117")) == []
    finally:
        harness.stop()


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Poll url until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"teller serve exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("engine", ["embedded", "server"])
def test_no_full_ip_in_data_dir_or_logs_of_a_real_server(engine: str, tmp_path: Path, request) -> None:
    """A real `teller serve` behind a trusted proxy: nothing on disk or in its logs holds a full address."""
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "TELLER_DATA_DIR": str(data_dir),
        "TELLER_TRUSTED_PROXIES": "127.0.0.1",
        "TELLER_SITES": SITE,
        "TELLER_FLUSH_INTERVAL": "0.2",
        "TELLER_LOG_LEVEL": "debug",
        "TELLER_ACCESS_LOG": "true",
    }
    if engine == "server":
        env["TELLER_CLICKHOUSE_URL"] = request.getfixturevalue("server_database")
    port = _free_port()
    log_path = tmp_path / "teller.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "teller.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        for ip in ADDRESSES:
            for body in (
                f'{{"n":"pageview","u":"https://{SITE}/a","d":"{SITE}","r":"https://duckduckgo.com/"}}',
                f'{{"n":"pageview","u":"https://{SITE}/b","d":"{SITE}"',  # malformed: a 400 is logged
            ):
                httpx.post(
                    f"http://127.0.0.1:{port}/api/event",
                    content=body,
                    headers={"User-Agent": FIREFOX, "X-Forwarded-For": ip, "Content-Type": "text/plain"},
                )
        time.sleep(1.0)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    log_text = log_path.read_text()
    # uvicorn re-raises SIGTERM after a clean shutdown, so the exit status is that signal.
    assert process.returncode in (0, -signal.SIGTERM), log_text
    assert "Application shutdown complete" in log_text
    assert "POST /api/event" in log_text  # the access log ran, so the scan below means something
    assert "195.159.103.0" in log_text
    needles = _needles()
    assert file_hits(tmp_path, needles) == []
    for ip in ADDRESSES:
        for packed in packed_forms(ip):
            for path in tmp_path.rglob("*"):
                if path.is_file() and path.suffix in ("", ".log", ".txt", ".json", ".sql"):
                    assert packed not in path.read_bytes(), path
    if engine == "embedded":
        from storage.embedded import EmbeddedStore  # noqa: F401  (same process may hold another dir)

        check = subprocess.run(
            [sys.executable, "-c", _COUNT_AND_SCAN, str(data_dir), *needles],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert check.returncode == 0, check.stderr
        counted, hits = check.stdout.strip().split("\n", 1) if "\n" in check.stdout.strip() else (check.stdout, "")
        assert int(counted) == 3
        assert hits.strip() == ""
    else:
        from storage.server import ServerStore

        server_store = ServerStore(env["TELLER_CLICKHOUSE_URL"])
        assert server_store.query("SELECT count() FROM events")[0][0] == 3
        assert table_hits(server_store, needles) == []
        server_store.close()


# Runs in a child process: the embedded data dir of the stopped server can only be opened by a new process.
_COUNT_AND_SCAN = """
import sys
from pathlib import Path
sys.path.insert(0, "tests")
from privacy import table_hits
from storage.embedded import EmbeddedStore
store = EmbeddedStore(Path(sys.argv[1]))
print(store.query("SELECT count() FROM events")[0][0])
for hit in table_hits(store, sys.argv[2:]):
    print(hit)
store.close()
"""
