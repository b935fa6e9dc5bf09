"""The Batcher with the memory sink: batches, all-or-none holds, retries, the flush thread and stop."""

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from collector.ingest.batcher import Batcher, BufferFull, MemorySink
from storage.store import StoreError

COLUMNS = ("site", "n")


class _Store:
    """Records inserted rows, and refuses inserts while `down` is set."""

    def __init__(self) -> None:
        self.batches: list[list[tuple]] = []
        self.down = False
        self.inserted = threading.Event()

    def insert(self, table: str, columns: Sequence[str], data: Any) -> None:
        if self.down:
            raise StoreError("connection refused")
        assert table == "t" and list(columns) == list(COLUMNS)
        self.batches.append(list(zip(*data, strict=True)))
        self.inserted.set()


def _batcher(store: _Store, **options: Any) -> Batcher:
    return Batcher(MemorySink(store, "t", COLUMNS), **options)  # type: ignore[arg-type]


def test_a_failed_write_keeps_the_rows_for_the_next_one() -> None:
    store = _Store()
    batcher = _batcher(store, flush_interval=3600)
    batcher.add([("a", 1), ("a", 2)])
    store.down = True
    assert batcher.flush() == 0 and batcher.failed_flushes == 1 and len(batcher) == 2
    batcher.add([("a", 3)])
    store.down = False
    assert batcher.flush() == 3 and batcher.written == 3 and len(batcher) == 0
    assert store.batches == [[("a", 1), ("a", 2), ("a", 3)]]  # one insert, in order
    assert batcher.flush() == 0 and store.batches == [[("a", 1), ("a", 2), ("a", 3)]]


def test_holds_are_all_or_none_up_to_max_rows() -> None:
    store = _Store()
    batcher = _batcher(store, flush_rows=2, flush_interval=3600, max_rows=3)
    batcher.add([("a", 1), ("a", 2)])
    with pytest.raises(BufferFull):
        batcher.add([("a", 3), ("a", 4)])
    assert len(batcher) == 2
    batcher.add([("a", 3)])
    store.down = True
    batcher.flush()
    with pytest.raises(BufferFull):  # rows kept after a failed write count too
        batcher.add([("a", 4)])


def test_the_thread_writes_at_flush_rows_and_stop_writes_the_rest() -> None:
    store = _Store()
    batcher = _batcher(store, flush_rows=3, flush_interval=3600)
    batcher.start()
    try:
        batcher.add([("a", 1), ("a", 2), ("a", 3)])
        assert store.inserted.wait(5)
        deadline = time.monotonic() + 5
        while batcher.flushes == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert batcher.flushes == 1 and batcher.flush_seconds > 0
        batcher.add([("a", 4)])
    finally:
        batcher.stop()
    assert store.batches == [[("a", 1), ("a", 2), ("a", 3)], [("a", 4)]]
    assert batcher.written == 4


class _BrokenOnce(MemorySink):
    """A memory sink whose first seal raises an unexpected error (an I/O error of a spool, say)."""

    def __init__(self, store: _Store) -> None:
        super().__init__(store, "t", COLUMNS)  # type: ignore[arg-type]
        self.broken = True

    def seal(self) -> None:
        if self.broken:
            self.broken = False
            raise OSError(5, "Input/output error")
        super().seal()


def test_an_unexpected_error_does_not_end_the_flush_thread(caplog: pytest.LogCaptureFixture) -> None:
    store = _Store()
    batcher = Batcher(_BrokenOnce(store), flush_interval=0.05)
    batcher.add([("a", 1)])
    batcher.start()
    try:
        assert store.inserted.wait(5), "the flush thread died with the first error"
    finally:
        batcher.stop()
    assert store.batches == [[("a", 1)]] and batcher.failed_flushes == 1
    assert "flushing t failed" in caplog.text
