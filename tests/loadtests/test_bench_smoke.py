"""A few seconds of the benchmark on both engines: it runs end to end and every accepted event is stored."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wrk() -> str:
    """The wrk binary; missing wrk fails under CI (.ci/run installs it) and skips elsewhere."""
    found = shutil.which("wrk")
    if found is None:
        message = "wrk is not installed (apt-get install wrk)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def test_bench_smoke_counts_match(wrk: str, server_database: str, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    command = [
        sys.executable,
        "-m",
        "loadtests.bench",
        "--seconds",
        "2",
        "--latency-seconds",
        "1",
        "--batch-seconds",
        "1",
        "--warmup",
        "1",
        "--clickhouse-url",
        server_database,
        "--json",
        str(out),
        "--keep",
        str(tmp_path / "work"),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    reports = {report["name"]: report for report in json.loads(out.read_text())}
    assert set(reports) == {"raw-asgi", "bare", "teller-embedded", "teller-server"}
    for name in ("teller-embedded", "teller-server"):
        report = reports[name]
        assert report["accepted"] > 1000, report
        assert report["stored"] == report["accepted"], report
        assert report["incomplete_runs"] == 0, report
        assert report["batch"]["accepted"] > 0 and report["max"]["dropped"] > 0, report
        assert report["max_lag_ms"] > 0, report  # the event loop's delay was sampled
    assert "teller-embedded: accepted" in done.stdout
