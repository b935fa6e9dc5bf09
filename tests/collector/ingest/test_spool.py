"""The spool keeps acknowledged rows on disk until ClickHouse has them, in order, within its size."""

import errno
import os
from pathlib import Path

import orjson
import pytest

from collector.ingest import spool as spool_module
from collector.ingest.batcher import Batcher, BufferFull
from collector.ingest.event import EVENT_COLUMNS, Event
from collector.ingest.spool import Spool, SpoolFull, claim_spool_dir
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


class RefusingDisk:
    """os.write, os.ftruncate and os.open of the spool module, refusing as a full disk does while `full` is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, spool: Spool) -> None:
        self.spool = spool
        self.full = False
        self.half = False  # the next refused write takes half of its bytes first
        self.cut = True
        self.real_write, self.real_truncate, self.real_open = os.write, os.ftruncate, os.open
        monkeypatch.setattr(spool_module.os, "write", self.write)
        monkeypatch.setattr(spool_module.os, "ftruncate", self.ftruncate)
        monkeypatch.setattr(spool_module.os, "open", self.open)

    def write(self, fd: int, data: bytes) -> int:
        """Half of the first write of a refused append goes through, the rest is ENOSPC."""
        if fd != self.spool._fd or not self.full:
            return self.real_write(fd, data)
        if self.half:
            self.half = False
            return self.real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    def ftruncate(self, fd: int, length: int) -> None:
        if not self.cut:
            raise OSError(errno.EIO, "Input/output error")
        self.real_truncate(fd, length)

    def open(self, path: str | Path, flags: int, mode: int = 0o777) -> int:
        if self.full and str(path).endswith(".open"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real_open(path, flags, mode)


def _lines(spool: Spool) -> list[bytes]:
    return next(spool.directory.glob("*.open")).read_bytes().split(b"\n")


def test_a_write_the_disk_refuses_is_cut_back_to_the_last_whole_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path)
    disk = RefusingDisk(monkeypatch, spool)
    spool.append([_row(1)])
    disk.full = disk.half = True  # the disk takes half of the write, then refuses
    with pytest.raises(SpoolFull, match="No space left on device"):
        spool.append([_row(2), _row(3)])
    assert _lines(spool) == [orjson.dumps(_row(1)), b""]
    disk.full = False
    spool.append([_row(4)])
    segment = spool.seal()
    assert segment is not None and Spool.read(segment) == [_row(1), _row(4)]
    assert spool.bytes == segment.stat().st_size


def test_a_fragment_that_cannot_be_cut_stays_a_line_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path)
    disk = RefusingDisk(monkeypatch, spool)
    spool.append([_row(1)])
    disk.full, disk.half, disk.cut = True, True, False
    with pytest.raises(SpoolFull):
        spool.append([_row(2)])
    disk.full, disk.cut = False, True
    spool.append([_row(3)])
    segment = spool.seal()
    assert segment is not None and Spool.read(segment) == [_row(1), _row(3)]
    assert "skipping a torn line" in caplog.text and "could not cut" in caplog.text
    assert spool.bytes == segment.stat().st_size


def test_a_seal_the_disk_refuses_keeps_the_rows_for_the_next_flush(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path)
    sink = SpooledSink(store, "events", EVENT_COLUMNS, spool)
    buffer = Batcher(sink, flush_rows=100, flush_interval=3600)
    disk = RefusingDisk(monkeypatch, spool)
    buffer.add([_row(i) for i in range(5)])
    disk.full = True  # no room for the next segment's file, nor for more rows
    assert buffer.flush() == 0
    with pytest.raises(BufferFull):
        buffer.add([_row(5)])
    assert len(sink) == 5 and sink.backlog_segments == 0
    disk.full = False
    buffer.add([_row(6)])
    assert buffer.flush() == 6
    assert store.query("SELECT count() FROM events") == [(6,)]
    assert list(tmp_path.glob("*.sealed")) == [] and spool.bytes == 0
