"""Sites and salts every collector process shares through ClickHouse, cached and refreshed."""

import datetime as dt
import time
from collections.abc import Callable

from collector.periodic import Periodic
from collector.storage.salts import delete_old_salts, ensure_salts
from collector.storage.sites import Site, add_site, list_sites
from collector.storage.store import Store, StoreError


class SharedState:
    """A per-process cache of the sites list and the daily salts, reloaded on a timer."""

    def __init__(self, store: Store, refresh_interval: float = 10.0, clock: Callable[[], float] = time.time):
        self.store = store
        self.refresh_interval = refresh_interval
        self.clock = clock
        self.sites: dict[str, Site] = {}
        self.salts: dict[dt.date, bytes] = {}
        self._refresher = Periodic("state", refresh_interval, self.refresh, errors=(StoreError,))

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
        day = dt.datetime.fromtimestamp(now, dt.UTC).date()
        return self.salts.get(day)

    def start(self) -> None:
        """Refresh now, then keep refreshing in a daemon thread (a failed refresh keeps the cache)."""
        self.refresh()
        self._refresher.start()

    def stop(self) -> None:
        """Stop the refresh thread."""
        self._refresher.stop(timeout=5)
