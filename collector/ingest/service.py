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
from storage.ingest_drops import DropLog


@dataclass
class Outcome:
    """What happened to one payload: rows buffered and reasons for the ones dropped."""

    buffered: int = 0
    dropped: list[str] = field(default_factory=list)


class Pending:
    """The rows of one ingest request, run through the pipeline event by event and buffered together by commit."""

    def __init__(
        self, service: "IngestService", ip_prefix: str, user_agent: str, prefetch: bool, do_not_track: bool
    ) -> None:
        self.service = service
        self.ip_prefix = ip_prefix
        self.user_agent = user_agent
        self.prefetch = prefetch
        self.do_not_track = do_not_track
        self.now = service.clock()
        self.outcome = Outcome()
        self.rows: list[tuple] = []
        self.searches: list[tuple[str, Search, bool]] = []

    def add(self, request: EventRequest) -> None:
        """Run the pipeline for every domain of the request (its domains are distinct, see request.py)."""
        service, outcome = self.service, self.outcome
        for domain in request.domains:
            ctx = Context(request, domain, self.ip_prefix, self.user_agent, self.now, self.prefetch, self.do_not_track)
            try:
                event = run_pipeline(ctx, service.state)
            except Dropped as drop:
                outcome.dropped.append(drop.reason)
                service.dropped[drop.reason] += 1
                if service.drop_log is not None:
                    service.drop_log.note(domain, drop.reason, self.now)
                continue
            if ctx.keep_event:
                self.rows.append(event.row())
            if ctx.search is not None and service.searches is not None:
                self.searches.append((ctx.site, ctx.search, ctx.keep_event))
            outcome.buffered += 1


class IngestService:
    """The pipeline plus the batchers of events and search counts, with counters for the metrics endpoint."""

    def __init__(
        self,
        state: SharedState,
        buffer: Batcher,
        clock: Callable[[], float] = time.time,
        searches: Batcher | None = None,
        limiter: PrefixRateLimiter | None = None,
        drop_log: DropLog | None = None,
    ) -> None:
        self.state = state
        self.drop_log = drop_log  # what the installation check reads: site, reason and time of drops
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
        pending = self.begin(ip_prefix, user_agent, prefetch, do_not_track)
        for request in requests:
            pending.add(request)
        return self.commit(pending)

    def begin(self, ip_prefix: str, user_agent: str, prefetch: bool = False, do_not_track: bool = False) -> Pending:
        """An empty Pending for one request's events: add them, then commit."""
        return Pending(self, ip_prefix, user_agent, prefetch, do_not_track)

    def commit(self, pending: Pending) -> Outcome:
        """Buffer the pending rows all at once, or none (BufferFull), then their search counts."""
        if pending.rows:
            # One spool write for the whole request: the largest per-event cost on the batch endpoint.
            self.buffer.add(pending.rows)
        for site, search, with_event in pending.searches:
            try:
                row = search_row(site, self.state.sites[site].timezone, pending.now, search)
                self.searches.add((row,))  # type: ignore[union-attr]
            except BufferFull:
                if not with_event:
                    raise
                # The event row is kept; failing the request would make the client resend it.
                self.dropped["search_buffer_full"] += 1
        self.accepted += pending.outcome.buffered
        return pending.outcome
