"""Recent ingest drops for the installation check: site, reason and time only, sampled per process."""

import threading

from storage.store import Store

# One row per (site, reason) per this many seconds and process: enough to tell a user what happened,
# little enough that a flood of bots writes a handful of rows.
SAMPLE_SECONDS = 10
MAX_PENDING = 1_000
MAX_SITE_LENGTH = 253


class DropLog:
    """Collects drops in memory (cheap on the ingest path) until flush writes them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: dict[tuple[str, str], int] = {}
        self._last: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def note(self, site: str, reason: str, now: float) -> None:
        """Remember one dropped event unless its site and reason were noted in the last SAMPLE_SECONDS."""
        key = (site[:MAX_SITE_LENGTH], reason)
        second = int(now)
        with self._lock:
            last = self._last.get(key)
            if last is not None and second - last < SAMPLE_SECONDS:
                return
            if len(self._pending) >= MAX_PENDING:
                return  # a flood of made-up domains: the rest waits for the next interval
            self._last[key] = second
            self._pending[key] = second

    def flush(self) -> int:
        """Write the noted drops; return how many rows were written."""
        with self._lock:
            pending, self._pending = self._pending, {}
            if len(self._last) > 10 * MAX_PENDING:
                self._last.clear()
        if not pending:
            return 0
        keys = list(pending)
        self.store.insert(
            "ingest_drops",
            ["site", "reason", "ts"],
            [[site for site, _ in keys], [reason for _, reason in keys], [pending[key] for key in keys]],
        )
        return len(keys)


def drops_since(store: Store, since: int, site: str | None = None) -> list[tuple[str, str, int]]:
    """(site, reason, last time) of the drops since a time, for one site or every site, newest first."""
    where = "ts >= toDateTime(%(s)s)" + (" AND site = %(d)s" if site is not None else "")
    sql = (
        f"SELECT site, reason, toUInt32(max(ts)) AS last FROM ingest_drops WHERE {where} "
        "GROUP BY site, reason ORDER BY last DESC, site, reason LIMIT 20"
    )
    return [(str(s), str(r), int(t)) for s, r, t in store.query(sql, {"s": since, "d": site or ""})]


def first_event_since(store: Store, site: str, since: int) -> tuple[int, str, str] | None:
    """(time, event name, pathname) of the site's first stored event since a time, or None."""
    sql = (
        "SELECT toUInt32(ts), name, pathname FROM events WHERE site = %(d)s AND ts >= toDateTime(%(s)s) "
        "ORDER BY ts LIMIT 1"
    )
    rows = store.query(sql, {"d": site, "s": since})
    return (int(rows[0][0]), str(rows[0][1]), str(rows[0][2])) if rows else None
