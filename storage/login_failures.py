"""Failed dashboard logins per throttle key, for throttling across every Teller process."""

import datetime as dt
import time

from storage.dates import utc_day
from storage.partitions import drop_partitions_before
from storage.store import Store
from storage.topology import on_each_host


def record_failure(store: Store, keys: list[str], now: float | None = None) -> None:
    """Record one failed login under each key."""
    ts = int(time.time() if now is None else now)
    store.insert("login_failures", ["key", "ts"], [keys, [ts] * len(keys)])


def count_failures(store: Store, keys: list[str], since: float) -> dict[str, int]:
    """Failures per key since a Unix time."""
    rows = store.query(
        "SELECT key, count() FROM login_failures WHERE key IN %(keys)s AND ts >= toDateTime(%(since)s) GROUP BY key",
        {"keys": tuple(keys), "since": int(since)},
    )
    return {key: int(count) for key, count in rows}


def drop_old_failures(store: Store, now: float | None = None) -> None:
    """Drop the daily partitions before yesterday (of login_failures_local on each host of a cluster)."""
    today = utc_day(time.time() if now is None else now)
    first_kept = (today - dt.timedelta(days=1)).strftime("%Y%m%d")
    on_each_host(store, lambda target, suffix: drop_partitions_before(target, "login_failures" + suffix, first_kept))
