"""Server engine: a ClickHouse server over the native protocol (clickhouse-driver)."""

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from clickhouse_driver import Client
from clickhouse_driver.errors import Error as DriverError

from storage.sql import substitute
from storage.store import Host, Row, StoreError
from storage.topology import address_of, cluster_hosts, database_of, host_url

# Cluster mode: an INSERT into a Distributed table returns once every shard has its rows, so a process
# reads its own writes (a salt, a site, a flushed batch), and a failed shard fails the insert, which
# the spool retries. An IN or JOIN subquery over a Distributed table inside a query sent to the shards
# runs once on the initiator and its result goes to every shard (GLOBAL), right whatever the sharding;
# the default, deny, refuses such queries.
CLUSTER_SETTINGS = {"insert_distributed_sync": 1, "distributed_product_mode": "global"}


def _plain(value: Any) -> Any:
    """Turn driver values into the plain forms the embedded engine returns (dates as text)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


class ServerStore:
    """A clickhouse-driver client per thread (a client is not thread-safe)."""

    engine = "server"

    def __init__(self, url: str, cluster: str = "") -> None:
        self.url = url
        self.database = database_of(url)
        self.cluster = cluster
        self._local = threading.local()
        self._clients: list[Client] = []
        self._clients_lock = threading.Lock()
        self._hosts: list[Host] | None = None

    def _client(self) -> Client:
        """This thread's client, created on first use."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = Client.from_url(self.url)
            if self.cluster:
                client.settings.update(CLUSTER_SETTINGS)
            self._local.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client

    def _run(self, sql: str, data: Any = None, columnar: bool = False) -> Any:
        """Run one statement, turning driver and network errors into StoreError."""
        try:
            if data is None:
                return self._client().execute(sql)
            return self._client().execute(sql, data, columnar=columnar)
        except (DriverError, OSError, EOFError) as error:
            self._client().disconnect()
            message = " ".join(str(error).split(" Stack trace:")[0].split()) or repr(error)
            raise StoreError(message[:2000]) from None

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing."""
        self._run(substitute(sql, params))

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a SELECT and return its rows as tuples of plain values."""
        rows = self._run(substitute(sql, params))
        return [tuple(_plain(value) for value in row) for row in rows]

    def insert(self, table: str, columns: Sequence[str], data: Sequence[Sequence[Any]]) -> None:
        """Insert columnar data in one native-protocol block."""
        if not data or not len(data[0]):
            return
        self._run(f"INSERT INTO {table} ({', '.join(columns)}) VALUES", [list(col) for col in data], columnar=True)

    def hosts(self) -> list[Host]:
        """This server alone, or a store per host of its cluster (from system.clusters, looked up once)."""
        if not self.cluster:
            return [Host(1, self, address_of(self.url))]
        with self._clients_lock:
            hosts = self._hosts
        if hosts is None:
            urls = [(shard, host_url(self.url, h, p)) for shard, h, p in cluster_hosts(self, self.cluster)]
            hosts = [Host(shard, ServerStore(url), address_of(url)) for shard, url in urls]
            with self._clients_lock:
                self._hosts = hosts
        return hosts

    def close(self) -> None:
        """Disconnect every client this store opened."""
        with self._clients_lock:
            for client in self._clients:
                client.disconnect()
            self._clients.clear()
            hosts, self._hosts = self._hosts or [], None
        for host in hosts:
            host.store.close()
