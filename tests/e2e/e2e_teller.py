"""Teller as a real `teller serve` subprocess with its own embedded data dir (chdb allows one per process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from teller_process import TellerProcess as BaseTellerProcess
from teller_process import free_port

__all__ = ["TellerProcess", "_teller_command", "free_port"]


def _teller_command() -> list[str]:
    """The `teller` command as this Python runs it."""
    return [sys.executable, "-m", "teller.cli"]


class TellerProcess(BaseTellerProcess):
    """Creates an API key, then runs `teller serve` on the embedded engine until stopped."""

    def __init__(self, data_dir: Path, sites: list[str]) -> None:
        super().__init__(
            data_dir,
            data_dir=str(data_dir / "data"),
            sites=",".join(sites),
            flush_interval="0.2",
            site_refresh_interval="1",
        )
        self.api_key = ""

    def start(self, timeout: float = 60.0) -> None:
        """Create the key (the CLI needs the data dir to itself), then start serving."""
        created = subprocess.run(
            [*_teller_command(), "api-keys", "create", "--name", "e2e"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        self.api_key = created.stdout.strip().splitlines()[-1]
        super().start(timeout)

    def query(self, body: dict) -> dict:
        """POST a stats query and return the JSON answer."""
        response = httpx.post(
            f"{self.url}/api/v2/query", json=body, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit."""
        if self.process is not None and self.process.poll() is None:
            try:
                self.terminate(timeout=20)
            except subprocess.TimeoutExpired:
                self.stop_quietly()
