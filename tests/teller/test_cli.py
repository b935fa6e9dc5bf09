"""The `teller` command as a user runs it: help texts, migrate, sites, API keys, a busy data dir."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.api_keys import hash_key

SUBCOMMANDS = [
    [],
    ["serve"],
    ["migrate"],
    ["sites"],
    ["sites", "add"],
    ["sites", "list"],
    ["sites", "remove"],
    ["api-keys"],
    ["api-keys", "create"],
    ["api-keys", "list"],
    ["api-keys", "revoke"],
    ["reports"],
    ["reports", "add"],
    ["reports", "list"],
    ["reports", "remove"],
]


def teller(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `teller ARGS` in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "teller.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    """Environment for an embedded engine in a fresh data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELLER_")}
    return {**env, "TELLER_DATA_DIR": str(tmp_path / "data")}


@pytest.mark.parametrize("args", SUBCOMMANDS, ids=lambda a: " ".join(a) or "teller")
def test_every_command_has_useful_help(args: list[str], embedded_env: dict[str, str]) -> None:
    result = teller([*args, "--help"], embedded_env)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert len(result.stdout.split()) > 15


def _engines(request: pytest.FixtureRequest, env: dict[str, str], engine: str) -> dict[str, str]:
    """env pointed at the chosen engine."""
    if engine == "server":
        return {**env, "TELLER_CLICKHOUSE_URL": request.getfixturevalue("server_database")}
    return env


@pytest.mark.parametrize("engine", ["embedded", "server"])
def test_migrate_sites_and_keys(engine: str, embedded_env: dict[str, str], request: pytest.FixtureRequest) -> None:
    env = _engines(request, embedded_env, engine)
    first = teller(["migrate"], env)
    assert first.returncode == 0, first.stderr
    assert "applied 0001_events" in first.stdout
    again = teller(["migrate"], env)
    assert again.stdout.strip() == "schema is up to date"

    added = teller(["sites", "add", "https://www.Example.com/", "--timezone", "Europe/Oslo"], env)
    assert added.returncode == 0 and "example.com (Europe/Oslo)" in added.stdout
    assert teller(["sites", "list"], env).stdout.split()[:2] == ["example.com", "Europe/Oslo"]
    bad = teller(["sites", "add", "not a domain"], env)
    assert bad.returncode == 1 and bad.stderr.startswith("teller: error:") and "Traceback" not in bad.stderr

    created = teller(["api-keys", "create", "--name", "reports"], env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("tlr_")
    listed = teller(["api-keys", "list"], env).stdout
    assert hash_key(key)[:12] in listed and key not in listed
    revoked = teller(["api-keys", "revoke", hash_key(key)[:12]], env)
    assert revoked.returncode == 0, revoked.stderr
    assert teller(["api-keys", "list"], env).stdout.strip() == ""

    retention = teller(["retention", "run"], {**env, "TELLER_RETENTION_EVENTS_DAYS": "7"})
    assert retention.returncode == 0, retention.stderr
    assert "raw events 7 days" in retention.stdout


def test_busy_data_dir_gives_one_line_error(embedded_env: dict[str, str], tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, embedded_env["TELLER_DATA_DIR"]],
        env=embedded_env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = teller(["sites", "list"], embedded_env)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "in use by another Teller process" in lines[0]
        assert str(Path(embedded_env["TELLER_DATA_DIR"]).resolve()) in lines[0]
        served = teller(["serve", "--port", "1"], embedded_env)
        assert served.returncode == 1 and "in use" in served.stderr and "Traceback" not in served.stderr
    finally:
        holder.terminate()
        holder.wait(timeout=30)
    time.sleep(0.1)
    assert teller(["sites", "list"], embedded_env).returncode == 0


_HOLD = """
import sys, time
from pathlib import Path
from storage.embedded import EmbeddedStore
store = EmbeddedStore(Path(sys.argv[1]))
print("ready", flush=True)
time.sleep(120)
"""


def test_reports_add_list_remove(embedded_env: dict[str, str]) -> None:
    assert teller(["sites", "add", "example.com"], embedded_env).returncode == 0
    added = teller(["reports", "add", "example.com", "Editor@Example.com", "--kind", "weekly"], embedded_env)
    assert added.returncode == 0 and added.stdout.strip() == "added weekly for editor@example.com on example.com"
    spike = ["reports", "add", "example.com", "ops@example.com", "--kind", "spike", "--threshold", "50"]
    assert teller([*spike, "--every-hours", "6"], embedded_env).returncode == 0
    listed = teller(["reports", "list"], embedded_env)
    assert listed.stdout.splitlines() == [
        "example.com\tspike\tops@example.com\t>50 visitors/h, every 6 h",
        "example.com\tweekly\teditor@example.com",
    ]
    refused = teller(["reports", "add", "nowhere.test", "a@example.com"], embedded_env)
    assert refused.returncode == 1 and "no site nowhere.test" in refused.stderr
    bad = teller(["reports", "add", "example.com", "ops@example.com", "--kind", "spike"], embedded_env)
    assert bad.returncode == 1 and "threshold" in bad.stderr
    removed = teller(["reports", "remove", "example.com", "editor@example.com"], embedded_env)
    assert removed.returncode == 0
    again = teller(["reports", "remove", "example.com", "editor@example.com"], embedded_env)
    assert again.returncode == 1 and "has no weekly subscription" in again.stderr
    assert teller(["reports", "list", "example.com"], embedded_env).stdout.count("\n") == 1


def test_serve_options_become_the_settings_links_are_built_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`teller serve --port` reaches the settings, so e-mail links without TELLER_PUBLIC_URL name that port."""
    import uvicorn
    from typer.testing import CliRunner

    import teller.app
    from teller.cli import app
    from teller.report_job import ReportSender

    seen: dict[str, object] = {}

    def fake_create_app(settings: object, **kwargs: object) -> str:
        seen["settings"] = settings
        return "application"

    monkeypatch.setattr(teller.app, "create_app", fake_create_app)
    monkeypatch.setattr(uvicorn, "run", lambda application, **options: seen.update(options))
    for name in ("TELLER_HOST", "TELLER_PORT", "TELLER_WORKERS", "TELLER_PUBLIC_URL"):
        monkeypatch.setenv(name, "")  # recorded, so that what serve sets is undone after the test
        monkeypatch.delenv(name)
    monkeypatch.setenv("TELLER_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["serve", "--host", "127.0.0.2", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"]) == ("127.0.0.2", 8123)
    sender = ReportSender.__new__(ReportSender)
    sender.settings = seen["settings"]
    assert sender.base_url() == "http://127.0.0.2:8123"
