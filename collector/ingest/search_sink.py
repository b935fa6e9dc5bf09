"""Search counts summed in memory per (site, local day, term) and written to search_terms in batches."""

import datetime as dt
import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from collector.ingest.batcher import BufferFull, insert_rows
from collector.ingest.search_terms import Search
from storage.store import Store, StoreError

log = logging.getLogger("teller.buffer")

SEARCH_COLUMNS: Sequence[str] = ("site", "day", "term", "searches", "zero_result_searches")


def local_day(now: float, timezone: str) -> dt.date:
    """Calendar day of a timestamp in a site's time zone."""
    return dt.datetime.fromtimestamp(now, ZoneInfo(timezone)).date()


def search_row(site: str, timezone: str, now: float, search: Search) -> tuple:
    """A search_terms row counting one search on the site's local day."""
    return (site, local_day(now, timezone), search.term, search.searches, search.zero_results)


class SearchSumSink:
    """search_terms rows added up per (site, day, term) before they are written.

    Only the site, day, term and two counters are ever held, so nothing in memory or in a written
    block relates a search to a visitor, a request or a time finer than the flush interval.
    """

    table = "search_terms"

    def __init__(self, store: Store) -> None:
        self.store = store
        self._sums: dict[tuple[str, dt.date, str], list[int]] = {}
        # Summed rows of earlier intervals whose insert failed, kept for the next try.
        self._sealed: list[tuple] = []

    def __len__(self) -> int:
        return len(self._sums) + len(self._sealed)

    def hold(self, rows: Sequence[tuple], max_rows: int) -> int:
        """Add rows' counts to their keys' sums; all or none (BufferFull when new keys pass max_rows)."""
        keys = [(site, day, term) for site, day, term, _, _ in rows]
        new = len({key for key in keys if key not in self._sums})
        if new and len(self._sums) + len(self._sealed) + new > max_rows:
            raise BufferFull(self.table)
        for key, (_, _, _, searches, zero) in zip(keys, rows, strict=True):
            counts = self._sums.setdefault(key, [0, 0])
            counts[0] += searches
            counts[1] += zero
        return len(self._sums)

    def seal(self) -> None:
        """Turn the sums into rows for the next insert and start new sums."""
        self._sealed.extend((*key, searches, zero) for key, (searches, zero) in self._sums.items())
        self._sums = {}

    def write(self) -> int | None:
        """Insert the summed rows; on failure keep them for the next try."""
        if not self._sealed:
            return None
        batch = self._sealed
        try:
            insert_rows(self.store, self.table, SEARCH_COLUMNS, batch)
        except StoreError as error:
            log.warning("writing %d rows to %s failed, will retry: %s", len(batch), self.table, error)
            raise
        self._sealed = []
        return len(batch)

    def close(self) -> None:
        """Nothing is kept open."""
