"""Server access log lines through the ingest pipeline into events, with the log's own timestamps.

A line is parsed (its address cut to the prefix in the parser), filtered to successful page GETs, run
through the same steps as a tracker event, and written in batches straight to events (the rollups
follow through their materialized views) with its fingerprint in log_lines, so a line already
imported is skipped. When the lines are written, the visits and visit rollups of the imported period
are derived again (storage/history.py): the visit job only moves forward from its watermark.

Visitor hashes use the salt of the event's UTC day while it exists (yesterday, today); for an older
day it no longer exists, by design, and an import key stands in: a random 32-byte key made for this
run and never stored, hashed with the day. Visitors are counted per day as usual, but nothing links
them to any other run or to the live data, and once the run ends the hashes cannot be recomputed.
"""

import gzip
import hashlib
import hmac
import io
import os
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from collector.access_log.formats import MAX_LINE, PARSERS, LogLine, Unparsed
from collector.ingest.event import EVENT_COLUMNS
from collector.ingest.geo import country_of
from collector.ingest.pipeline import STEPS, Context, Dropped, drop_bots, put_country, run_pipeline
from collector.ingest.request import MAX_URL, EventRequest
from collector.ingest.search_sink import local_day
from collector.ingest.state import SharedState
from storage.dates import utc_day
from storage.history import complete_since, rederive_rollups, rederive_visits
from storage.log_lines import known_fingerprints, record_fingerprints

BATCH_LINES = 20_000
# Formats without a user agent cannot tell crawlers from people; the bot step would drop every line.
NO_USER_AGENT = frozenset(("common",))
ASSET_SUFFIXES = (
    ".css", ".js", ".mjs", ".map", ".json", ".xml", ".txt", ".ico", ".png", ".jpg", ".jpeg", ".gif", ".svg",
    ".webp", ".avif", ".bmp", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp4", ".webm", ".mp3", ".ogg",
    ".wav", ".pdf", ".zip", ".gz", ".tar", ".rar", ".7z", ".exe", ".dmg", ".iso", ".apk", ".wasm", ".rss",
    ".atom", ".csv", ".php",
)  # fmt: skip
ASSET_PREFIXES = ("/.well-known/", "/wp-json/", "/wp-admin/", "/wp-content/", "/wp-includes/", "/static/", "/assets/")
MAX_FUTURE_SECONDS = 300


MAX_COUNTRY_CACHE = 100_000


def cached_country_step(cache: dict[str, str]) -> Callable[[Context, object], None]:
    """put_country with the country of each prefix looked up once per import (keys are prefixes, never addresses)."""

    def put_country_cached(ctx: Context, state: object) -> None:
        """Country from the truncated prefix, remembered for the run."""
        country = cache.get(ctx.ip_prefix)
        if country is None:
            country = country_of(ctx.ip_prefix)
            if len(cache) < MAX_COUNTRY_CACHE:
                cache[ctx.ip_prefix] = country
        ctx.event.country = country

    return put_country_cached


class ImportState:
    """The shared state seen by the pipeline, with an import key standing in for expired daily salts."""

    def __init__(self, shared: SharedState, key: bytes | None = None) -> None:
        self.shared = shared
        self._key = key or secrets.token_bytes(32)
        self._derived: dict = {}

    @property
    def sites(self) -> dict:
        """The registered sites."""
        return self.shared.sites

    @property
    def referrer_spam(self) -> object:
        """The referrer spam list."""
        return self.shared.referrer_spam

    def salt_for(self, now: float) -> bytes:
        """The day's shared salt while it exists, else the day's key derived from this run's import key."""
        salt = self.shared.salt_for(now)
        if salt is not None:
            return salt
        day = utc_day(now)
        derived = self._derived.get(day)
        if derived is None:
            derived = hmac.new(self._key, day.isoformat().encode(), hashlib.sha256).digest()
            self._derived[day] = derived
        return derived


def skip_reason(line: LogLine, site: str) -> str | None:
    """Why a parsed line is not a page view: non-GET, redirects, errors, assets, another host; None if it is one."""
    if line.method != "GET":
        return "not_get"
    status = line.status
    if status == 304:
        return "not_modified"
    if 300 <= status < 400:
        return "redirect"
    if not 200 <= status < 300 or status in (204, 206):
        return "error" if status >= 400 else "not_page"
    target = line.target
    if not target.startswith("/"):
        return "unparsed"
    path = target.partition("?")[0].partition("#")[0].lower()
    if path.endswith(ASSET_SUFFIXES) or path.startswith(ASSET_PREFIXES) or path == "/favicon.ico":
        return "asset"
    if line.host:
        host = line.host.removeprefix("www.")
        if host != site and not host.endswith("." + site):
            return "other_host"
    return None


def fingerprint(line: LogLine, occurrence: int) -> int:
    """64-bit hash of a line without its address, plus its occurrence among identical lines of its second."""
    text = (
        f"{line.ts}\x1f{line.method}\x1f{line.target}\x1f{line.status}\x1f{line.size}\x1f"
        f"{line.referrer}\x1f{line.user_agent}\x1f{line.host}\x1f{occurrence}"
    )
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass
class ImportResult:
    """Counts of one import: lines read, events stored, lines skipped per reason, visits derived."""

    lines: int = 0
    stored: int = 0
    skipped: Counter = field(default_factory=Counter)
    visits: int = 0
    first_ts: int | None = None
    last_ts: int | None = None


class LogImporter:
    """Turns the lines of one site's logs into events, batch by batch; finish() derives the visits."""

    def __init__(
        self,
        state: SharedState,
        site: str,
        log_format: str,
        oldest_kept: int,
        clock: Callable[[], float] = time.time,
        key: bytes | None = None,
    ) -> None:
        if log_format not in PARSERS:
            raise ValueError(f"unknown log format {log_format!r}; known: {', '.join(PARSERS)}")
        if site not in state.sites:
            raise ValueError(f"{site} is not a registered site")
        self.store = state.store
        self.shared = state
        self.state = ImportState(state, key)
        self.site = site
        self.parse = PARSERS[log_format]
        steps = tuple(step for step in STEPS if step is not drop_bots) if log_format in NO_USER_AGENT else STEPS
        # The lookup was the largest cost of a line (~60 us of ~200); a log holds few distinct prefixes.
        country = cached_country_step({})
        self.steps = tuple(country if step is put_country else step for step in steps)
        self.oldest_kept = oldest_kept
        self.clock = clock
        self.timezone = state.sites[site].timezone
        self.result = ImportResult()
        self._known: dict = {}
        self._rows: list[tuple] = []
        self._prints: list[tuple] = []
        self._searches: Counter = Counter()
        self._second = -1
        self._seen: Counter = Counter()

    def new_file(self) -> None:
        """Occurrence numbers count identical lines within one file."""
        self._second = -1
        self._seen = Counter()

    def _fingerprint(self, line: LogLine) -> int:
        """The line's fingerprint, numbering identical lines of one second in file order."""
        if line.ts != self._second:
            self._second = line.ts
            self._seen = Counter()
        content = (line.method, line.target, line.status, line.size, line.referrer, line.user_agent, line.host)
        occurrence = self._seen[content]
        self._seen[content] += 1
        return fingerprint(line, occurrence)

    def _known_on(self, day: object) -> set[int]:
        """Fingerprints already stored for the site on a UTC day (loaded once per day and run)."""
        known = self._known.get(day)
        if known is None:
            known = known_fingerprints(self.store, self.site, day)
            self._known[day] = known
        return known

    def add(self, text: str) -> None:
        """One raw line of the log."""
        result = self.result
        result.lines += 1
        skipped = result.skipped
        if len(text) > MAX_LINE:
            skipped["unparsed"] += 1
            return
        text = text.rstrip("\r\n")
        if not text.strip():
            skipped["blank"] += 1
            return
        try:
            line = self.parse(text)
        except Unparsed as error:
            skipped[str(error)] += 1
            return
        del text  # from here on only the parsed line, whose address is already the prefix
        reason = skip_reason(line, self.site)
        if reason is None and line.ts < self.oldest_kept:
            reason = "older_than_retention"
        if reason is None and line.ts > self.clock() + MAX_FUTURE_SECONDS:
            reason = "in_the_future"
        url = f"https://{line.host or self.site}{line.target}"
        if reason is None and len(url) > MAX_URL:
            reason = "too_long"
        if reason is not None:
            skipped[reason] += 1
            return
        print_ = self._fingerprint(line)
        day = utc_day(line.ts)
        known = self._known_on(day)
        if print_ in known:
            skipped["already_imported"] += 1
            return
        request = EventRequest(name="pageview", url=url, domains=[self.site], referrer=line.referrer)
        ctx = Context(request, self.site, line.ip_prefix, line.user_agent, float(line.ts))
        try:
            event = run_pipeline(ctx, self.state, self.steps)  # type: ignore[arg-type]
        except Dropped as drop:
            skipped[drop.reason] += 1
            return
        known.add(print_)
        self._rows.append(event.row())
        self._prints.append((self.site, day, print_))
        if ctx.search is not None:
            self._searches[(self.site, local_day(line.ts, self.timezone), ctx.search.term)] += ctx.search.searches
        result.stored += 1
        result.first_ts = line.ts if result.first_ts is None else min(result.first_ts, line.ts)
        result.last_ts = line.ts if result.last_ts is None else max(result.last_ts, line.ts)
        if len(self._rows) >= BATCH_LINES:
            self.flush()

    def flush(self) -> None:
        """Write the batch: events (and so their rollups), search counts, then the lines' fingerprints."""
        if self._rows:
            self.store.insert("events", EVENT_COLUMNS, list(zip(*self._rows, strict=True)))
        if self._searches:
            keys = list(self._searches)
            self.store.insert(
                "search_terms",
                ("site", "day", "term", "searches", "zero_result_searches"),
                [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], list(self._searches.values()),
                 [0] * len(keys)],
            )  # fmt: skip
        if self._prints:
            record_fingerprints(self.store, self._prints)
        self._rows, self._prints, self._searches = [], [], Counter()

    def finish(self) -> ImportResult:
        """Write what is left and derive the daily rollups and the visits of the imported period again."""
        self.flush()
        result = self.result
        if result.first_ts is not None and result.last_ts is not None:
            rederive_rollups(self.store, self.site, result.first_ts, result.last_ts + 1)
            complete = complete_since(self.store, self.site, self.clock())
            result.visits = rederive_visits(self.store, self.site, result.first_ts, result.last_ts + 1, complete)
        return result


class LogFile:
    """An access log opened for reading lines, gzip or plain, with how far into the file reading is."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw = open(path, "rb")  # noqa: SIM115 (closed by close())
        self.gzipped = self.raw.read(2) == b"\x1f\x8b"
        self.raw.seek(0)
        stream = gzip.GzipFile(fileobj=self.raw) if self.gzipped else self.raw
        self.text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")  # type: ignore[arg-type]
        self.inode = os.fstat(self.raw.fileno()).st_ino

    def position(self) -> int:
        """Bytes of the file (compressed, for gzip) read so far."""
        return self.raw.tell()

    def lines(self) -> Iterator[str]:
        """Every line to the current end of the file."""
        yield from self.text

    def rotated(self) -> bool:
        """Whether the path now names another file, or the file was truncated (log rotation)."""
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return False
        return status.st_ino != self.inode or status.st_size < self.raw.tell()

    def close(self) -> None:
        """Close the file."""
        self.text.close()
        self.raw.close()


def import_files(
    importer: LogImporter, paths: Iterable[Path], progress: Callable[[int, int], None] | None = None
) -> ImportResult:
    """Import whole files in order; progress(lines read, bytes read) about five times a second."""
    done_bytes = 0
    last = time.monotonic()
    for path in paths:
        log_file = LogFile(path)
        importer.new_file()
        try:
            for text in log_file.lines():
                importer.add(text)
                if progress is not None and importer.result.lines % 1000 == 0 and time.monotonic() - last > 0.2:
                    last = time.monotonic()
                    progress(importer.result.lines, done_bytes + log_file.position())
            done_bytes += os.path.getsize(path)
        finally:
            log_file.close()
    if progress is not None:
        progress(importer.result.lines, done_bytes)
    return importer.result


def follow_file(
    importer: LogImporter,
    path: Path,
    keep_going: Callable[[], bool],
    on_batch: Callable[[ImportResult], None] | None = None,
    poll: float = 0.5,
) -> ImportResult:
    """Import a file to its end, then go on with lines appended to it (and to the file a rotation puts there)."""
    log_file = LogFile(path)
    importer.new_file()
    pending = ""
    try:
        while keep_going():
            for text in log_file.lines():
                if not text.endswith("\n"):
                    pending += text  # a line still being written
                    continue
                importer.add(pending + text)
                pending = ""
            importer.flush()
            if on_batch is not None:
                on_batch(importer.result)
            if log_file.rotated():
                log_file.close()
                log_file = LogFile(path)
                importer.new_file()
                pending = ""
                continue
            time.sleep(poll)
            if time.time() % 600 < poll:
                importer.shared.refresh()  # a new day's salt, new sites
    finally:
        log_file.close()
    return importer.result
