"""The interface both ClickHouse engines implement, and the errors they raise."""

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

Row = tuple[Any, ...]


class StoreError(RuntimeError):
    """A ClickHouse engine could not run a statement."""


class DataDirInUse(StoreError):
    """Another process owns the embedded data dir."""


class Host(NamedTuple):
    """One host of a deployment: its shard number, a store connected to it alone, and where it is (for logs)."""

    shard: int
    store: "Store"
    address: str


class Store(Protocol):
    """A ClickHouse connection: statements with %(name)s parameters, columnar inserts."""

    engine: str
    database: str
    cluster: str  # "" unless a server store in cluster mode

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a SELECT and return its rows as tuples of plain Python values."""

    def insert(self, table: str, columns: Sequence[str], data: Sequence[Sequence[Any]]) -> None:
        """Insert columnar data: data[i] holds every value of columns[i]."""

    def hosts(self) -> list[Host]:
        """Every host and its shard, in shard and replica order; a single server or embedded store: itself, shard 1."""

    def close(self) -> None:
        """Release the connection (and the data dir lock for the embedded engine)."""
