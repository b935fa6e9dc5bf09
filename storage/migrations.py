"""Apply the numbered migrations in order and record each applied file in schema_migrations.

ON CLUSTER DDL needs ZooKeeper on ClickHouse 18.16, so in cluster mode the runner connects to every
host listed in system.clusters instead and records the applied migrations in each host's own
schema_migrations (see storage/cluster_ddl.py for the statements it runs there).
"""

import time
from pathlib import Path

from storage.cluster_ddl import cluster_ddl, column_change, created_tables
from storage.migration_files import SCHEMAS_DIR, Migration, available_migrations
from storage.store import Host, Store, StoreError


def applied_versions(store: Store) -> set[int]:
    """Versions recorded as applied."""
    store.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime) "
        "ENGINE = MergeTree ORDER BY version"
    )
    return {int(row[0]) for row in store.query("SELECT version FROM schema_migrations")}


def _record(store: Store, migration: Migration) -> None:
    """Note a migration as applied in the store's schema_migrations."""
    store.insert(
        "schema_migrations",
        ["version", "name", "applied_at"],
        [[migration.version], [migration.name], [int(time.time())]],
    )


def migrate(store: Store, schemas_dir: Path = SCHEMAS_DIR) -> list[Migration]:
    """Apply every migration not yet applied, in order; return the ones applied now."""
    if store.cluster:
        return migrate_cluster(store, schemas_dir)
    done = applied_versions(store)
    applied = []
    for migration in available_migrations(schemas_dir):
        if migration.version in done:
            continue
        for statement in migration.statements():
            store.execute(statement)
        _record(store, migration)
        applied.append(migration)
    return applied


def pending_migrations(store: Store, schemas_dir: Path = SCHEMAS_DIR) -> list[Migration]:
    """Migrations not yet applied."""
    done = applied_versions(store)
    return [m for m in available_migrations(schemas_dir) if m.version not in done]


def _replicated(store: Store) -> bool:
    """True when the server defines the {shard} and {replica} macros ReplicatedMergeTree paths need."""
    rows = store.query("SELECT count() FROM system.macros WHERE macro IN ('shard', 'replica')")
    return bool(rows) and int(rows[0][0]) == 2


def _columns(store: Store, table: str) -> list[tuple[str, str]]:
    """(name, type) of a table's columns."""
    rows = store.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = %(t)s", {"t": table}
    )
    return sorted((str(name), str(kind)) for name, kind in rows)


def _wait_for_replicas(replicas: list[Store], table: str, timeout: float = 60.0) -> None:
    """Wait until a replicated ALTER reached every replica: later statements may rely on its columns."""
    deadline = time.monotonic() + timeout
    while len({tuple(_columns(replica, table)) for replica in replicas}) > 1:
        if time.monotonic() > deadline:
            raise StoreError(f"the replicas of {table} still differ after {timeout:.0f} s (is ZooKeeper reachable?)")
        time.sleep(0.2)


def migrate_cluster(store: Store, schemas_dir: Path = SCHEMAS_DIR, every_host: bool = False) -> list[Migration]:
    """Apply every migration a host of the store's cluster lacks; return those applied anywhere."""
    # Without every_host (`teller migrate` sets it), a connected host holding every migration is enough,
    # so `teller serve` starts while another host (say, a replica) is down.
    if not every_host and not {m.version for m in available_migrations(schemas_dir)} - applied_versions(store):
        return []
    return _migrate_hosts(store, store.hosts(), schemas_dir)


def _migrate_hosts(store: Store, hosts: list[Host], schemas_dir: Path) -> list[Migration]:
    """migrate_cluster on the hosts of the store's cluster."""
    migrations = available_migrations(schemas_dir)
    tables = created_tables(migrations)
    done = [applied_versions(host.store) for host in hosts]
    replicated = _replicated(store)
    applied = []
    for migration in migrations:
        pending = [hosts[index] for index, versions in enumerate(done) if migration.version not in versions]
        if not pending:
            continue
        ddl = cluster_ddl(migration.statements(), store.cluster, store.database, tables, replicated)
        # Local tables first on every host, so no Distributed table points at a missing one.
        for statement in ddl.local:
            reached: dict[int, list[Store]] = {}
            for host in pending:
                if statement not in ddl.per_shard or host.shard not in reached:
                    host.store.execute(statement)
                reached.setdefault(host.shard, []).append(host.store)
            changed = column_change(statement) if statement in ddl.per_shard else None
            if changed:
                for replicas in reached.values():
                    _wait_for_replicas(replicas, changed)
        for host in pending:
            for statement in ddl.distributed:
                host.store.execute(statement)
        # Data goes in once, when the migration is new to the whole cluster (not to a host added later).
        if len(pending) == len(hosts):
            for statement in ddl.once:
                store.execute(statement)
        for host in pending:
            _record(host.store, migration)
        applied.append(migration)
    return applied
