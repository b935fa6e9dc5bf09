"""A throwaway ClickHouse server (Debian's 18.16 package) on loopback, for tests."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from xml.sax.saxutils import escape

DEFAULT_BINARY = "/usr/sbin/clickhouse-server"
BINARY_ENV = "TELLER_TEST_CLICKHOUSE_SERVER"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

# Caches are allocated on demand, but 18.16 defaults to 5 GB of marks and 8 GB of uncompressed blocks;
# a test server never needs more than a few MB.
CONFIG_XML = """<?xml version="1.0"?>
<yandex>
    <logger>
        <console>1</console>
        <level>warning</level>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <listen_try>0</listen_try>
    <tcp_port>{tcp_port}</tcp_port>
    <http_port>{http_port}</http_port>
    <path>{path}/</path>
    <tmp_path>{tmp_path}/</tmp_path>
    <user_files_path>{user_files_path}/</user_files_path>
    <format_schema_path>{format_schema_path}/</format_schema_path>
    <users_config>{users_config}</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <umask>022</umask>
    <mlock_executable>false</mlock_executable>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>64</max_concurrent_queries>
    <uncompressed_cache_size>16777216</uncompressed_cache_size>
    <mark_cache_size>16777216</mark_cache_size>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
{extra_config}
</yandex>
"""

USERS_XML = """<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>2000000000</max_memory_usage>
            <!-- An idle native connection checks for shutdown once per poll_interval (default 10 s),
                 which otherwise holds up SIGTERM until the kill deadline. -->
            <poll_interval>1</poll_interval>
            <allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
"""

_PR_SET_PDEATHSIG = 1
_running: set[ThrowawayClickHouse] = set()


def clickhouse_server_binary() -> str | None:
    """Return the path of the clickhouse-server binary to use, or None if there is none."""
    override = os.environ.get(BINARY_ENV)
    if override:
        return override if os.access(override, os.X_OK) else None
    if os.access(DEFAULT_BINARY, os.X_OK):
        return DEFAULT_BINARY
    return shutil.which("clickhouse-server")


def clickhouse_server_available() -> bool:
    """Tell whether a clickhouse-server binary is installed."""
    return clickhouse_server_binary() is not None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this child when the test process dies, so no server is left behind."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ClickHouseStartError(RuntimeError):
    """The server exited or did not answer /ping in time."""


class ThrowawayClickHouse:
    """A clickhouse-server process with its own ports, config and data in a temporary directory."""

    def __init__(self, path: str | Path | None = None, binary: str | None = None, extra_config: str = "") -> None:
        """Prepare (but do not start) a server; a given `path` is kept, a temporary one is removed."""
        # XML put inside <yandex>, e.g. <remote_servers>; it may be set until start() writes the config.
        self.extra_config = extra_config
        self.binary = binary or clickhouse_server_binary() or DEFAULT_BINARY
        self._owns_path = path is None
        self.path = Path(tempfile.mkdtemp(prefix="teller-clickhouse-")) if path is None else Path(path)
        self.tcp_port = free_port()
        self.http_port = free_port()
        while self.http_port == self.tcp_port:
            self.http_port = free_port()
        self.stderr_path = self.path / "server.stderr"
        self.config_path = self.path / "config.xml"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the URL of the `default` database on this server."""
        return self.database_url("default")

    def database_url(self, database: str) -> str:
        """Return the clickhouse:// URL of `database` on this server."""
        return f"clickhouse://default:@127.0.0.1:{self.tcp_port}/{database}"

    @property
    def running(self) -> bool:
        """Tell whether the server process is alive."""
        return self.process is not None and self.process.poll() is None

    def _write_config(self) -> None:
        """Write config.xml and users.xml; every path the server writes to lies under `self.path`."""
        dirs = {name: self.path / name for name in ("data", "tmp", "user_files", "format_schemas")}
        for directory in dirs.values():
            directory.mkdir(parents=True, exist_ok=True)
        users_path = self.path / "users.xml"
        users_path.write_text(USERS_XML)
        self.config_path.write_text(
            CONFIG_XML.format(
                tcp_port=self.tcp_port,
                http_port=self.http_port,
                path=escape(str(dirs["data"])),
                tmp_path=escape(str(dirs["tmp"])),
                user_files_path=escape(str(dirs["user_files"])),
                format_schema_path=escape(str(dirs["format_schemas"])),
                users_config=escape(str(users_path)),
                extra_config=self.extra_config,
            )
        )

    def start(self) -> None:
        """Start the server and wait until /ping answers; raise ClickHouseStartError if it does not."""
        if self.running:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        self._write_config()
        with open(self.stderr_path, "ab") as log:
            offset = log.tell()
            self.process = subprocess.Popen(
                [self.binary, f"--config-file={self.config_path}"],
                cwd=self.path,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent,
            )
        _running.add(self)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                code = self.process.returncode
                self._forget()
                raise ClickHouseStartError(
                    f"clickhouse-server exited with code {code} while starting:\n{self.stderr_tail(offset)}"
                )
            if self._ping():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ClickHouseStartError(
                    f"clickhouse-server did not answer /ping within {START_TIMEOUT:.0f} s:\n{self.stderr_tail(offset)}"
                )
            time.sleep(0.05)

    def _ping(self) -> bool:
        """Tell whether the HTTP interface answers `Ok.`."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/ping", timeout=1) as response:
                return bool(response.read().strip() == b"Ok.")
        except (OSError, urllib.error.URLError):
            return False

    def stop(self) -> None:
        """Send SIGTERM, wait up to 10 s, then SIGKILL."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._forget()

    def kill(self) -> None:
        """Kill the server with SIGKILL, as a crash would."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
            process.wait()
        self._forget()

    def restart(self) -> None:
        """Stop the server and start it again on the same ports and data directory."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop the server and remove the temporary directory (a directory passed in is kept)."""
        self.stop()
        if self._owns_path:
            shutil.rmtree(self.path, ignore_errors=True)

    def stderr_tail(self, offset: int = 0, lines: int = 40) -> str:
        """Return the last lines the server wrote to stderr after byte `offset`."""
        try:
            with open(self.stderr_path, "rb") as log:
                log.seek(offset)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return "(no stderr captured)"
        return "\n".join(text.splitlines()[-lines:]) or "(stderr is empty)"

    def _forget(self) -> None:
        """Drop the reference to an exited process."""
        self.process = None
        _running.discard(self)

    def __enter__(self) -> ThrowawayClickHouse:
        """Start the server."""
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server and remove its temporary directory."""
        self.cleanup()

    def __repr__(self) -> str:
        """Show the ports and directory."""
        ports = f"tcp_port={self.tcp_port}, http_port={self.http_port}"
        return f"ThrowawayClickHouse({ports}, path={self.path!r})"


@atexit.register
def _stop_all() -> None:
    """Stop servers still running when the interpreter exits."""
    for server in list(_running):
        server.stop()
