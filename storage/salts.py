"""Daily random salts for visitor hashes, shared by every process through ClickHouse."""

import datetime as dt
import secrets
import time

from storage.dates import utc_day
from storage.partitions import drop_partitions_before
from storage.store import Store
from storage.topology import on_each_host


def ensure_salts(store: Store, now: float | None = None) -> dict[dt.date, bytes]:
    """Make sure yesterday's, today's and tomorrow's salts exist; return the winning salt per day.

    Tomorrow's salt is created a day early so that every process has seen the same winner long
    before midnight; when two processes race to create one, the smallest candidate wins everywhere.
    """
    now = time.time() if now is None else now
    today = utc_day(now)
    wanted = [today, today + dt.timedelta(days=1)]
    salts = current_salts(store, today)
    missing = [day for day in wanted if day not in salts]
    if missing:
        store.insert(
            "salts",
            ["day", "salt", "created_at"],
            [missing, [secrets.token_hex(32) for _ in missing], [int(now)] * len(missing)],
        )
        salts = current_salts(store, today)
    return salts


def current_salts(store: Store, today: dt.date) -> dict[dt.date, bytes]:
    """The winning salt of yesterday, today and tomorrow, where they exist."""
    rows = store.query(
        "SELECT toString(day), min(salt) FROM salts WHERE day >= toDate(%(since)s) GROUP BY day",
        {"since": (today - dt.timedelta(days=1)).isoformat()},
    )
    return {dt.date.fromisoformat(day): bytes.fromhex(salt) for day, salt in rows}


def delete_old_salts(store: Store, now: float | None = None) -> None:
    """Drop every salt older than yesterday, so no visitor hash can be recomputed after 48 hours."""
    cutoff = (utc_day(time.time() if now is None else now) - dt.timedelta(days=1)).strftime("%Y%m%d")
    on_each_host(store, lambda target, suffix: drop_partitions_before(target, "salts" + suffix, cutoff))
