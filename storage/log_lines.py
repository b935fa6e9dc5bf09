"""Fingerprints of imported access log lines (schemas/0018), so a line is imported once per site."""

import datetime as dt
from collections.abc import Sequence

from storage.store import Store


def known_fingerprints(store: Store, site: str, day: dt.date) -> set[int]:
    """Fingerprints of the lines already imported for a site on a UTC day."""
    rows = store.query(
        "SELECT fingerprint FROM log_lines WHERE site = %(site)s AND day = toDate(%(day)s)",
        {"site": site, "day": day.isoformat()},
    )
    return {int(row[0]) for row in rows}


def record_fingerprints(store: Store, rows: Sequence[tuple[str, dt.date, int]]) -> None:
    """Store (site, day, fingerprint) rows of imported lines."""
    store.insert("log_lines", ("site", "day", "fingerprint"), [list(column) for column in zip(*rows, strict=True)])
