"""Cluster mode's DDL: each numbered schema rewritten as local tables on every host and Distributed tables over them.

The Distributed tables carry the canonical names (events, site_hourly, visits, sites, ...), so every
query in Teller reads and writes them unchanged; the tables holding the rows are called <name>_local.
Materialized views live on each host, read events_local and write the local rollups, and queries on
the Distributed rollups merge their aggregate states across shards. When the servers define the
{shard} and {replica} macros, the local tables are Replicated*MergeTree tables (ZooKeeper).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.migration_files import Migration
from storage.topology import LOCAL_SUFFIX

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


def column_change(statement: str) -> str | None:
    """The table whose columns an ALTER TABLE ... ADD/DROP/MODIFY/COMMENT/RENAME COLUMN changes, else None."""
    match = _ALTER.match(statement)
    return match.group(1) if match and _COLUMN_ACTION.match(match.group(2)) else None
