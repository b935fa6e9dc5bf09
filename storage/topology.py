"""Where a deployment's rows live: the hosts of a cluster, their URLs, and running an action on each.

In cluster mode the tables holding the rows are called <name>_local on every host, and Distributed
tables with the canonical names sit over them (see storage/cluster_ddl.py).
"""

import logging
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from storage.store import Store, StoreError

log = logging.getLogger("teller.cluster")
T = TypeVar("T")

LOCAL_SUFFIX = "_local"


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


def address_of(url: str) -> str:
    """host:port of a URL, without the credentials."""
    return urlsplit(url).netloc.rpartition("@")[2]


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
    if not store.cluster:
        return [action(store, "")]
    # A failing host is skipped with a warning, so one replica down stops neither retention nor the salt
    # refresh; the next run catches it up (a partition dropped on a replicated table reaches a replica
    # when it is back). Only when every host fails is the error raised.
    results, failure = [], None
    for host in store.hosts():
        try:
            results.append(action(host.store, LOCAL_SUFFIX))
        except StoreError as error:
            log.warning("skipped cluster host %s: %s", host.address, error)
            failure = error
    if failure is not None and not results:
        raise failure
    return results
