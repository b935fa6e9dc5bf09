"""Cluster mode: the numbered schemas as local tables on every host and Distributed tables over them.

The Distributed tables carry the canonical names (events, site_hourly, visits, sites, ...), so every
query in Teller reads and writes them unchanged; the tables holding the rows are called <name>_local.
Materialized views live on each host, read events_local and write the local rollups, and queries on
the Distributed rollups merge their aggregate states across shards. ON CLUSTER DDL needs ZooKeeper on
ClickHouse 18.16, so the migration connects to every host listed in system.clusters instead and
records the applied migrations in each host's own schema_migrations. When the servers define the
{shard} and {replica} macros, the local tables are Replicated*MergeTree tables (ZooKeeper).
"""

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from storage.migrations import SCHEMAS_DIR, Migration, applied_versions, available_migrations
from storage.server import ServerStore
from storage.store import Store, StoreError

log = logging.getLogger("teller.cluster")
T = TypeVar("T")

LOCAL_SUFFIX = "_local"

# Rows of events are spread by the visitor hash: one hash covers one UTC day, so a visitor's day sits
# on one shard and a big site is spread evenly. Every other table is sharded by its sorting key, so
# rows that a Replacing/Summing/Aggregating merge combines meet on one shard and merge away there.
SHARDING_KEYS: dict[str, str] = {"events": "visitor_id"}

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_CREATE_TABLE = re.compile(r"^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)\s*\(", re.IGNORECASE)
_CREATE_MV = re.compile(r"^CREATE\s+MATERIALIZED\s+VIEW\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)\s+TO\s+", re.IGNORECASE)
_CREATE_VIEW = re.compile(r"^CREATE\s+VIEW\s+", re.IGNORECASE)
_ALTER = re.compile(r"^ALTER\s+TABLE\s+(\w+)\s+(.*)$", re.IGNORECASE | re.DOTALL)
_DROP = re.compile(r"^DROP\s+(TABLE|VIEW)\s+(IF\s+EXISTS\s+)?(\w+)\s*$", re.IGNORECASE)
_INSERT = re.compile(r"^INSERT\s+INTO\s+", re.IGNORECASE)
_COLUMN_ACTION = re.compile(r"^(ADD|DROP|MODIFY|COMMENT|RENAME)\s+COLUMN\b", re.IGNORECASE)
_ENGINE = re.compile(r"\bENGINE\s*=\s*(\w*)MergeTree\b(\s*\(([^)]*)\))?", re.IGNORECASE)
_ORDER_BY = re.compile(
    r"\bORDER\s+BY\s+(.+?)\s*(?:\bPRIMARY\s+KEY\b|\bSAMPLE\s+BY\b|\bTTL\b|\bSETTINGS\b|$)", re.IGNORECASE | re.DOTALL
)
_TABLE_REFERENCE = re.compile(r"\b(FROM|JOIN|TO)(\s+)(\w+)\b", re.IGNORECASE)


@dataclass
class ClusterDDL:
    """A migration's statements for a cluster: local ones on every host, then the Distributed ones, then data."""

    local: list[str] = field(default_factory=list)
    distributed: list[str] = field(default_factory=list)
    once: list[str] = field(default_factory=list)  # INSERTs, through the Distributed tables, once per cluster
    # Local statements a replicated table passes to the shard's other replicas itself (ALTERs): one replica each.
    per_shard: set[str] = field(default_factory=set)


def created_tables(migrations: Sequence[Migration]) -> set[str]:
    """Names of every table the migrations create (views excluded)."""
    names = set()
    for migration in migrations:
        for statement in migration.statements():
            match = _CREATE_TABLE.match(statement)
            if match:
                names.add(match.group(2))
    return names


def _strip_parentheses(expression: str) -> str:
    """The inside of a tuple written as (a, b), or the expression itself."""
    text = expression.strip()
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and index < len(text) - 1:
            return text  # e.g. (a) + (b): the parentheses do not wrap the whole expression
    return text[1:-1].strip()


def sharding_key(table: str, statement: str) -> str:
    """Expression choosing a row's shard: SHARDING_KEYS, else a hash of the sorting key."""
    if table in SHARDING_KEYS:
        return SHARDING_KEYS[table]
    match = _ORDER_BY.search(statement)
    columns = _strip_parentheses(match.group(1)) if match else ""
    if not columns or columns.lower() == "tuple()":
        return "rand()"
    return f"cityHash64({columns})"


def _replicated_engine(statement: str, table: str, database: str) -> str:
    """The statement with its *MergeTree engine replaced by the Replicated variant."""
    match = _ENGINE.search(statement)
    if match is None:
        raise ValueError(f"{table}: only MergeTree-family tables can be replicated")
    path = f"'/clickhouse/tables/{{shard}}/{database}/{table}'"
    arguments = ", ".join(part for part in (path, "'{replica}'", (match.group(3) or "").strip()) if part)
    engine = f"ENGINE = Replicated{match.group(1)}MergeTree({arguments})"
    return statement[: match.start()] + engine + statement[match.end() :]


def _local_names(statement: str, tables: set[str]) -> str:
    """Table references after FROM, JOIN and TO renamed to the local tables."""

    def rename(match: re.Match[str]) -> str:
        name = match.group(3)
        return match.group(0) if name not in tables else f"{match.group(1)}{match.group(2)}{name}{LOCAL_SUFFIX}"

    return _TABLE_REFERENCE.sub(rename, statement)


def cluster_ddl(
    statements: Sequence[str], cluster: str, database: str, tables: set[str], replicated: bool = False
) -> ClusterDDL:
    """The cluster form of one migration's statements; a statement with no cluster form is an error."""
    for name in (cluster, database):
        if not _NAME.match(name):
            raise ValueError(f"unusable cluster or database name {name!r}")
    ddl = ClusterDDL()
    for statement in statements:
        if match := _CREATE_TABLE.match(statement):
            table = match.group(2)
            if not _ENGINE.search(statement):
                raise ValueError(f"{table}: only MergeTree-family tables can be sharded")
            local = table + LOCAL_SUFFIX
            create = statement[: match.start(2)] + local + statement[match.end(2) :]
            ddl.local.append(_replicated_engine(create, local, database) if replicated else create)
            engine = f"Distributed('{cluster}', '{database}', '{local}', {sharding_key(table, statement)})"
            ddl.distributed.append(f"CREATE TABLE IF NOT EXISTS {table} AS {local} ENGINE = {engine}")
        elif _CREATE_MV.match(statement):
            ddl.local.append(_local_names(statement, tables))
        elif _CREATE_VIEW.match(statement):
            ddl.distributed.append(statement)  # a plain view over the Distributed tables, on every host
        elif match := _ALTER.match(statement):
            table, action = match.group(1), match.group(2)
            if table not in tables:
                raise ValueError(f"ALTER of an unknown table {table!r}")
            ddl.local.append(f"ALTER TABLE {table}{LOCAL_SUFFIX} {action}")
            if replicated:
                ddl.per_shard.add(ddl.local[-1])
            if _COLUMN_ACTION.match(action):
                ddl.distributed.append(statement)
        elif match := _DROP.match(statement):
            name = match.group(3)
            if name in tables:
                ddl.distributed.append(statement)
                ddl.local.append(f"DROP TABLE IF EXISTS {name}{LOCAL_SUFFIX}")
            else:
                ddl.local.append(statement)
        elif _INSERT.match(statement):
            ddl.once.append(statement)
        else:
            raise ValueError(f"no cluster form for the statement: {' '.join(statement.split())[:80]}")
    return ddl


def database_of(url: str) -> str:
    """Database named by a clickhouse:// URL ("default" when it names none)."""
    return urlsplit(url).path.strip("/") or "default"


def host_url(url: str, host: str, port: int) -> str:
    """The URL with its host and port replaced (user, password, database and settings kept)."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    address = f"[{host}]" if ":" in host else host
    netloc = f"{credentials}@{address}:{port}" if credentials else f"{address}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def cluster_hosts(store: Store, cluster: str) -> list[tuple[int, str, int]]:
    """(shard, host, native port) of every replica of every shard, as the connected server's system.clusters says."""
    rows = store.query(
        "SELECT shard_num, host_name, port, is_local FROM system.clusters WHERE cluster = %(c)s "
        "ORDER BY shard_num, replica_num",
        {"c": cluster},
    )
    if not rows:
        raise StoreError(f"the server has no cluster {cluster!r} in system.clusters (see remote_servers)")
    if not any(row[3] for row in rows):
        raise StoreError(f"the server in TELLER_CLICKHOUSE_URL is not a host of the cluster {cluster!r}")
    return [(int(shard), str(host), int(port)) for shard, host, port, _ in rows]


def on_each_host(store: Store, action: Callable[[Store, str], T]) -> list[T]:
    """action(store, "") on a single server; on a cluster, action(host, "_local") on every host of it."""
    if not isinstance(store, ServerStore) or not store.cluster:
        return [action(store, "")]
    # A failing host is skipped with a warning, so one replica down stops neither retention nor the salt
    # refresh; the next run catches it up (a partition dropped on a replicated table reaches a replica
    # when it is back). Only when every host fails is the error raised.
    results, failure = [], None
    for host in store.hosts():
        try:
            results.append(action(host, LOCAL_SUFFIX))
        except StoreError as error:
            log.warning("skipped cluster host %s: %s", urlsplit(host.url).netloc.rpartition("@")[2], error)
            failure = error
    if failure is not None and not results:
        raise failure
    return results


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


def _wait_for_replicas(replicas: list[ServerStore], table: str, timeout: float = 60.0) -> None:
    """Wait until a replicated ALTER reached every replica: later statements may rely on its columns."""
    deadline = time.monotonic() + timeout
    while len({tuple(_columns(replica, table)) for replica in replicas}) > 1:
        if time.monotonic() > deadline:
            raise StoreError(f"the replicas of {table} still differ after {timeout:.0f} s (is ZooKeeper reachable?)")
        time.sleep(0.2)


def migrate_cluster(store: ServerStore, schemas_dir: Path = SCHEMAS_DIR, every_host: bool = False) -> list[Migration]:
    """Apply every migration a host of the store's cluster lacks; return those applied anywhere."""
    # Without every_host (`teller migrate` sets it), a connected host holding every migration is enough,
    # so `teller serve` starts while another host (say, a replica) is down.
    if not every_host and not {m.version for m in available_migrations(schemas_dir)} - applied_versions(store):
        return []
    layout = cluster_hosts(store, store.cluster)
    hosts = [ServerStore(host_url(store.url, host, port)) for _, host, port in layout]
    try:
        return _migrate_hosts(store, hosts, [shard for shard, _, _ in layout], schemas_dir)
    finally:
        for host in hosts:
            host.close()


def _migrate_hosts(
    store: ServerStore, hosts: list[ServerStore], shards: list[int], schemas_dir: Path
) -> list[Migration]:
    """migrate_cluster on opened host stores; shards[i] is the shard of hosts[i]."""
    migrations = available_migrations(schemas_dir)
    tables = created_tables(migrations)
    done = [applied_versions(host) for host in hosts]
    replicated = _replicated(store)
    applied = []
    for migration in migrations:
        pending = [index for index, versions in enumerate(done) if migration.version not in versions]
        if not pending:
            continue
        ddl = cluster_ddl(migration.statements(), store.cluster, database_of(store.url), tables, replicated)
        # Local tables first on every host, so no Distributed table points at a missing one.
        for statement in ddl.local:
            reached: dict[int, list[ServerStore]] = {}
            for index in pending:
                if statement not in ddl.per_shard or shards[index] not in reached:
                    hosts[index].execute(statement)
                reached.setdefault(shards[index], []).append(hosts[index])
            if statement in ddl.per_shard and _COLUMN_ACTION.match(statement.split(None, 3)[3]):
                for replicas in reached.values():
                    _wait_for_replicas(replicas, statement.split()[2])
        for index in pending:
            for statement in ddl.distributed:
                hosts[index].execute(statement)
        # Data goes in once, when the migration is new to the whole cluster (not to a host added later).
        if len(pending) == len(hosts):
            for statement in ddl.once:
                store.execute(statement)
        for index in pending:
            hosts[index].insert(
                "schema_migrations",
                ["version", "name", "applied_at"],
                [[migration.version], [migration.name], [int(time.time())]],
            )
        applied.append(migration)
    return applied
