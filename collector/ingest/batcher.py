"""Batched writes to ClickHouse: at N rows, every T seconds, and on stop, with back-off while it fails.

A Batcher owns the thread, the lock and the counters; its sink holds the rows between writes and
writes them, so each table keeps its own rules for what is held, what survives a failed write and what
a crash may lose: MemorySink here, SpooledSink (events) in spooled_sink.py, SearchSumSink in search_sink.py.
"""

import logging
import threading
import time
from collections.abc import Sequence
from typing import Protocol

from storage.store import Store, StoreError

log = logging.getLogger("teller.buffer")


class BufferFull(RuntimeError):
    """The sink holds its maximum number of rows; the caller should answer 503."""


class Sink(Protocol):
    """Holds one table's rows between writes and writes them."""

    # The Batcher calls hold and seal under its lock and write under its flush lock: a write never runs
    # beside a seal or another write, but may run beside a hold.

    table: str

    def __len__(self) -> int:
        """Rows held in memory (the metrics gauge)."""
        ...

    def hold(self, rows: Sequence[tuple], max_rows: int) -> int:
        """Take rows, all or none (BufferFull when more than max_rows would be held); return rows in the open batch."""
        ...

    def seal(self) -> None:
        """Close the open batch: rows held from now on go to the next one."""
        ...

    def write(self) -> int | None:
        """Write the oldest sealed batch and return its rows, None when none waits; StoreError when it fails."""
        ...

    def close(self) -> None:
        """Release what the sink keeps open, after the last write."""
        ...


def insert_rows(store: Store, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """One columnar insert of row tuples."""
    store.insert(table, columns, list(zip(*rows, strict=True)))


class Batcher:
    """Puts rows in a sink and has a background thread write them in batches."""

    def __init__(
        self, sink: Sink, flush_rows: int = 10_000, flush_interval: float = 1.0, max_rows: int = 1_000_000
    ) -> None:
        self.sink = sink
        self.flush_rows = flush_rows
        self.flush_interval = flush_interval
        self.max_rows = max(max_rows, flush_rows)
        self.written = 0
        self.failed_flushes = 0
        self.flushes = 0
        self.flush_seconds = 0.0
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self.sink)

    def add(self, rows: Sequence[tuple]) -> None:
        """Hand rows to the sink; all or none are taken (BufferFull)."""
        with self._lock:
            if self.sink.hold(rows, self.max_rows) >= self.flush_rows:
                self._wake.set()

    def flush(self) -> int:
        """Seal the open batch, write the sealed ones oldest first until one fails; return rows written."""
        with self._flush_lock:
            with self._lock:
                self.sink.seal()
            written = 0
            while True:
                try:
                    rows = self.sink.write()
                except StoreError:
                    self.failed_flushes += 1
                    return written
                if rows is None:
                    return written
                written += rows
                self.written += rows

    def start(self) -> None:
        """Start the background flush thread."""
        self._thread = threading.Thread(target=self._loop, name=f"teller-flush-{self.sink.table}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        """Flush on every tick or when enough rows arrived; back off after a failure."""
        delay = self.flush_interval
        while not self._stop.is_set():
            self._wake.wait(delay)
            self._wake.clear()
            started = time.monotonic()
            failures = self.failed_flushes
            try:
                flushed = self.flush()
            except Exception:
                # A dead flush thread would leave ingest answering 503 for good: log it, back off, try again.
                log.exception("flushing %s failed", self.sink.table)
                self.failed_flushes += 1
                flushed = 0
            if flushed:
                self.flushes += 1
                self.flush_seconds += time.monotonic() - started
            if self.failed_flushes > failures:
                # Capped so a recovered ClickHouse is noticed within a few seconds.
                delay = min(delay * 2, 5.0)
            else:
                delay = max(self.flush_interval - (time.monotonic() - started), 0.0) or self.flush_interval

    def stop(self) -> None:
        """Stop the thread, write what is left and close the sink."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=30)
        self.flush()
        self.sink.close()


class MemorySink:
    """Rows in memory, written in one insert; a failed insert keeps them for the next try."""

    def __init__(self, store: Store, table: str, columns: Sequence[str]) -> None:
        self.store = store
        self.table = table
        self.columns = list(columns)
        self.rows: list[tuple] = []
        # Sealed rows; only write touches it, so holds never wait for an insert.
        self._sealed: list[tuple] = []

    def __len__(self) -> int:
        return len(self.rows) + len(self._sealed)

    def hold(self, rows: Sequence[tuple], max_rows: int) -> int:
        """Take rows, all or none; return rows in the open batch."""
        if len(self.rows) + len(self._sealed) + len(rows) > max_rows:
            raise BufferFull(self.table)
        self.rows.extend(rows)
        return len(self.rows)

    def seal(self) -> None:
        """Add the open batch to the sealed rows, which are written in one insert."""
        self._sealed.extend(self.rows)
        self.rows = []

    def write(self) -> int | None:
        """Insert the sealed rows; on failure keep them for the next try."""
        if not self._sealed:
            return None
        batch = self._sealed
        try:
            insert_rows(self.store, self.table, self.columns, batch)
        except StoreError as error:
            log.warning("writing %d rows to %s failed, will retry: %s", len(batch), self.table, error)
            raise
        self._sealed = []
        return len(batch)

    def close(self) -> None:
        """Nothing is kept open."""
