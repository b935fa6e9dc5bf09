"""The CLI beside a running embedded `teller serve`: commands go over the owner-only socket in the data dir."""

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from teller_process import TellerProcess

from teller.control_socket import send_command, socket_path


def teller(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run `teller ARGS` in a child process, as a user at a shell does."""
    return subprocess.run(
        [sys.executable, "-m", "teller.cli", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[TellerProcess]:
    """A real `teller serve` on the embedded engine in a fresh data dir."""
    process = TellerProcess(tmp_path, data_dir=str(tmp_path / "data"), site_refresh_interval="3600")
    try:
        process.start()
        yield process
    finally:
        if process.process is not None and process.process.poll() is None:
            process.terminate()
        process.stop_quietly()


def test_cli_commands_run_inside_the_serving_process(served: TellerProcess, tmp_path: Path) -> None:
    env = served.env
    path = socket_path(tmp_path / "data")
    mode = os.stat(path).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600 and os.stat(path).st_uid == os.geteuid()
    added = teller(["sites", "add", "live.test", "--timezone", "Europe/Oslo"], env)
    assert added.returncode == 0 and added.stdout.strip() == "added live.test (Europe/Oslo)", added.stderr
    # The serving process reloaded its sites: the next event of the site is taken at once.
    event = {"n": "pageview", "u": "https://live.test/", "d": "live.test"}
    answer = httpx.post(f"{served.url}/api/event", json=event, headers={"User-Agent": "Mozilla/5.0 Firefox/120.0"})
    assert answer.status_code == 202 and "x-teller-dropped" not in answer.headers
    user = teller(["users", "add", "ops@example.com", "--role", "admin"], env, stdin="a long enough password\n")
    assert user.returncode == 0 and user.stdout.strip() == "added ops@example.com (admin)", user.stderr
    listed = teller(["users", "list"], env)
    assert listed.stdout.strip() == "ops@example.com\tadmin"
    key = teller(["api-keys", "create", "--name", "ops"], env)
    assert key.returncode == 0 and len(key.stdout.strip()) > 20
    stats = httpx.post(
        f"{served.url}/api/v2/query",
        json={"site_id": "live.test", "metrics": ["visitors"], "date_range": "day"},
        headers={"Authorization": f"Bearer {key.stdout.strip()}"},
    )
    assert stats.status_code == 200, stats.text
    # Errors come back as the command's own one-line message and exit status.
    refused = teller(["users", "add", "ops@example.com"], env, stdin="a long enough password\n")
    assert refused.returncode == 1 and refused.stderr.strip() == "teller: error: ops@example.com already exists"
    assert teller(["sites", "nonsense"], env).returncode == 2
    # `serve` is never run inside: a second server on the same data dir still fails with one line.
    second = teller(["serve", "--port", "1"], env)
    assert second.returncode == 1 and "in use" in second.stderr and "Traceback" not in second.stderr
    assert "ops@example.com" not in served.log()  # commands are not logged


def test_the_socket_refuses_garbage_and_is_gone_after_a_stop(served: TellerProcess, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert send_command(data_dir, ["serve"], "") == (
        2,
        "",
        "teller: error: this command does not run inside `teller serve`\n",
    )
    import socket

    with socket.socket(socket.AF_UNIX) as raw:
        raw.connect(str(socket_path(data_dir)))
        raw.sendall(b"{not json")
        raw.shutdown(socket.SHUT_WR)
        assert b"unreadable command" in raw.recv(4096)
    served.terminate()
    assert not socket_path(data_dir).exists()
    assert teller(["sites", "list"], served.env).returncode == 0  # the CLI opens the data dir itself again


def test_a_data_dir_held_by_a_process_without_a_socket_gives_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELLER_")}
    env["TELLER_DATA_DIR"] = str(tmp_path / "data")
    hold = "import sys, time\nfrom pathlib import Path\nfrom storage.embedded import EmbeddedStore\n"
    hold += "store = EmbeddedStore(Path(sys.argv[1]))\nprint('ready', flush=True)\ntime.sleep(120)\n"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, env["TELLER_DATA_DIR"]], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = teller(["users", "list"], env)
        assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "in use by another Teller process" in result.stderr and "Traceback" not in result.stderr
    finally:
        holder.terminate()
        holder.wait(timeout=30)
