"""A durable local spool: rows are appended to a segment file before an event is acknowledged.

Segments hold already-anonymised rows as JSON lines. The open segment is sealed at every flush; a
sealed segment is deleted once ClickHouse has its rows, and kept (and replayed in order) while
ClickHouse is unreachable or after a crash. os.write puts the bytes in the kernel's page cache, so an
acknowledged row survives `kill -9` of the process without fsync; fsync adds power-loss safety.

A write the file system refuses (ENOSPC, EDQUOT, EIO) is undone: the segment is cut back to its last
whole row, so a row that was not acknowledged is never replayed, and the caller answers 503.
"""

import errno
import logging
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path

import orjson

from storage.dir_lock import lock_dir

log = logging.getLogger("teller.spool")

FSYNC_POLICIES = ("never", "interval", "always")
_SEGMENT = re.compile(r"^(\d{12})\.(open|sealed)$")


class SpoolFull(RuntimeError):
    """The spool holds its maximum number of bytes, or its disk refused the write; the caller should answer 503."""


def claim_spool_dir(base: Path) -> tuple[Path, int]:
    """Lock the first free numbered directory under base, so processes never share a spool.

    A restarted process claims a directory a dead one left behind and replays its segments.
    """
    number = 0
    while (fd := lock_dir(base / str(number), "lock")) is None:
        number += 1
    return base / str(number), fd


class Spool:
    """Append-only segment files in one directory, sealed and consumed in sequence order."""

    def __init__(self, directory: Path, max_bytes: int = 1 << 30, fsync: str = "interval") -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync policy must be one of {', '.join(FSYNC_POLICIES)}")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.fsync = fsync
        self._lock = threading.Lock()
        existing = self._segments()
        # A segment left open by a crash holds acknowledged rows: seal it for replay.
        for number, state in existing:
            if state == "open":
                os.replace(self._path(number, "open"), self._path(number, "sealed"))
        self._sequence = max((number for number, _ in existing), default=0) + 1
        self.bytes = sum(self._path(n, "sealed").stat().st_size for n, _ in existing)
        self._open_bytes = 0
        # Set when a failed write could not be cut back: the next write starts a new line, so the fragment
        # stays a line of its own that replay skips instead of corrupting the row after it.
        self._torn = False
        self._refusing = False
        self._fd = self._open(self._sequence)

    def _path(self, number: int, state: str) -> Path:
        """File of a segment."""
        return self.directory / f"{number:012d}.{state}"

    def _segments(self) -> list[tuple[int, str]]:
        """(number, state) of every segment file, in order."""
        found = []
        for path in self.directory.iterdir():
            match = _SEGMENT.match(path.name)
            if match:
                found.append((int(match.group(1)), match.group(2)))
        return sorted(found)

    def _open(self, number: int) -> int:
        """Open a new segment for appending."""
        return os.open(self._path(number, "open"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def append(self, rows: Iterable[tuple]) -> None:
        """Write rows to the open segment in one system call; SpoolFull when over the limit or the disk refuses."""
        data = b"".join(orjson.dumps(row) + b"\n" for row in rows)
        with self._lock:
            if self.bytes + len(data) > self.max_bytes:
                raise SpoolFull(str(self.directory))
            if self._torn:
                data = b"\n" + data
            try:
                self._write_all(data)
                if self.fsync == "always":
                    os.fsync(self._fd)
            except OSError as error:
                self._undo(error)
                raise SpoolFull(f"{self.directory}: {error.strerror}") from None
            if self._refusing:
                self._refusing = False
                log.warning("the spool in %s takes writes again", self.directory)
            self._torn = False
            self.bytes += len(data)
            self._open_bytes += len(data)

    def _write_all(self, data: bytes) -> None:
        """os.write until every byte is written: a nearly full disk takes part of a write and refuses the rest."""
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            if written <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            view = view[written:]

    def _undo(self, error: OSError) -> None:
        """Cut the open segment back to its last whole row after a refused write."""
        if not self._refusing:
            self._refusing = True
            log.warning("the spool in %s refused a write, answering 503 until it takes them: %s", self.directory, error)
        try:
            os.ftruncate(self._fd, self._open_bytes)
        except OSError as truncating:
            size = os.fstat(self._fd).st_size
            left = size - self._open_bytes
            log.error("could not cut %d bytes of a refused write from the spool: %s", left, truncating)
            self.bytes += left
            self._open_bytes = size
            self._torn = True

    def seal(self) -> Path | None:
        """Close the open segment and start a new one; return the sealed file, or None if it was empty."""
        # An OSError (a full disk refusing the new segment's file) leaves the open segment as it was.
        with self._lock:
            if not self._open_bytes:
                return None
            if self.fsync != "never":
                try:
                    os.fsync(self._fd)
                except OSError as error:
                    # The rows are acknowledged and in memory for this flush's insert: only power loss before
                    # it could lose them, so the seal goes on.
                    log.warning("fsync of spool segment %d failed: %s", self._sequence, error)
            number = self._sequence
            fd = self._open(number + 1)
            try:
                os.replace(self._path(number, "open"), self._path(number, "sealed"))
            except OSError:
                os.close(fd)
                self._path(number + 1, "open").unlink(missing_ok=True)
                raise
            os.close(self._fd)
            self._fd = fd
            self._sequence += 1
            self._open_bytes = 0
            self._torn = False
            return self._path(number, "sealed")

    def sealed(self) -> list[Path]:
        """Sealed segments waiting to be written, oldest first."""
        return [self._path(n, s) for n, s in self._segments() if s == "sealed"]

    @staticmethod
    def read(path: Path) -> list[tuple]:
        """Rows of a sealed segment; a torn last line (crash mid-write of an unacknowledged row) is skipped."""
        rows = []
        for line in path.read_bytes().split(b"\n"):
            if not line:
                continue
            try:
                rows.append(tuple(orjson.loads(line)))
            except orjson.JSONDecodeError:
                log.warning("skipping a torn line in %s", path.name)
        return rows

    def remove(self, path: Path) -> None:
        """Delete a segment whose rows are stored."""
        size = path.stat().st_size
        path.unlink()
        with self._lock:
            self.bytes -= size

    def close(self) -> None:
        """Close the open segment (it is sealed and replayed at the next start if not empty)."""
        with self._lock:
            os.close(self._fd)
            if not self._open_bytes:
                self._path(self._sequence, "open").unlink(missing_ok=True)
