"""The events sink: every row is in the spool before it is acknowledged, and replayed in order."""

import logging
from collections.abc import Sequence
from pathlib import Path

from collector.ingest.batcher import BufferFull, insert_rows
from collector.ingest.spool import Spool, SpoolFull
from storage.store import Store, StoreError

log = logging.getLogger("teller.buffer")


class SpooledSink:
    """Rows written ahead to a Spool; memory holds only the open batch, the spool holds everything unwritten."""

    def __init__(self, store: Store, table: str, columns: Sequence[str], spool: Spool) -> None:
        self.store = store
        self.table = table
        self.columns = list(columns)
        self.spool = spool
        self.rows: list[tuple] = []
        # Segments not yet in ClickHouse, oldest first, with their rows while still in memory.
        self._backlog: list[tuple[Path, list[tuple] | None]] = [(path, None) for path in spool.sealed()]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def backlog_segments(self) -> int:
        """Sealed segments waiting for ClickHouse."""
        return len(self._backlog)

    def hold(self, rows: Sequence[tuple], max_rows: int) -> int:
        """Spool rows in one write, then keep them for the next insert; all or none are taken."""
        if len(self.rows) + len(rows) > max_rows:
            raise BufferFull(self.table)
        try:
            self.spool.append(rows)
        except SpoolFull:
            raise BufferFull(self.table) from None
        self.rows.extend(rows)
        return len(self.rows)

    def seal(self) -> None:
        """Seal the open segment; it joins the backlog with its rows."""
        try:
            segment = self.spool.seal()
        except OSError as error:
            # Nothing changed: the rows stay in the open segment and in memory, and the next flush seals them.
            log.warning("sealing a spool segment failed, retrying at the next flush: %s", error)
            return
        batch, self.rows = self.rows, []
        if segment is not None:
            self._backlog.append((segment, batch))

    def write(self) -> int | None:
        """Write the oldest backlog segment and delete it; on failure it stays on disk, in order."""
        if not self._backlog:
            return None
        segment, rows = self._backlog[0]
        if rows is None:
            rows = Spool.read(segment)
        try:
            if rows:
                insert_rows(self.store, self.table, self.columns, rows)
        except StoreError as error:
            # The rows are on disk: drop every waiting segment's from memory so an outage cannot exhaust it.
            self._backlog = [(path, None) for path, _ in self._backlog]
            log.warning(
                "writing %d rows to %s failed, %d segments spooled: %s",
                len(rows),
                self.table,
                len(self._backlog),
                error,
            )
            raise
        # A crash between the insert above and this unlink replays this one segment once more.
        self.spool.remove(segment)
        self._backlog.pop(0)
        return len(rows)

    def close(self) -> None:
        """Close the spool (a segment left open is sealed and replayed at the next start)."""
        self.spool.close()
