"""Operations endpoints and serving modes: probes, metrics, workers, JSON logs."""

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from harness import Harness
from teller_process import TellerProcess

from storage.store import Store


def test_probes_and_metrics(harness: Harness) -> None:
    client = harness.client()
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    assert client.get("/metrics").status_code == 401
    harness.add_site("ops.test")
    harness.pageview("ops.test", "/")
    harness.pageview("ops.test", "/", user_agent="curl/8")
    harness.flush()
    text = client.get("/metrics", headers={"Authorization": f"Bearer {harness.api_key}"}).text
    assert "teller_events_accepted_total 1.0" in text
    assert 'teller_events_dropped_total{reason="bot"} 1.0' in text
    assert "teller_rows_written_total 1.0" in text
    for name in ("teller_buffer_rows", "teller_spool_bytes", "teller_clickhouse_errors_total", "teller_flushes_total"):
        assert name in text


def test_readyz_reports_pending_migrations(store: Store, tmp_path: Path) -> None:
    harness = Harness(store, tmp_path)
    harness.start()
    try:
        store.execute("ALTER TABLE schema_migrations DELETE WHERE version = 1")
        deadline = time.monotonic() + 20
        while (
            store.query("SELECT count() FROM schema_migrations WHERE version = 1")[0][0] and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        response = harness.client().get("/readyz")
        assert response.status_code == 503
        assert "0001_events" in response.json()["reason"]
    finally:
        harness.stop()


def test_embedded_refuses_several_workers(tmp_path: Path) -> None:
    teller = TellerProcess(tmp_path, data_dir=str(tmp_path / "data"), workers="2")
    with pytest.raises(RuntimeError, match="embedded engine runs one worker"):
        teller.start()


def test_two_workers_share_visitors_and_metrics(server_database: str, tmp_path: Path) -> None:
    teller = TellerProcess(
        tmp_path,
        data_dir=str(tmp_path / "data"),
        clickhouse_url=server_database,
        workers="2",
        sites="workers.test",
        trusted_proxies="127.0.0.1",
        flush_interval="0.2",
        log_format="json",
        access_log="true",
    )
    teller.start()
    try:
        ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
        # New connections each time, so the kernel spreads them over both workers.
        for index in range(40):
            response = httpx.post(
                f"{teller.url}/api/event",
                content=f'{{"n":"pageview","u":"https://workers.test/p{index % 4}","d":"workers.test"}}',
                headers={"User-Agent": ua, "X-Forwarded-For": "195.159.103.82", "Connection": "close"},
            )
            assert response.status_code == 202
        time.sleep(1.0)
        from storage.server import ServerStore

        store = ServerStore(server_database)
        rows = store.query("SELECT count(), uniqExact(visitor_id) FROM events WHERE site = 'workers.test'")
        store.close()
        assert rows == [(40, 1)]  # both workers hashed the visitor with the same shared salt
        log_lines = [json.loads(line) for line in teller.log().splitlines() if line.startswith("{")]
        access = [line for line in log_lines if line.get("path") == "/api/event"]
        assert len(access) == 40 and {line["client"].split(":")[0] for line in access} == {"195.159.103.0"}
        assert len({line["pid"] for line in access}) == 2, "both workers took requests"
        key = (
            subprocess.run(
                [sys.executable, "-m", "teller.cli", "api-keys", "create"],
                env=teller.env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        deadline, text = time.monotonic() + 15, ""
        while time.monotonic() < deadline and "teller_events_accepted_total 40.0" not in text:
            text = httpx.get(f"{teller.url}/metrics", headers={"Authorization": f"Bearer {key}"}).text
            time.sleep(0.5)
        assert "teller_events_accepted_total 40.0" in text  # summed over both workers
    finally:
        teller.terminate()
    assert "195.159.103.82" not in teller.log()
