"""Faults injected into a real `teller serve`: ClickHouse outage, kill -9, SIGTERM, overload.

Every test counts the events answered 202 (not dropped) and checks that exactly that many reach
ClickHouse. The numbers of each run are printed (pytest -s shows them).
"""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from clickhouse_server import ThrowawayClickHouse
from harness import FIREFOX
from privacy import file_hits, ip_forms
from teller_process import TellerProcess

from storage.server import ServerStore

SITE = "faults.test"
CLIENT_IP = "195.159.103.82"


@pytest.fixture
def clickhouse(tmp_path: Path) -> Iterator[ThrowawayClickHouse]:
    """A ClickHouse server of this test's own, free to be stopped and started."""
    server = ThrowawayClickHouse()
    server.start()
    yield server
    server.cleanup() if hasattr(server, "cleanup") else server.stop()


class Sender:
    """Posts pageviews in a background thread and counts the acknowledged ones."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.acknowledged = 0
        self.refused = 0
        self.failed = 0
        # Requests that reached Teller but got no answer (kill -9 mid-request): each may be stored once.
        self.unanswered = 0
        self.retry_after: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, count: int, client: httpx.Client) -> None:
        """Send count events now."""
        for index in range(count):
            if self._stop.is_set():
                return
            try:
                response = client.post(
                    f"{self.url}/api/event",
                    content=f'{{"n":"pageview","u":"https://{SITE}/p{index % 50}","d":"{SITE}"}}',
                    headers={"User-Agent": FIREFOX, "X-Forwarded-For": CLIENT_IP, "Content-Type": "text/plain"},
                )
            except httpx.ConnectError:
                self.failed += 1
                continue
            except httpx.HTTPError:
                self.failed += 1
                self.unanswered += 1
                continue
            if response.status_code == 202 and "x-teller-dropped" not in response.headers:
                self.acknowledged += 1
            elif response.status_code == 503:
                self.refused += 1
                self.retry_after.add(response.headers.get("retry-after", ""))
            else:
                raise AssertionError(f"unexpected answer {response.status_code}: {response.text}")

    def start(self, count: int) -> None:
        """Send count events in a thread."""

        def run() -> None:
            with httpx.Client(timeout=10) as client:
                self.send(count, client)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def join(self) -> None:
        assert self._thread is not None
        self._thread.join(timeout=300)

    def stop(self) -> None:
        self._stop.set()


def _server_count(url: str) -> int:
    store = ServerStore(url)
    try:
        return store.query("SELECT count() FROM events WHERE site = %(s)s", {"s": SITE})[0][0]
    finally:
        store.close()


def _wait_for_count(url: str, expected: int, unanswered: int = 0, timeout: float = 60.0) -> float:
    """Seconds until ClickHouse counts the acknowledged events (plus at most the unanswered ones)."""
    started = time.monotonic()
    count = -1
    while time.monotonic() - started < timeout:
        try:
            count = _server_count(url)
        except Exception:  # noqa: BLE001  (the server may still be starting)
            count = -1
        assert count <= expected + unanswered, f"{count} events counted for {expected} acknowledged"
        if count >= expected:
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"{count} events counted after {timeout} s, expected {expected}")


def _teller(tmp_path: Path, url: str, **extra: str) -> TellerProcess:
    settings = {"flush_interval": "0.5", "rate_limit": "0", **extra}
    return TellerProcess(
        tmp_path,
        data_dir=str(tmp_path / "data"),
        clickhouse_url=url,
        sites=SITE,
        trusted_proxies="127.0.0.1",
        **settings,
    )


def test_clickhouse_outage_loses_nothing(clickhouse: ThrowawayClickHouse, tmp_path: Path) -> None:
    url = clickhouse.url
    teller = _teller(tmp_path, url)
    teller.start()
    try:
        sender = Sender(teller.url)
        with httpx.Client(timeout=10) as client:
            sender.send(300, client)
            clickhouse.stop()
            down_at = time.monotonic()
            sender.send(600, client)  # ClickHouse is down: these go to the spool
            time.sleep(1.5)  # several failed flushes
            spooled = sum(p.stat().st_size for p in (tmp_path / "data" / "spool").rglob("*.sealed"))
            clickhouse.start()
            up_at = time.monotonic()
            sender.send(300, client)
        recovery = _wait_for_count(url, sender.acknowledged)
        print(
            f"\noutage: sent 1200, acknowledged {sender.acknowledged}, counted {sender.acknowledged}, "
            f"down {up_at - down_at:.1f} s, {spooled} bytes spooled, drained {recovery:.1f} s after restart"
        )
        assert sender.acknowledged == 1200 and sender.refused == 0
        assert spooled > 0
    finally:
        teller.stop_quietly()
    assert file_hits(tmp_path, ip_forms(CLIENT_IP)) == []


def test_kill_9_loses_no_acknowledged_event(clickhouse: ThrowawayClickHouse, tmp_path: Path) -> None:
    url = clickhouse.url
    # A long flush interval: everything acknowledged before the kill is only in the spool.
    teller = _teller(tmp_path, url, flush_interval="3600", flush_rows="1000000")
    teller.start()
    sender = Sender(teller.url)
    sender.start(100_000)
    time.sleep(2.0)
    teller.kill()
    sender.stop()
    sender.join()
    acknowledged = sender.acknowledged
    assert _server_count(url) == 0  # nothing was flushed before the crash
    restarted = _teller(tmp_path, url)
    restarted.start()
    try:
        # A request spooled just before the kill is stored although its answer never came.
        recovery = _wait_for_count(url, acknowledged, unanswered=sender.unanswered)
        counted = _server_count(url)
        print(
            f"\nkill -9: acknowledged {acknowledged} before the kill, {sender.unanswered} unanswered, "
            f"counted {counted} {recovery:.1f} s after the restart"
        )
        assert acknowledged > 100 and acknowledged <= counted <= acknowledged + sender.unanswered
    finally:
        restarted.stop_quietly()
    assert file_hits(tmp_path, ip_forms(CLIENT_IP)) == []


def test_sigterm_flushes_and_exits_quickly(clickhouse: ThrowawayClickHouse, tmp_path: Path) -> None:
    teller = _teller(tmp_path, clickhouse.url, flush_interval="3600", flush_rows="1000000")
    teller.start()
    sender = Sender(teller.url)
    with httpx.Client(timeout=10) as client:
        sender.send(500, client)
    seconds = teller.terminate()
    assert _server_count(clickhouse.url) == sender.acknowledged == 500
    assert not list((tmp_path / "data" / "spool").rglob("*.sealed"))
    print(f"\nSIGTERM: 500 buffered events written, exit after {seconds:.1f} s")
    assert seconds < 10


def test_overload_answers_503_and_memory_stays_bounded(clickhouse: ThrowawayClickHouse, tmp_path: Path) -> None:
    url = clickhouse.url
    teller = _teller(tmp_path, url, spool_max_bytes=str(1 << 20), spool_fsync="never")
    teller.start()
    try:
        clickhouse.stop()
        sender = Sender(teller.url)
        rss_before = teller.rss_mb()
        with httpx.Client(timeout=10) as client:
            for _ in range(20):
                sender.send(500, client)
                if sender.refused > 200:
                    break
        rss_after = teller.rss_mb()
        assert sender.refused > 0 and sender.retry_after == {"5"}
        assert rss_after - rss_before < 100, (rss_before, rss_after)
        assert teller.process is not None and teller.process.poll() is None
        clickhouse.start()
        recovery = _wait_for_count(url, sender.acknowledged)
        print(
            f"\noverload: acknowledged {sender.acknowledged}, refused {sender.refused} with 503, "
            f"RSS {rss_before:.0f} -> {rss_after:.0f} MiB, drained {recovery:.1f} s after restart"
        )
    finally:
        teller.stop_quietly()


def test_kill_9_embedded_engine(tmp_path: Path) -> None:
    """The default engine: acknowledged events survive kill -9 and are counted after the restart."""
    import datetime as dt
    import subprocess
    import sys

    env_settings = {
        "data_dir": str(tmp_path / "data"),
        "sites": SITE,
        "trusted_proxies": "127.0.0.1",
        "rate_limit": "0",
    }
    teller = TellerProcess(tmp_path, flush_interval="3600", flush_rows="1000000", **env_settings)
    created = subprocess.run(
        [sys.executable, "-m", "teller.cli", "api-keys", "create"],
        env=teller.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    key = created.stdout.strip().splitlines()[-1]
    teller.start()
    sender = Sender(teller.url)
    sender.start(100_000)
    time.sleep(2.0)
    teller.kill()
    sender.stop()
    sender.join()
    restarted = TellerProcess(tmp_path, flush_interval="0.2", **env_settings)
    restarted.start()
    try:
        today = dt.datetime.now(dt.UTC).date()
        query = {
            "site_id": SITE,
            "metrics": ["pageviews"],
            "date_range": [str(today - dt.timedelta(days=1)), str(today)],
        }
        deadline = time.monotonic() + 60
        counted = -1
        while time.monotonic() < deadline and counted < sender.acknowledged:
            response = httpx.post(
                f"{restarted.url}/api/v2/query", json=query, headers={"Authorization": f"Bearer {key}"}
            )
            counted = response.json()["results"][0]["metrics"][0]
            time.sleep(0.2)
        print(
            f"\nkill -9 (embedded): acknowledged {sender.acknowledged}, "
            f"{sender.unanswered} unanswered, counted {counted}"
        )
        assert sender.acknowledged > 100
        assert sender.acknowledged <= counted <= sender.acknowledged + sender.unanswered
    finally:
        restarted.stop_quietly()
