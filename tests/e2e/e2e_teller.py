"""Teller as a real `teller serve` subprocess with its own embedded data dir (chdb allows one per process)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

START_TIMEOUT = 60.0


def _teller_command() -> list[str]:
    """The console script beside this Python, or the CLI module run by it."""
    script = Path(sys.executable).with_name("teller")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from collector.cli import main; main()"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TellerProcess:
    """Creates an API key, then runs `teller serve` on a free port until stopped."""

    def __init__(self, data_dir: Path, sites: list[str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "teller.log"
        self.env = {
            **os.environ,
            "TELLER_DATA_DIR": str(data_dir / "data"),
            "TELLER_CLICKHOUSE_URL": "",
            "TELLER_SITES": ",".join(sites),
            "TELLER_FLUSH_INTERVAL": "0.2",
            "TELLER_SITE_REFRESH_INTERVAL": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.api_key = ""

    def start(self) -> None:
        """Create the key (the CLI needs the data dir to itself), start serving, wait for /healthz."""
        created = subprocess.run(
            [*_teller_command(), "api-keys", "create", "--name", "e2e"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        self.api_key = created.stdout.strip().splitlines()[-1]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*_teller_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"teller serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"teller serve did not answer /healthz in {START_TIMEOUT:.0f} s:\n{self.log()}")

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def query(self, body: dict) -> dict:
        """POST a stats query and return the JSON answer."""
        response = httpx.post(
            f"{self.url}/api/v2/query", json=body, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 20 s."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
