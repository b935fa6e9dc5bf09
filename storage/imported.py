"""Imported statistics (schemas/0016_imported.sql): the tables of a Plausible CSV export, written, listed, deleted.

Each table keeps Plausible's columns; an import is one partition (its import_id) of every table, so a
re-import of the same files replaces it and a delete drops it, synchronously on both engines.
"""

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.store import Store
from storage.topology import on_each_host


@dataclass(frozen=True)
class ImportedTable:
    """One exported file's table: its text columns and its counts, in Plausible's export order."""

    name: str
    texts: tuple[str, ...]
    counts: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The CSV header Plausible's export writes (lib/plausible/exports.ex)."""
        return ("date", *self.texts, *self.counts)


_VISIT_COUNTS = ("visitors", "visits", "visit_duration", "bounces", "pageviews")
TABLES: dict[str, ImportedTable] = {
    table.name: table
    for table in (
        ImportedTable("imported_visitors", (), ("visitors", "pageviews", "bounces", "visits", "visit_duration")),
        ImportedTable(
            "imported_sources",
            ("source", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"),
            ("pageviews", "visitors", "visits", "visit_duration", "bounces"),
        ),
        ImportedTable(
            "imported_pages",
            ("hostname", "page"),
            (
                "visits",
                "visitors",
                "pageviews",
                "total_scroll_depth",
                "total_scroll_depth_visits",
                "total_time_on_page",
                "total_time_on_page_visits",
            ),
        ),
        ImportedTable(
            "imported_entry_pages",
            ("entry_page",),
            ("visitors", "entrances", "visit_duration", "bounces", "pageviews"),
        ),
        ImportedTable(
            "imported_exit_pages", ("exit_page",), ("visitors", "visit_duration", "exits", "bounces", "pageviews")
        ),
        ImportedTable("imported_custom_events", ("name", "link_url", "path"), ("visitors", "events")),
        # city is a GeoNames id (a number, 0 when unknown); Teller has no city dimension to show it under.
        ImportedTable("imported_locations", ("country", "region"), ("city", *_VISIT_COUNTS)),
        ImportedTable("imported_devices", ("device",), _VISIT_COUNTS),
        ImportedTable("imported_browsers", ("browser", "browser_version"), _VISIT_COUNTS),
        ImportedTable("imported_operating_systems", ("operating_system", "operating_system_version"), _VISIT_COUNTS),
    )
}


@dataclass(frozen=True)
class ImportRecord:
    """One import of a site, as listed."""

    import_id: int
    source: str
    file_name: str
    first_day: dt.date
    last_day: dt.date
    row_count: int
    imported_at: int


def replace_import(store: Store, site: str, import_id: int) -> None:
    """Remove every row an import wrote (before writing it again, or to delete it)."""

    def drop(target: Store, suffix: str) -> None:
        for name in ("imports", *TABLES):
            # DROP PARTITION of a partition that does not exist is a no-op on both engines.
            target.execute(f"ALTER TABLE {name}{suffix} DROP PARTITION %(id)s", {"id": import_id})

    on_each_host(store, drop)


def insert_rows(store: Store, table: ImportedTable, site: str, import_id: int, rows: Sequence[Sequence[Any]]) -> None:
    """Insert parsed rows (date, texts..., counts...) of one table under an import."""
    if not rows:
        return
    columns = ["site", "import_id", *table.columns]
    data: list[list[Any]] = [[site] * len(rows), [import_id] * len(rows)]
    data += [list(values) for values in zip(*rows, strict=True)]
    store.insert(table.name, columns, data)


def record_import(store: Store, record: ImportRecord, site: str) -> None:
    """Note a finished import (listed by list_imports)."""
    store.insert(
        "imports",
        ["site", "import_id", "source", "file_name", "first_day", "last_day", "row_count", "imported_at"],
        [
            [site],
            [record.import_id],
            [record.source],
            [record.file_name],
            [record.first_day],
            [record.last_day],
            [record.row_count],
            [record.imported_at or int(time.time())],
        ],
    )


def list_imports(store: Store, site: str) -> list[ImportRecord]:
    """The site's imports, oldest first."""
    rows = store.query(
        "SELECT import_id, argMax(source, imported_at), argMax(file_name, imported_at), "
        "toString(argMax(first_day, imported_at)), toString(argMax(last_day, imported_at)), "
        "argMax(row_count, imported_at), toUInt32(max(imported_at)) "
        "FROM imports WHERE site = %(site)s GROUP BY import_id ORDER BY 7, import_id",
        {"site": site},
    )
    return [
        ImportRecord(
            int(row[0]),
            row[1],
            row[2],
            dt.date.fromisoformat(row[3]),
            dt.date.fromisoformat(row[4]),
            int(row[5]),
            int(row[6]),
        )
        for row in rows
    ]


def delete_import(store: Store, site: str, import_id: int) -> bool:
    """Delete one import of a site; False when the site has no such import."""
    if not any(record.import_id == import_id for record in list_imports(store, site)):
        return False
    replace_import(store, site, import_id)
    return True


def imported_days(store: Store, site: str) -> tuple[dt.date, dt.date] | None:
    """First and last day any import of the site covers; None without imports."""
    rows = store.query(
        "SELECT count(), toString(min(first_day)), toString(max(last_day)) FROM imports WHERE site = %(site)s",
        {"site": site},
    )
    if not rows or not rows[0][0]:
        return None
    return dt.date.fromisoformat(rows[0][1]), dt.date.fromisoformat(rows[0][2])
