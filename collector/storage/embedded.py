"""Embedded engine: chdb (ClickHouse in-process) with its data under the data dir."""

import fcntl
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
from chdb import session as chdb_session

from collector.storage.sql import substitute
from collector.storage.store import DataDirInUse, Row, StoreError

# Arrow types for the ClickHouse column types Teller writes; ArrowStream is ~5x faster than
# inline JSONEachRow on chdb (350k vs 70k rows/s for 1M rows).
_ARROW_TYPES: dict[str, pa.DataType] = {
    "String": pa.string(),
    "DateTime": pa.uint32(),
    "Date": pa.date32(),
    "UInt8": pa.uint8(),
    "UInt16": pa.uint16(),
    "UInt32": pa.uint32(),
    "UInt64": pa.uint64(),
    "Int32": pa.int32(),
    "Int64": pa.int64(),
    "Float64": pa.float64(),
    "Array(String)": pa.list_(pa.string()),
}


def _arrow_type(clickhouse_type: str) -> pa.DataType:
    """Arrow type that ClickHouse converts losslessly into the given column type."""
    inner = clickhouse_type
    if inner.startswith("LowCardinality(") and inner.endswith(")"):
        inner = inner[len("LowCardinality(") : -1]
    if inner.startswith("FixedString("):
        return pa.string()
    if inner == "Array(LowCardinality(String))":
        return pa.list_(pa.string())
    try:
        return _ARROW_TYPES[inner]
    except KeyError:
        raise StoreError(f"no Arrow mapping for column type {clickhouse_type}") from None


def _lock_data_dir(data_dir: Path) -> int:
    """Take an exclusive lock on the data dir, or fail with a one-line reason."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / "teller.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirInUse(
            f"data dir {data_dir.resolve()} is in use by another Teller process "
            "(stop it first, or use a ClickHouse server with TELLER_CLICKHOUSE_URL)"
        ) from None
    return fd


class EmbeddedStore:
    """One chdb session per process, serialised by a lock (chdb is unsafe across threads)."""

    engine = "embedded"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._lock_fd = _lock_data_dir(self.data_dir)
        self._lock = threading.Lock()
        self._column_types: dict[str, dict[str, str]] = {}
        try:
            self._session = chdb_session.Session(str(self.data_dir / "clickhouse"))
        except Exception as error:
            os.close(self._lock_fd)
            raise DataDirInUse(f"cannot open the embedded database in {self.data_dir.resolve()}: {error}") from None
        for setting in ("output_format_json_quote_64bit_integers = 0", "session_timezone = 'UTC'"):
            self._session.query(f"SET {setting}")

    def _run(self, sql: str, fmt: str = "CSV") -> bytes:
        """Run one statement under the session lock."""
        with self._lock:
            try:
                result = self._session.query(sql, fmt)
            except Exception as error:
                raise StoreError(str(error)) from None
        return result.bytes()

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing."""
        self._run(substitute(sql, params))
        if sql.lstrip().upper().startswith(("ALTER", "CREATE", "DROP")):
            self._column_types.clear()

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a SELECT and return its rows as tuples."""
        raw = self._run(substitute(sql, params), "JSONCompact")
        if not raw:
            return []
        return [tuple(row) for row in orjson.loads(raw)["data"]]

    def _types_of(self, table: str) -> dict[str, str]:
        """Column types of a table, cached until the next DDL statement."""
        if table not in self._column_types:
            rows = self.query(
                "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = %(t)s",
                {"t": table},
            )
            self._column_types[table] = dict(rows)
        return self._column_types[table]

    def insert(self, table: str, columns: Sequence[str], data: Sequence[Sequence[Any]]) -> None:
        """Insert columnar data through one ArrowStream insert."""
        if not data or not len(data[0]):
            return
        types = self._types_of(table)
        try:
            arrays = [pa.array(values, type=_arrow_type(types[name])) for name, values in zip(columns, data)]
        except (KeyError, pa.ArrowException) as error:
            raise StoreError(f"cannot convert rows for {table}: {error}") from None
        batch = pa.record_batch(arrays, names=list(columns))
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)
        payload = sink.getvalue().to_pybytes()
        with self._lock:
            try:
                inserter = self._session.send_insert(f"INSERT INTO {table} ({', '.join(columns)})", "ArrowStream")
                inserter.append(payload)
                inserter.finish()
            except Exception as error:
                raise StoreError(str(error)) from None

    def close(self) -> None:
        """Close the session and release the data dir lock."""
        with self._lock:
            self._session.close()
        os.close(self._lock_fd)
