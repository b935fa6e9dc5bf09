"""Who receives a site's e-mail reports (weekly, monthly) and traffic-spike alerts."""

import time
from dataclasses import dataclass

from storage.store import Store
from storage.users import normalise_email
from storage.versioned import VersionedTable, newest

SUBSCRIPTIONS = VersionedTable("report_subscriptions", key="id")
KINDS = ("weekly", "monthly", "spike")
MAX_THRESHOLD = 1_000_000_000
MAX_EVERY_HOURS = 24 * 31


@dataclass(frozen=True)
class Subscription:
    """One address's subscription to one kind of message of a site."""

    site: str
    kind: str
    address: str
    threshold: int = 0  # spike alerts: visitors in the last hour above this
    every_hours: int = 0  # spike alerts: at most one alert in this many hours

    @property
    def id(self) -> str:
        """The row key: site, kind and address (none of them holds a tab)."""
        return subscription_id(self.site, self.kind, self.address)


def subscription_id(site: str, kind: str, address: str) -> str:
    """The key of a (site, kind, address) subscription."""
    return f"{site}\t{kind}\t{address}"


def add_subscription(
    store: Store, site: str, kind: str, address: str, threshold: int = 0, every_hours: int = 24, created_by: str = ""
) -> Subscription:
    """Subscribe an address (replacing its earlier settings for that kind); ValueError for bad input."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    address = normalise_email(address)
    if kind == "spike":
        if not 1 <= threshold <= MAX_THRESHOLD:
            raise ValueError(f"a spike alert needs a threshold of 1 to {MAX_THRESHOLD} visitors")
        if not 1 <= every_hours <= MAX_EVERY_HOURS:
            raise ValueError(f"a spike alert is sent at most once every 1 to {MAX_EVERY_HOURS} hours")
    else:
        threshold, every_hours = 0, 0
    subscription = Subscription(site, kind, address, threshold, every_hours)
    SUBSCRIPTIONS.insert(
        store,
        id=subscription.id,
        site=site,
        kind=kind,
        address=address,
        threshold=threshold,
        every_hours=every_hours,
        created_by=created_by,
        created_at=int(time.time()),
        deleted=0,
    )
    return subscription


def remove_subscription(store: Store, site: str, kind: str, address: str) -> bool:
    """End a subscription; False when there was none."""
    address = address.strip().lower()
    if not any(s.kind == kind and s.address == address for s in list_subscriptions(store, site)):
        return False
    SUBSCRIPTIONS.insert(
        store,
        id=subscription_id(site, kind, address),
        site=site,
        kind=kind,
        address=address,
        created_at=int(time.time()),
        deleted=1,
    )
    return True


def list_subscriptions(store: Store, site: str | None = None) -> list[Subscription]:
    """Live subscriptions (of one site, or all), by site, kind and address."""
    having = f"{newest('deleted')} = 0" + (f" AND {newest('site')} = %(site)s" if site is not None else "")
    sql = SUBSCRIPTIONS.latest("site", "kind", "address", "threshold", "every_hours", having=having, order_by="id")
    rows = store.query(sql, {"site": site} if site is not None else None)
    return [Subscription(s, k, a, int(t), int(e)) for _, s, k, a, t, e in rows]
