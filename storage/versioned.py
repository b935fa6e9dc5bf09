"""Versioned rows: a change inserts a new row with a larger version, and readers take the newest row per key.

The tables are ReplacingMergeTree(version), so merges keep only the newest row in the end; until they
have, argMax(column, version) with GROUP BY key reads the newest values, on ClickHouse 18.16 and 26.x.
"""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.store import Store

_COLUMN = re.compile(r"^\w+$")


def newest(column: str) -> str:
    """SQL for the newest value of a column among the versions of one key."""
    return f"argMax({column}, version)"


@dataclass(frozen=True)
class VersionedTable:
    """A table that holds every version of one record per key in a version column."""

    table: str
    key: str
    clock: Callable[[], int] = time.time_ns  # nanoseconds: a later write gets a larger version

    def insert(self, store: Store, **values: Any) -> None:
        """Write a new version of one record: the columns given (the others take their defaults) and the version."""
        data = [[value] for value in values.values()]
        store.insert(self.table, [*values, "version"], [*data, [self.clock()]])

    def latest(self, *columns: str, where: str = "", having: str = "", order_by: str = "") -> str:
        """SELECT of the key, then each column's newest value (an expression other than a bare name is kept as is).

        One row per key: where filters the stored rows, having the newest values (write them with newest()).
        """
        selected = ", ".join([self.key, *(newest(c) if _COLUMN.match(c) else c for c in columns)])
        sql = f"SELECT {selected} FROM {self.table}"
        if where:
            sql += f" WHERE {where}"
        sql += f" GROUP BY {self.key}"
        if having:
            sql += f" HAVING {having}"
        if order_by:
            sql += f" ORDER BY {order_by}"
        return sql
