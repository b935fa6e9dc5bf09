"""A throwaway standalone ZooKeeper (Debian's 3.8 package) on loopback, for replicated ClickHouse tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from clickhouse_server import _die_with_parent, free_port

JAR = "/usr/share/java/zookeeper.jar"  # its manifest's Class-Path names every dependency
JAVA_ENV = "TELLER_TEST_JAVA"
START_TIMEOUT = 60.0


def java_binary() -> str | None:
    """The java executable to run ZooKeeper with, or None."""
    return os.environ.get(JAVA_ENV) or shutil.which("java")


def zookeeper_available() -> bool:
    """Tell whether ZooKeeper and a Java runtime are installed."""
    return os.access(JAR, os.R_OK) and java_binary() is not None


class ThrowawayZooKeeper:
    """A standalone ZooKeeper with its own port and data in a temporary directory."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="teller-zookeeper-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def config_xml(self) -> str:
        """The <zookeeper> section of a ClickHouse config pointing at this server."""
        return f"<zookeeper><node><host>127.0.0.1</host><port>{self.port}</port></node></zookeeper>"

    def _answers(self) -> bool:
        """Tell whether the server answers the srvr command as a running standalone server."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"srvr")
                return b"Mode: standalone" in sock.recv(4096)
        except OSError:
            return False

    def start(self) -> None:
        """Start the server and wait until it serves."""
        # ~1 s of JVM start on these machines; 128 MB of heap is plenty for a few test tables.
        command = [java_binary() or "java", "-Xmx128m", "-Dzookeeper.admin.enableServer=false", "-cp", JAR]
        command += ["org.apache.zookeeper.server.ZooKeeperServerMain", str(self.port), str(self.path / "data")]
        with open(self.path / "zookeeper.log", "ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=_die_with_parent
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log_tail = (self.path / "zookeeper.log").read_text(errors="replace")[-2000:]
                self.cleanup()
                raise RuntimeError(f"ZooKeeper did not start:\n{log_tail}")
            time.sleep(0.1)

    def cleanup(self) -> None:
        """Stop the server and remove its directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> ThrowawayZooKeeper:
        """Start the server."""
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the server and remove its directory."""
        self.cleanup()
