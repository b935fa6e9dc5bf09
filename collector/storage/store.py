"""The interface both ClickHouse engines implement, and the factory that picks one."""

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from collector.settings import Settings

Row = tuple[Any, ...]


class StoreError(RuntimeError):
    """A ClickHouse engine could not run a statement."""


class DataDirInUse(StoreError):
    """Another process owns the embedded data dir."""


class Store(Protocol):
    """A ClickHouse connection: statements with %(name)s parameters, columnar inserts."""

    engine: str

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a SELECT and return its rows as tuples of plain Python values."""

    def insert(self, table: str, columns: Sequence[str], data: Sequence[Sequence[Any]]) -> None:
        """Insert columnar data: data[i] holds every value of columns[i]."""

    def close(self) -> None:
        """Release the connection (and the data dir lock for the embedded engine)."""


def open_store(settings: Settings) -> Store:
    """Open the engine the settings select: a ClickHouse server URL (alone or in a cluster), or embedded chdb."""
    if settings.clickhouse_url:
        from collector.storage.server import ServerStore

        return ServerStore(settings.clickhouse_url, settings.clickhouse_cluster)
    if settings.clickhouse_cluster:
        raise StoreError("TELLER_CLICKHOUSE_CLUSTER needs TELLER_CLICKHOUSE_URL (a server of the cluster)")
    try:
        from collector.storage.embedded import EmbeddedStore
    except ImportError:
        raise StoreError(
            "the embedded engine needs the chdb package (pip install 'teller[embedded]'), "
            "or set TELLER_CLICKHOUSE_URL to use a ClickHouse server"
        ) from None
    return EmbeddedStore(settings.data_dir)
