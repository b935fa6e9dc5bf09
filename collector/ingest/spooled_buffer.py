"""The events buffer: every row is in the spool before it is acknowledged, and replayed in order."""

import logging
from collections.abc import Sequence
from pathlib import Path

from collector.ingest.buffer import BufferFull, WriteBuffer
from collector.ingest.spool import Spool, SpoolFull
from storage.store import Store, StoreError

log = logging.getLogger("teller.buffer")


class SpooledBuffer(WriteBuffer):
    """A WriteBuffer whose rows are written ahead to a Spool; memory holds only the current batch."""

    def __init__(
        self,
        store: Store,
        table: str,
        columns: Sequence[str],
        spool: Spool,
        flush_rows: int = 10_000,
        flush_interval: float = 1.0,
        max_rows: int = 1_000_000,
    ) -> None:
        super().__init__(store, table, columns, flush_rows, flush_interval, max_rows)
        self.spool = spool
        # Segments not yet in ClickHouse, oldest first, with their rows while still in memory.
        self._backlog: list[tuple[Path, list[tuple] | None]] = [(path, None) for path in spool.sealed()]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def backlog_segments(self) -> int:
        """Sealed segments waiting for ClickHouse."""
        return len(self._backlog)

    def append(self, row: tuple) -> None:
        """Spool one row, then buffer it; raise BufferFull when memory or the spool is full."""
        self.extend((row,))

    def extend(self, rows: Sequence[tuple]) -> None:
        """Spool rows in one write, then buffer them; all or none are taken."""
        with self._lock:
            if len(self.rows) + len(rows) > self.max_rows:
                raise BufferFull(self.table)
            try:
                self.spool.append(rows)
            except SpoolFull:
                raise BufferFull(self.table) from None
            self.rows.extend(rows)
            if len(self.rows) >= self.flush_rows:
                self._wake.set()

    def flush(self) -> int:
        """Seal the current segment and write every waiting segment in order; return rows written."""
        with self._flush_lock:
            with self._lock:
                segment = self.spool.seal()
                batch, self.rows = self.rows, []
            if segment is not None:
                self._backlog.append((segment, batch))
            return self._drain()

    def _drain(self) -> int:
        """Write backlog segments oldest first; stop at the first failure, keeping order."""
        written = 0
        while self._backlog:
            segment, rows = self._backlog[0]
            if rows is None:
                rows = Spool.read(segment)
            try:
                if rows:
                    self.store.insert(self.table, self.columns, list(zip(*rows, strict=True)))
            except StoreError as error:
                self.failed_flushes += 1
                # The rows are on disk: drop them from memory so an outage cannot exhaust it.
                self._backlog[0] = (segment, None)
                log.warning(
                    "writing %d rows to %s failed, %d segments spooled: %s",
                    len(rows),
                    self.table,
                    len(self._backlog),
                    error,
                )
                return written
            # A crash between the insert above and this unlink replays this one segment once more.
            self.spool.remove(segment)
            self._backlog.pop(0)
            written += len(rows)
            self.written += len(rows)
        return written

    def stop(self) -> None:
        """Flush what is left and close the spool."""
        super().stop()
        self.spool.close()
