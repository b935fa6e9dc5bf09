"""The interface both ClickHouse engines implement, and the errors they raise."""

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

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
