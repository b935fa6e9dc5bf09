"""`teller demo-data`: months of realistic synthetic events for one site, written like the collector writes them.

Every distinct user agent, address prefix, page, referrer and campaign goes through the collector's
own enrichment (user-agent parser, referrer classifier, geo lookup, page-URL parser, keyed visitor
hash with a per-day salt); events are then assembled column-wise with numpy and inserted in large
columnar batches through Store.insert, the call the write buffer makes.
"""

import datetime as dt
import queue
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, fields

import numpy as np

from collector.ingest.client_ip import truncate_ip
from collector.ingest.event import EVENT_COLUMNS, Event
from collector.ingest.geo import country_of
from collector.ingest.page_url import parse_page_url
from collector.ingest.pipeline import MAX_REFERRER
from collector.ingest.referrer import classify_referrer
from collector.ingest.useragent import parse_user_agent
from collector.ingest.visitor import visitor_id
from storage.dates import utc_day
from storage.derived_rollups import derive
from storage.salts import current_salts
from storage.store import Store
from teller.demo_pools import CAMPAIGNS, SCREEN_WIDTHS, SEARCH_TERMS, page_paths, public_ipv4, referrer_pool
from teller.demo_pools import user_agents as browser_agents

DAY = 86_400
# Rows per insert: large batches are what make chdb fast; each batch spans few daily partitions.
BATCH_ROWS = 1_000_000
MAX_BATCH_DAYS = 30
CAMPAIGN_SHARE = 0.08
ENGAGED_SHARE = 0.6
CUSTOM_SHARE = 0.05
# Visits per hour of the day (UTC), a typical European weekday curve.
HOURLY = np.array([2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 8, 8, 8, 8, 8, 8, 7, 7, 7, 6, 4, 3], dtype=float)
CUSTOM_EVENTS = (
    ("Signup", ("plan",), ("free",)),
    ("Signup", ("plan",), ("pro",)),
    ("Outbound Link: Click", ("url",), ("https://github.com/",)),
    ("File Download", ("url",), ("/files/whitepaper.pdf",)),
    ("Form: Submission", ("path",), ("/contact",)),
)
_EMPTY: list[str] = []


def _strings(values: list[str]) -> np.ndarray:
    """An object array of strings (numpy would otherwise pick a fixed-width dtype)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


@dataclass
class Pools:
    """Enriched distinct values the events are drawn from, as numpy arrays indexed by pool position."""

    agents: list[str]
    browser: np.ndarray
    browser_version: np.ndarray
    os: np.ndarray
    os_version: np.ndarray
    device: np.ndarray
    prefixes: list[str]
    country: np.ndarray
    paths: np.ndarray
    path_weights: np.ndarray
    referrer: np.ndarray
    referrer_host: np.ndarray
    source: np.ndarray
    source_class: np.ndarray
    referrer_weights: np.ndarray
    utm: list[np.ndarray]
    campaign_weights: np.ndarray


def build_pools(site: str, seed: int, agents: int = 5_000, prefixes: int = 20_000) -> Pools:
    """Draw and enrich every distinct value once, with the collector's own functions."""
    rng = random.Random(seed)
    agent_strings = browser_agents(rng, agents)
    clients = [parse_user_agent(agent) for agent in agent_strings]
    prefix_strings = [truncate_ip(public_ipv4(rng)) or "0.0.0.0" for _ in range(prefixes)]
    pages = page_paths(rng)
    paths = [path for path, _ in pages]
    weights = [weight for _, weight in pages]
    paths += ["/search?q=" + term.replace(" ", "+") for term in SEARCH_TERMS]
    weights += [0.02] * len(SEARCH_TERMS)
    pathnames = [parse_page_url(f"https://{site}{path}").pathname for path in paths]
    referrers = referrer_pool(rng)
    classified = [classify_referrer(url or None, site) for url, _ in referrers]
    stored = [
        url.split("?", 1)[0].split("#", 1)[0][:MAX_REFERRER] if r.host else ""
        for (url, _), r in zip(referrers, classified, strict=True)
    ]
    campaigns = [("", 1 - CAMPAIGN_SHARE)] + [(query, weight) for query, weight in CAMPAIGNS]
    total = sum(weight for _, weight in CAMPAIGNS)
    utms = [parse_page_url(f"https://{site}/?{query}").utm if query else ("",) * 5 for query, _ in campaigns]
    campaign_weights = [1 - CAMPAIGN_SHARE] + [CAMPAIGN_SHARE * weight / total for _, weight in CAMPAIGNS]
    return Pools(
        agents=agent_strings,
        browser=_strings([c.browser for c in clients]),
        browser_version=_strings([c.browser_version for c in clients]),
        os=_strings([c.os for c in clients]),
        os_version=_strings([c.os_version for c in clients]),
        device=_strings([c.device for c in clients]),
        prefixes=prefix_strings,
        country=_strings([country_of(prefix) for prefix in prefix_strings]),
        paths=_strings(pathnames),
        path_weights=np.array(weights) / sum(weights),
        referrer=_strings(stored),
        referrer_host=_strings([r.host for r in classified]),
        source=_strings([r.source for r in classified]),
        source_class=_strings([r.source_class for r in classified]),
        referrer_weights=np.array([w for _, w in referrers]) / sum(w for _, w in referrers),
        utm=[_strings([utm[i] for utm in utms]) for i in range(5)],
        campaign_weights=np.array(campaign_weights),
    )


def daily_counts(events: int, first_day: int, days: int, today_share: float, rng: np.random.Generator) -> np.ndarray:
    """Events per UTC day, oldest first: growth, a weekly rhythm, noise, a few launch spikes; today partly over."""
    age = np.arange(days)[::-1]
    growth = 1.0 - 0.5 * age / max(days, 1)
    # 1970-01-01 was a Thursday, so (day number + 3) % 7 counts from Monday.
    weekday = (first_day // DAY + np.arange(days) + 3) % 7
    weekly = np.where(weekday >= 5, 0.7, 1.0)
    spikes = 1 + 2.5 * (rng.random(days) < 0.01)
    weights = growth * weekly * spikes * rng.lognormal(0, 0.12, days)
    weights[-1] *= today_share
    return rng.multinomial(events, weights / weights.sum())


class Generator:
    """Turns per-day event counts into column batches for the events table."""

    def __init__(self, site: str, pools: Pools, salts: dict[dt.date, bytes], seed: int, visitors: int) -> None:
        self.site = site
        self.pools = pools
        self.salts = salts
        self.rng = np.random.default_rng(seed)
        self.visitors = visitors
        # A visitor keeps one browser and one network; low indices come back more often.
        self.visitor_agent = self.rng.integers(0, len(pools.agents), visitors)
        self.visitor_prefix = self.rng.integers(0, len(pools.prefixes), visitors)
        self.defaults = {f.name: f.default for f in fields(Event) if f.default is not MISSING}

    def day(self, start: int, count: int, until: int) -> dict[str, np.ndarray]:
        """Exactly count events of the UTC day starting at start, none after until."""
        rng, pools = self.rng, self.pools
        visits = max(1, int(count / (1 + ENGAGED_SHARE + CUSTOM_SHARE) / 2.0) + 8)
        pageviews = 1 + np.minimum(rng.geometric(0.45, visits) - 1, 12)
        visitor = (self.visitors * rng.random(visits) ** 2).astype(np.int64)
        hours = rng.choice(24, visits, p=HOURLY / HOURLY.sum())
        visit_start = start + hours * 3600 + rng.integers(0, 3600, visits)
        visit_start = np.minimum(visit_start, until)
        referrer = rng.choice(len(pools.referrer), visits, p=pools.referrer_weights)
        campaign = rng.choice(len(pools.campaign_weights), visits, p=pools.campaign_weights)
        width_values, width_weights = zip(*SCREEN_WIDTHS, strict=True)
        widths = np.array(width_values, dtype=np.uint16)[
            rng.choice(len(width_values), visits, p=np.array(width_weights) / sum(width_weights))
        ] * (rng.random(visits) < 0.33)

        # One row per pageview, then engagement and custom events copied from some of them.
        pv_visit = np.repeat(np.arange(visits), pageviews)
        first = np.repeat(np.cumsum(pageviews) - pageviews, pageviews)
        position = np.arange(len(pv_visit)) - first
        pv_ts = visit_start[pv_visit] + position * rng.integers(20, 180, len(pv_visit))
        page = rng.choice(len(pools.paths), len(pv_visit), p=pools.path_weights)
        engaged = np.flatnonzero(rng.random(len(pv_visit)) < ENGAGED_SHARE)
        custom = np.flatnonzero(rng.random(len(pv_visit)) < CUSTOM_SHARE)
        rows = np.concatenate([np.arange(len(pv_visit)), engaged, custom])
        kind = np.concatenate(
            [np.zeros(len(pv_visit), np.int8), np.ones(len(engaged), np.int8), np.full(len(custom), 2, np.int8)]
        )
        if len(rows) > count:
            keep = np.sort(rng.choice(len(rows), count, replace=False))
            rows, kind = rows[keep], kind[keep]
        n = len(rows)
        ev_visit = pv_visit[rows]
        ts = pv_ts[rows] + np.where(kind == 1, rng.integers(5, 300, n), np.where(kind == 2, 3, 0))
        ts = np.minimum(ts, until).astype(np.uint32)
        landing = position[rows] == 0

        # The keyed hash of the visitor with the day's salt: one real visitor_id() per visitor and day.
        day_salt = self.salts.get(utc_day(start)) or secrets.token_bytes(32)
        present, back = np.unique(visitor[ev_visit], return_inverse=True)
        agents, prefixes = self.visitor_agent[present], self.visitor_prefix[present]
        ids = np.fromiter(
            (
                visitor_id(day_salt, self.site, pools.prefixes[p], pools.agents[a])
                for a, p in zip(agents, prefixes, strict=True)
            ),
            dtype=np.uint64,
            count=len(present),
        )
        agent = self.visitor_agent[visitor[ev_visit]]
        prefix = self.visitor_prefix[visitor[ev_visit]]

        # The landing page carries the external referrer and the campaign; later pages refer to the site itself.
        ref = np.where(landing, referrer[ev_visit], 0)
        camp = np.where(landing, campaign[ev_visit], 0)
        custom_kind = rng.integers(0, len(CUSTOM_EVENTS), n)
        names = np.where(kind == 0, "pageview", np.where(kind == 1, "engagement", "")).astype(object)
        is_custom = np.flatnonzero(kind == 2)
        names[is_custom] = [CUSTOM_EVENTS[k][0] for k in custom_kind[is_custom]]
        prop_keys = np.empty(n, dtype=object)
        prop_values = np.empty(n, dtype=object)
        prop_keys.fill(_EMPTY)
        prop_values.fill(_EMPTY)
        for index in is_custom:
            _, prop_keys[index], prop_values[index] = CUSTOM_EVENTS[custom_kind[index]]
        engagement = kind == 1
        columns: dict[str, np.ndarray] = {
            "site": np.full(n, self.site, dtype=object),
            "ts": ts,
            "name": names,
            "visitor_id": ids[back],
            "hostname": np.full(n, self.site, dtype=object),
            "pathname": pools.paths[page[rows]],
            "referrer": pools.referrer[ref],
            "referrer_host": pools.referrer_host[ref],
            "source": pools.source[ref],
            "source_class": pools.source_class[ref],
            "utm_source": pools.utm[0][camp],
            "utm_medium": pools.utm[1][camp],
            "utm_campaign": pools.utm[2][camp],
            "utm_content": pools.utm[3][camp],
            "utm_term": pools.utm[4][camp],
            "browser": pools.browser[agent],
            "browser_version": pools.browser_version[agent],
            "os": pools.os[agent],
            "os_version": pools.os_version[agent],
            "device": pools.device[agent],
            "country": pools.country[prefix],
            "screen_width": np.where(kind == 0, widths[ev_visit], 0).astype(np.uint16),
            "interactive": np.ones(n, dtype=np.uint8),
            "engagement_ms": np.where(engagement, rng.lognormal(9.5, 1.2, n).clip(0, 3_600_000), 0).astype(np.uint32),
            "scroll_depth": np.where(engagement, rng.integers(5, 101, n), 0).astype(np.uint8),
            "prop_keys": prop_keys,
            "prop_values": prop_values,
        }
        if n < count:
            # The visits fell short of the day's count (rare): more visits of the same day make up the rest.
            rest = self.day(start, count - n, until)
            columns = {name: np.concatenate([column, rest[name]]) for name, column in columns.items()}
        return columns

    def batches(self, counts: np.ndarray, first_day: int, until: int) -> Iterator[tuple[int, list[np.ndarray]]]:
        """Column batches in EVENT_COLUMNS order, a few days each, oldest first, with their row counts."""
        days: list[dict[str, np.ndarray]] = []
        rows = 0
        for index, count in enumerate(counts):
            if count:
                days.append(self.day(first_day + index * DAY, int(count), until))
                rows += int(count)
            if days and (rows >= BATCH_ROWS or len(days) >= MAX_BATCH_DAYS or index == len(counts) - 1):
                yield rows, self._columns(days, rows)
                days, rows = [], 0

    def _columns(self, days: list[dict[str, np.ndarray]], rows: int) -> list[np.ndarray]:
        """Concatenate days; a column this generator does not know gets the Event default."""
        out = []
        for name in EVENT_COLUMNS:
            if name in days[0]:
                out.append(np.concatenate([day[name] for day in days]))
            else:
                column = np.empty(rows, dtype=object)
                column.fill(self.defaults.get(name, ""))
                out.append(column)
        return out


def fill(
    store: Store,
    site: str,
    events: int,
    days: int,
    seed: int = 1,
    progress: Callable[[int], None] = lambda rows: None,
    now: float | None = None,
) -> int:
    """Insert events spread over the last days (today included, nothing after now); return rows written."""
    now = time.time() if now is None else now
    until = int(now)
    today = until - until % DAY
    first_day = today - (days - 1) * DAY
    rng = np.random.default_rng(seed)
    counts = daily_counts(events, first_day, days, max((until - today) / DAY, 0.01), rng)
    salts = current_salts(store, utc_day(now))
    generator = Generator(site, build_pools(site, seed), salts, seed + 1, visitors=max(1_000, events // 6))
    # Generation (numpy, the GIL mostly released) overlaps the engine's insert of the previous batch.
    batches: queue.Queue[tuple[int, list[np.ndarray]] | None] = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            for batch in generator.batches(counts, first_day, until):
                batches.put(batch)
        except BaseException as error:
            failure.append(error)
        finally:
            batches.put(None)

    threading.Thread(target=produce, name="demo-data", daemon=True).start()
    written = 0
    while (batch := batches.get()) is not None:
        rows, columns = batch
        # The server engine's driver wants plain Python values; chdb takes the arrays as they are.
        store.insert("events", EVENT_COLUMNS, columns if store.engine == "embedded" else [c.tolist() for c in columns])
        written += rows
        progress(rows)
    if failure:
        raise failure[0]
    # The days before today, derived now rather than by the rollups job a minute after `teller serve` starts.
    derive(store, utc_day(first_day), utc_day(today), site)
    return written
