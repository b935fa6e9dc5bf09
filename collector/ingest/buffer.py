"""In-memory write buffer: rows are flushed to ClickHouse at N rows, every T seconds, and on stop."""

import logging
import threading
import time
from collections.abc import Sequence

from storage.store import Store, StoreError

log = logging.getLogger("teller.buffer")


class BufferFull(RuntimeError):
    """The buffer holds its maximum number of rows; the caller should answer 503."""


class WriteBuffer:
    """Collects row tuples for one table; a background thread writes them in batches."""

    def __init__(
        self,
        store: Store,
        table: str,
        columns: Sequence[str],
        flush_rows: int = 10_000,
        flush_interval: float = 1.0,
        max_rows: int = 1_000_000,
    ) -> None:
        self.store = store
        self.table = table
        self.columns = list(columns)
        self.flush_rows = flush_rows
        self.flush_interval = flush_interval
        self.max_rows = max(max_rows, flush_rows)
        self.rows: list[tuple] = []
        self.written = 0
        self.failed_flushes = 0
        self.flushes = 0
        self.flush_seconds = 0.0
        self._pending: list[tuple] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self.rows) + len(self._pending)

    def append(self, row: tuple) -> None:
        """Add one row; raise BufferFull when the buffer is at its limit."""
        with self._lock:
            if len(self.rows) + len(self._pending) >= self.max_rows:
                raise BufferFull(self.table)
            self.rows.append(row)
            if len(self.rows) >= self.flush_rows:
                self._wake.set()

    def extend(self, rows: Sequence[tuple]) -> None:
        """Add rows; all or none are taken (BufferFull)."""
        with self._lock:
            if len(self.rows) + len(self._pending) + len(rows) > self.max_rows:
                raise BufferFull(self.table)
            self.rows.extend(rows)
            if len(self.rows) >= self.flush_rows:
                self._wake.set()

    def flush(self) -> int:
        """Write everything buffered now; on failure keep the rows for the next try. Return rows written."""
        with self._flush_lock:
            with self._lock:
                self._pending.extend(self.rows)
                self.rows = []
            # _pending is only touched under _flush_lock, so appends never race with this write.
            if not self._pending:
                return 0
            batch = self._pending
            try:
                self.store.insert(self.table, self.columns, list(zip(*batch, strict=True)))
            except StoreError as error:
                self.failed_flushes += 1
                log.warning("writing %d rows to %s failed, will retry: %s", len(batch), self.table, error)
                return 0
            self._pending = []
            self.written += len(batch)
            return len(batch)

    def start(self) -> None:
        """Start the background flush thread."""
        self._thread = threading.Thread(target=self._loop, name=f"teller-flush-{self.table}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        """Flush on every tick or when enough rows arrived; back off after a failure."""
        delay = self.flush_interval
        while not self._stop.is_set():
            self._wake.wait(delay)
            self._wake.clear()
            started = time.monotonic()
            failures = self.failed_flushes
            if self.flush():
                self.flushes += 1
                self.flush_seconds += time.monotonic() - started
            if self.failed_flushes > failures:
                # Capped so a recovered ClickHouse is noticed within a few seconds.
                delay = min(delay * 2, 5.0)
            else:
                delay = max(self.flush_interval - (time.monotonic() - started), 0.0) or self.flush_interval

    def stop(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=30)
        self.flush()
