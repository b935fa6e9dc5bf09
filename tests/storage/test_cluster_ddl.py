"""The cluster form of the numbered schemas: local tables, Distributed tables, views on the local ones."""

import re

import pytest

from storage.cluster_ddl import cluster_ddl, created_tables, sharding_key
from storage.migration_files import available_migrations
from storage.topology import database_of, host_url

MIGRATIONS = available_migrations()
TABLES = created_tables(MIGRATIONS)


def _all(replicated: bool = False) -> list:
    return [cluster_ddl(m.statements(), "analytics", "teller", TABLES, replicated) for m in MIGRATIONS]


def test_every_migration_has_a_cluster_form() -> None:
    local = [s for ddl in _all() for s in ddl.local]
    distributed = [s for ddl in _all() for s in ddl.distributed]
    for table in TABLES:
        assert any(s.startswith(f"CREATE TABLE IF NOT EXISTS {table}_local (") for s in local), table
        engine = f"CREATE TABLE IF NOT EXISTS {table} AS {table}_local ENGINE = Distributed('analytics', 'teller', "
        assert any(s.startswith(engine) for s in distributed), table
    assert not any("Distributed" in s for s in local)


def test_views_read_and_write_local_tables_only() -> None:
    views = [s for ddl in _all() for s in ddl.local if s.startswith("CREATE MATERIALIZED VIEW")]
    assert views
    for view in views:
        assert re.search(r"\bTO \w+_local AS", view) and "FROM events_local" in view, view
        # Column aliases that share a table's name (AS events) are left alone.
        assert "AS events_local" not in view


def test_column_changes_reach_the_local_and_the_distributed_table() -> None:
    ddl = cluster_ddl(["ALTER TABLE events ADD COLUMN x UInt8"], "c", "db", TABLES)
    assert ddl.local == ["ALTER TABLE events_local ADD COLUMN x UInt8"]
    assert ddl.distributed == ["ALTER TABLE events ADD COLUMN x UInt8"]
    mutation = cluster_ddl(["ALTER TABLE events DELETE WHERE ts < now()"], "c", "db", TABLES)
    assert mutation.local == ["ALTER TABLE events_local DELETE WHERE ts < now()"] and mutation.distributed == []


def test_data_statements_run_once_and_others_are_refused() -> None:
    ddl = cluster_ddl(["INSERT INTO sites (domain) SELECT 'a.test'"], "c", "db", TABLES)
    assert ddl.once == ["INSERT INTO sites (domain) SELECT 'a.test'"] and not ddl.local
    with pytest.raises(ValueError, match="no cluster form"):
        cluster_ddl(["RENAME TABLE sites TO old_sites"], "c", "db", TABLES)
    with pytest.raises(ValueError, match="MergeTree-family"):
        cluster_ddl(["CREATE TABLE t (a UInt8) ENGINE = Memory"], "c", "db", TABLES)
    with pytest.raises(ValueError, match="unusable"):
        cluster_ddl([], "c'; DROP", "db", TABLES)


def test_sharding_keys() -> None:
    assert sharding_key("events", "ORDER BY (site, toDate(ts), visitor_id, ts)") == "visitor_id"
    assert sharding_key("sites", "ENGINE = ReplacingMergeTree(version) ORDER BY domain") == "cityHash64(domain)"
    assert sharding_key("x", "ORDER BY (a, b) SETTINGS index_granularity = 8192") == "cityHash64(a, b)"
    assert sharding_key("x", "ORDER BY tuple()") == "rand()"


def test_replicated_engines_keep_their_arguments() -> None:
    local = {s.split()[5]: s for ddl in _all(replicated=True) for s in ddl.local if s.startswith("CREATE TABLE")}
    path = "'/clickhouse/tables/{shard}/teller/sites_local', '{replica}'"
    assert f"ENGINE = ReplicatedReplacingMergeTree({path}, version)" in local["sites_local"]
    assert (
        "ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/teller/site_hourly_local'"
        in (local["site_hourly_local"])
    )
    per_shard = [s for ddl in _all(replicated=True) for s in ddl.per_shard]
    assert "ALTER TABLE events_local ADD COLUMN previous_visitor_id UInt64" in per_shard


def test_host_urls_keep_credentials_and_database() -> None:
    url = "clickhouse://teller:s%40cret@ch-1.internal:9000/analytics?connect_timeout=3"
    assert (
        host_url(url, "ch-2.internal", 9001)
        == "clickhouse://teller:s%40cret@ch-2.internal:9001/analytics?connect_timeout=3"
    )
    assert host_url("clickhouse://h:9000", "::1", 9000) == "clickhouse://[::1]:9000"
    assert database_of(url) == "analytics" and database_of("clickhouse://h:9000") == "default"
