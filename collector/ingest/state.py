"""Sites and salts every collector process shares through ClickHouse, cached and refreshed."""

import datetime as dt
import time
from collections.abc import Callable, Iterable

from collector.ingest.spam import ReferrerSpam
from storage.dates import utc_day
from storage.salts import delete_old_salts, ensure_salts
from storage.sites import Site, add_site, list_sites
from storage.store import Store


class SharedState:
    """A per-process cache of the sites list and the daily salts; the job table reloads it on a timer."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time, referrer_spam: Iterable[str] = ()):
        self.store = store
        self.clock = clock
        self.sites: dict[str, Site] = {}
        self.salts: dict[dt.date, bytes] = {}
        # Not shared through ClickHouse: the shipped list plus TELLER_REFERRER_SPAM, the same for every site.
        self.referrer_spam = ReferrerSpam(referrer_spam)

    def refresh(self) -> None:
        """Reload sites and salts; create missing salts and delete expired ones."""
        now = self.clock()
        self.sites = {site.domain: site for site in list_sites(self.store)}
        self.salts = ensure_salts(self.store, now)
        delete_old_salts(self.store, now)

    def ensure_sites(self, domains: list[str], timezone: str) -> None:
        """Register the given domains if they are not registered yet."""
        known = {site.domain for site in list_sites(self.store)}
        for domain in domains:
            if domain.strip().lower().removeprefix("www.") not in known:
                add_site(self.store, domain, timezone)

    def salt_for(self, now: float) -> bytes | None:
        """Salt of the UTC day containing now, or None before the first refresh."""
        return self.salts.get(utc_day(now))
