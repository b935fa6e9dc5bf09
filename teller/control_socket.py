"""CLI commands while `teller serve` holds the embedded data dir: a Unix socket in the data dir, owner only.

The serving process listens on <data dir>/teller.sock (mode 0600, and it checks the peer's uid); a CLI
that finds the data dir locked sends its arguments and standard input there and prints the answer.
No network port and no secret: the file system's permissions decide who may connect.
"""

import json
import os
import socket
import socketserver
import struct
import threading
from collections.abc import Callable
from pathlib import Path

SOCKET_NAME = "teller.sock"
MAX_REQUEST_BYTES = 1 << 20
MAX_STDIN_BYTES = 64 << 10
# A command's answer (demo-data may write for minutes).
ANSWER_SECONDS = 900.0

# argv and standard input -> (exit status, standard output, standard error)
Runner = Callable[[list[str], str], tuple[int, str, str]]


def socket_path(data_dir: Path) -> Path:
    """Where the serving process listens."""
    return data_dir / SOCKET_NAME


def _peer_uid(connection: socket.socket) -> int:
    """The uid of the process at the other end (Linux SO_PEERCRED)."""
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", credentials)[1]


def _read_all(connection: socket.socket, limit: int) -> bytes | None:
    """Everything the peer sends until it shuts its side, or None past limit bytes."""
    chunks, size = [], 0
    while chunk := connection.recv(65536):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class _Handler(socketserver.BaseRequestHandler):
    """One command: a JSON request in, a JSON answer out."""

    server: "_Server"

    def handle(self) -> None:
        connection: socket.socket = self.request
        connection.settimeout(30)
        if _peer_uid(connection) != os.geteuid():
            answer = (1, "", "teller: error: only the owner of the data dir may send commands\n")
        else:
            body = _read_all(connection, MAX_REQUEST_BYTES)
            try:
                request = json.loads(body or b"")
                argv = [str(part) for part in request["argv"]]
                stdin = str(request.get("stdin", ""))[:MAX_STDIN_BYTES]
            except (ValueError, KeyError, TypeError):
                answer = (2, "", "teller: error: unreadable command\n")
            else:
                with self.server.one_at_a_time:
                    answer = self.server.runner(argv, stdin)
        code, out, err = answer
        connection.sendall(json.dumps({"code": code, "stdout": out, "stderr": err}).encode())


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, runner: Runner) -> None:
        self.runner = runner
        self.one_at_a_time = threading.Lock()
        super().__init__(path, _Handler)


class ControlSocket:
    """The serving side: runs forwarded CLI commands with the serving process's store."""

    def __init__(self, data_dir: Path, runner: Runner) -> None:
        self.path = socket_path(data_dir)
        self.runner = runner
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen (replacing a socket file a killed process left; the data dir lock says it is ours)."""
        self.path.unlink(missing_ok=True)
        previous = os.umask(0o177)  # the socket file is created 0600, never briefly wider
        try:
            self._server = _Server(str(self.path), self.runner)
        finally:
            os.umask(previous)
        os.chmod(self.path, 0o600)
        self._thread = threading.Thread(target=self._server.serve_forever, name="teller-control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and remove the socket file."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.path.unlink(missing_ok=True)


def send_command(data_dir: Path, argv: list[str], stdin: str) -> tuple[int, str, str] | None:
    """Run a command in the process serving data_dir; None when no process listens there."""
    path = socket_path(data_dir)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(10)
        try:
            connection.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return None
        except PermissionError:
            return 1, "", f"teller: error: {path} belongs to another user; run the command as the data dir's owner\n"
        connection.sendall(json.dumps({"argv": argv, "stdin": stdin}).encode())
        connection.shutdown(socket.SHUT_WR)
        connection.settimeout(ANSWER_SECONDS)
        body = _read_all(connection, 64 << 20)
    answer = json.loads(body or b"{}")
    return int(answer.get("code", 1)), str(answer.get("stdout", "")), str(answer.get("stderr", ""))
