"""Tests for the throwaway ClickHouse server helper."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime

import pytest
from clickhouse_driver import Client
from clickhouse_server import ClickHouseStartError, ThrowawayClickHouse

EVENTS_DDL = """
CREATE TABLE events (
    ts DateTime,
    site LowCardinality(String),
    path String,
    visitor UInt64
) ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY (site, toDate(ts), path)
"""
DAILY_DDL = """
CREATE TABLE daily_pages (
    date Date,
    site LowCardinality(String),
    path String,
    visits AggregateFunction(count),
    visitors AggregateFunction(uniq, UInt64)
) ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(date) ORDER BY (site, date, path)
"""
DAILY_MV_DDL = """
CREATE MATERIALIZED VIEW daily_pages_mv TO daily_pages AS
SELECT toDate(ts) AS date, site, path, countState() AS visits, uniqState(visitor) AS visitors
FROM events GROUP BY date, site, path
"""
DAILY_QUERY = """
SELECT site, path, countMerge(visits), uniqMerge(visitors)
FROM daily_pages GROUP BY site, path ORDER BY site, path
"""
ROWS = [
    (datetime(2026, 11, 2, 10, 0, 0), "a.test", "/", 1),
    (datetime(2026, 11, 2, 10, 5, 0), "a.test", "/", 2),
    (datetime(2026, 11, 2, 11, 0, 0), "a.test", "/", 1),
    (datetime(2026, 11, 3, 9, 0, 0), "a.test", "/pricing", 3),
    (datetime(2026, 11, 3, 9, 30, 0), "b.test", "/", 4),
]
EXPECTED_DAILY = [("a.test", "/", 3, 2), ("a.test", "/pricing", 1, 1), ("b.test", "/", 1, 1)]


def create_schema(client: Client) -> None:
    """Create the raw table, the aggregate table and the view that feeds it."""
    for ddl in (EVENTS_DDL, DAILY_DDL, DAILY_MV_DDL):
        client.execute(ddl)


def insert_rows(client: Client) -> None:
    """Insert the sample events."""
    client.execute("INSERT INTO events (ts, site, path, visitor) VALUES", ROWS)


@pytest.fixture
def throwaway(clickhouse_server: ThrowawayClickHouse) -> Iterator[ThrowawayClickHouse]:
    """Yield a second server of its own, for tests that stop or restart it."""
    with ThrowawayClickHouse() as server:
        yield server


def test_session_server_answers_on_loopback_in_utc(clickhouse_server: ThrowawayClickHouse) -> None:
    """The shared server answers over the native protocol, runs in UTC and sets the LowCardinality flag."""
    client = Client.from_url(clickhouse_server.url)
    try:
        assert client.execute("SELECT 1 + 1") == [(2,)]
        assert client.execute("SELECT timezone()")[0][0] in {"UTC", "Etc/UTC"}
        setting = client.execute(
            "SELECT value FROM system.settings WHERE name = 'allow_experimental_low_cardinality_type'"
        )
        assert setting in ([], [("1",)])  # newer servers dropped the setting
    finally:
        client.disconnect()
    assert clickhouse_server.url == f"clickhouse://default:@127.0.0.1:{clickhouse_server.tcp_port}/default"


def test_server_database_is_fresh_and_usable(server_database: str) -> None:
    """The per-test database starts empty and takes inserts."""
    client = Client.from_url(server_database)
    try:
        database = server_database.rsplit("/", 1)[1]
        assert client.execute("SELECT currentDatabase()") == [(database,)]
        assert client.execute("SHOW TABLES") == []
        client.execute("CREATE TABLE t (n UInt32) ENGINE = MergeTree ORDER BY n")
        client.execute("INSERT INTO t (n) VALUES", [(3,), (1,), (2,)])
        assert client.execute("SELECT n FROM t ORDER BY n") == [(1,), (2,), (3,)]
    finally:
        client.disconnect()


def test_low_cardinality_and_materialized_view(server_database: str) -> None:
    """A LowCardinality column and an AggregatingMergeTree fed by a MATERIALIZED VIEW ... TO work."""
    client = Client.from_url(server_database)
    try:
        create_schema(client)
        insert_rows(client)
        assert client.execute("SELECT toTypeName(site) FROM events LIMIT 1") == [("LowCardinality(String)",)]
        assert client.execute(DAILY_QUERY) == EXPECTED_DAILY
    finally:
        client.disconnect()


def test_restart_keeps_data_and_ports(throwaway: ThrowawayClickHouse) -> None:
    """Data written before a restart is there afterwards, on the same ports."""
    ports = (throwaway.tcp_port, throwaway.http_port)
    client = Client.from_url(throwaway.url)
    try:
        create_schema(client)
        insert_rows(client)
        throwaway.restart()
        assert (throwaway.tcp_port, throwaway.http_port) == ports
        assert client.execute(DAILY_QUERY) == EXPECTED_DAILY  # the driver reconnects by itself
        insert_rows(client)  # the view still feeds the aggregate table after the restart
        assert client.execute("SELECT count() FROM events") == [(2 * len(ROWS),)]
        assert client.execute(DAILY_QUERY)[0] == ("a.test", "/", 6, 2)
    finally:
        client.disconnect()


def test_stop_is_quick_with_an_idle_connection_open(throwaway: ThrowawayClickHouse) -> None:
    """An idle client connection does not hold up SIGTERM until the kill deadline."""
    client = Client.from_url(throwaway.url)
    client.execute("SELECT 1")
    started = time.monotonic()
    throwaway.stop()
    assert time.monotonic() - started < 5
    assert not throwaway.running
    client.disconnect()


def test_kill_then_start_keeps_inserted_data(throwaway: ThrowawayClickHouse) -> None:
    """Rows acknowledged before a SIGKILL are there after the next start."""
    client = Client.from_url(throwaway.url)
    try:
        create_schema(client)
        insert_rows(client)
        throwaway.kill()
        assert not throwaway.running
        with pytest.raises(Exception):  # noqa: B017 - any connection error will do
            Client.from_url(throwaway.url, connect_timeout=1).execute("SELECT 1")
        throwaway.start()
        assert client.execute(DAILY_QUERY) == EXPECTED_DAILY
    finally:
        client.disconnect()


def test_failed_start_reports_stderr(clickhouse_server: ThrowawayClickHouse) -> None:
    """A server that cannot listen exits, and the error carries the tail of its stderr."""
    server = ThrowawayClickHouse()
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        blocker.bind(("127.0.0.1", server.tcp_port))
        blocker.listen()
        with pytest.raises(ClickHouseStartError, match="(?s)exited.*[Aa]ddress already in use"):
            server.start()
        assert not server.running
    finally:
        blocker.close()
        server.cleanup()


def test_cleanup_removes_the_temporary_directory(clickhouse_server: ThrowawayClickHouse) -> None:
    """Leaving the context manager stops the server and removes its directory."""
    with ThrowawayClickHouse() as server:
        path = server.path
        assert (path / "config.xml").is_file()
        assert server.running
    assert not server.running
    assert not path.exists()
