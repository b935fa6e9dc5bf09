"""Search counts summed in memory per (site, local day, term) and written to search_terms in batches."""

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from collector.ingest.buffer import BufferFull, WriteBuffer
from collector.ingest.search_terms import Search
from storage.store import Store

SEARCH_COLUMNS: Sequence[str] = ("site", "day", "term", "searches", "zero_result_searches")


def local_day(now: float, timezone: str) -> dt.date:
    """Calendar day of a timestamp in a site's time zone."""
    return dt.datetime.fromtimestamp(now, ZoneInfo(timezone)).date()


class SearchBuffer(WriteBuffer):
    """A WriteBuffer for search_terms that adds up counts of the same key before writing.

    Only the site, day, term and two counters are ever held, so nothing in memory or in a written
    block relates a search to a visitor, a request or a time finer than the flush interval.
    """

    def __init__(
        self, store: Store, flush_rows: int = 10_000, flush_interval: float = 3600.0, max_rows: int = 1_000_000
    ) -> None:
        super().__init__(store, "search_terms", SEARCH_COLUMNS, flush_rows, flush_interval, max_rows)
        self._sums: dict[tuple[str, dt.date, str], list[int]] = {}

    def __len__(self) -> int:
        return super().__len__() + len(self._sums)

    def add(self, site: str, timezone: str, now: float, search: Search) -> None:
        """Count one search on the site's local day; raise BufferFull when too many keys are held."""
        key = (site, local_day(now, timezone), search.term)
        with self._lock:
            counts = self._sums.get(key)
            if counts is not None:
                counts[0] += search.searches
                counts[1] += search.zero_results
                return
            if len(self._sums) + len(self.rows) + len(self._pending) >= self.max_rows:
                raise BufferFull(self.table)
            self._sums[key] = [search.searches, search.zero_results]
            if len(self._sums) >= self.flush_rows:
                self._wake.set()

    def flush(self) -> int:
        """Turn the sums into rows and write them; return rows written."""
        with self._lock:
            self.rows.extend((*key, searches, zero) for key, (searches, zero) in self._sums.items())
            self._sums = {}
        return super().flush()
