"""Turns validated payloads into buffered rows: one pipeline run per site the event names."""

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from collector.ingest.batcher import Batcher, BufferFull
from collector.ingest.pipeline import Context, Dropped, run_pipeline
from collector.ingest.rate_limit import PrefixRateLimiter
from collector.ingest.request import EventRequest
from collector.ingest.search_sink import search_row
from collector.ingest.search_terms import Search
from collector.ingest.state import SharedState


@dataclass
class Outcome:
    """What happened to one payload: rows buffered and reasons for the ones dropped."""

    buffered: int = 0
    dropped: list[str] = field(default_factory=list)


class IngestService:
    """The pipeline plus the batchers of events and search counts, with counters for the metrics endpoint."""

    def __init__(
        self,
        state: SharedState,
        buffer: Batcher,
        clock: Callable[[], float] = time.time,
        searches: Batcher | None = None,
        limiter: PrefixRateLimiter | None = None,
    ) -> None:
        self.state = state
        self.limiter = limiter or PrefixRateLimiter(0, 1)
        self.buffer = buffer
        self.searches = searches
        self.clock = clock
        self.accepted = 0
        self.dropped: Counter[str] = Counter()

    def ingest(
        self, request: EventRequest, ip_prefix: str, user_agent: str, prefetch: bool = False, do_not_track: bool = False
    ) -> Outcome:
        """Run the pipeline for every domain of the request and buffer the resulting rows."""
        return self.ingest_many((request,), ip_prefix, user_agent, prefetch, do_not_track)

    def ingest_many(
        self,
        requests: Sequence[EventRequest],
        ip_prefix: str,
        user_agent: str,
        prefetch: bool = False,
        do_not_track: bool = False,
    ) -> Outcome:
        """Run the pipeline for every request and domain; buffer all rows at once, or none (BufferFull)."""
        outcome = Outcome()
        now = self.clock()
        rows: list[tuple] = []
        searches: list[tuple[str, Search, bool]] = []
        for request in requests:
            for domain in request.domains:
                ctx = Context(request, domain.removeprefix("www."), ip_prefix, user_agent, now, prefetch, do_not_track)
                try:
                    event = run_pipeline(ctx, self.state)
                except Dropped as drop:
                    outcome.dropped.append(drop.reason)
                    self.dropped[drop.reason] += 1
                    continue
                if ctx.keep_event:
                    rows.append(event.row())
                if ctx.search is not None and self.searches is not None:
                    searches.append((ctx.site, ctx.search, ctx.keep_event))
                outcome.buffered += 1
        if rows:
            # One spool write for the whole request: the largest per-event cost on the batch endpoint.
            self.buffer.add(rows)
        for site, search, with_event in searches:
            try:
                row = search_row(site, self.state.sites[site].timezone, now, search)
                self.searches.add((row,))  # type: ignore[union-attr]
            except BufferFull:
                if not with_event:
                    raise
                # The event row is kept; failing the request would make the client resend it.
                self.dropped["search_buffer_full"] += 1
        self.accepted += outcome.buffered
        return outcome
