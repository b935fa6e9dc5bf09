"""The spool keeps acknowledged rows on disk until ClickHouse has them, in order, within its size."""

from pathlib import Path

import pytest

from collector.ingest.batcher import Batcher, BufferFull
from collector.ingest.event import EVENT_COLUMNS, Event
from collector.ingest.spool import Spool, claim_spool_dir
from collector.ingest.spooled_sink import SpooledSink
from storage.store import Store, StoreError


class FailingStore:
    """A store whose inserts fail while `down` is set, delegating to a real store otherwise."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.down = False
        self.engine = store.engine

    def insert(self, table: str, columns, data) -> None:
        if self.down:
            raise StoreError("connection refused")
        self.store.insert(table, columns, data)

    def __getattr__(self, name: str):
        return getattr(self.store, name)


def _row(index: int) -> tuple:
    return Event(
        site="spool.test",
        ts=1_763_640_000 + index,
        name="pageview",
        visitor_id=index,
        prop_keys=["k"],
        prop_values=[f"v{index}"],
    ).row()


def test_rows_round_trip_through_a_segment(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    rows = [_row(i) for i in range(3)] + [Event(site="s", ts=1, name="x", visitor_id=2**64 - 1).row()]
    spool.append(rows)
    segment = spool.seal()
    assert segment is not None and Spool.read(segment) == rows
    assert spool.seal() is None  # nothing new since
    spool.remove(segment)
    assert spool.bytes == 0 and spool.sealed() == []


def test_torn_last_line_is_skipped_and_open_segment_survives_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append([_row(1), _row(2)])
    # A crash: the process dies with the segment open and half a line written after it.
    (next(tmp_path.glob("*.open"))).open("ab").write(b'["spool.test", 17')
    reopened = Spool(tmp_path)
    segments = reopened.sealed()
    assert len(segments) == 1
    assert Spool.read(segments[0]) == [_row(1), _row(2)]


def test_full_spool_refuses(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    big = Event(site="s", ts=1, name="x", pathname="/" + "a" * 200_000).row()
    for _ in range(5):
        spool.append([big])
    with pytest.raises(Exception, match=str(tmp_path)):
        spool.append([big])


def test_processes_claim_separate_directories(tmp_path: Path) -> None:
    first, fd_first = claim_spool_dir(tmp_path)
    second, fd_second = claim_spool_dir(tmp_path)
    assert first != second
    import os

    os.close(fd_first)
    again, fd_again = claim_spool_dir(tmp_path)
    assert again == first
    os.close(fd_second)
    os.close(fd_again)


def test_outage_keeps_order_and_counts_exactly(store: Store, tmp_path: Path) -> None:
    flaky = FailingStore(store)
    sink = SpooledSink(flaky, "events", EVENT_COLUMNS, Spool(tmp_path))
    buffer = Batcher(sink, flush_rows=100, flush_interval=3600)
    for index in range(50):
        buffer.add([_row(index)])
    assert buffer.flush() == 50
    flaky.down = True
    for batch in range(3):
        for index in range(batch * 100 + 100, batch * 100 + 200):
            buffer.add([_row(index)])
        assert buffer.flush() == 0
    assert sink.backlog_segments == 3 and len(sink.rows) == 0  # memory holds nothing of the backlog
    assert all(rows is None for _, rows in sink._backlog)
    assert buffer.failed_flushes == 3 and buffer.written == 50
    flaky.down = False
    assert buffer.flush() == 300
    assert sink.backlog_segments == 0 and list(tmp_path.glob("*.sealed")) == []
    assert buffer.written == 350
    assert store.query("SELECT count(), uniqExact(visitor_id) FROM events") == [(350, 350)]


def test_restart_replays_what_a_crash_left(store: Store, tmp_path: Path) -> None:
    crashed = Spool(tmp_path)
    crashed.append([_row(i) for i in range(20)])  # acknowledged, never flushed: the process died
    sink = SpooledSink(store, "events", EVENT_COLUMNS, Spool(tmp_path))
    buffer = Batcher(sink, flush_rows=100, flush_interval=3600)
    assert sink.backlog_segments == 1
    assert buffer.flush() == 20
    assert store.query("SELECT count() FROM events") == [(20,)]


def test_full_buffer_refuses_with_buffer_full(store: Store, tmp_path: Path) -> None:
    buffer = Batcher(SpooledSink(store, "events", EVENT_COLUMNS, Spool(tmp_path, max_bytes=1 << 20)), flush_rows=10)
    big = Event(site="s", ts=1, name="x", pathname="/" + "a" * 300_000).row()
    with pytest.raises(BufferFull):
        for _ in range(10):
            buffer.add([big])
