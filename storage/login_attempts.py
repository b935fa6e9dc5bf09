"""Dashboard login attempts per throttle key, reserved before the password is checked, shared by every process."""

import datetime as dt
import secrets
import time
from dataclasses import dataclass

from storage.dates import utc_day
from storage.partitions import drop_partitions_before
from storage.store import Store
from storage.topology import on_each_host

COLUMNS = ["key", "ts", "seq", "attempt", "outcome"]
RESERVED, REFUSED, SUCCEEDED = "reserved", "refused", "succeeded"


@dataclass(frozen=True)
class Attempt:
    """One login attempt: its keys, when it was made (ts for the windows, seq for the order) and its id."""

    keys: tuple[str, ...]
    ts: int
    seq: int
    attempt_id: int


@dataclass(frozen=True)
class Counted:
    """An attempt that counts against a key (failed, or still being checked) or succeeded."""

    attempt_id: int
    ts: int
    seq: int
    succeeded: bool


def _write(store: Store, attempt: Attempt, outcome: str) -> None:
    """One row per key of the attempt with an outcome."""
    n = len(attempt.keys)
    data = [list(attempt.keys), [attempt.ts] * n, [attempt.seq] * n, [attempt.attempt_id] * n, [outcome] * n]
    store.insert("login_attempts", COLUMNS, data)


def reserve(store: Store, keys: list[str], now: float | None = None) -> Attempt:
    """Write a new attempt under each key; every count that starts after this returns includes it."""
    attempt = Attempt(tuple(keys), int(time.time() if now is None else now), time.time_ns(), secrets.randbits(63))
    _write(store, attempt, RESERVED)
    return attempt


def refuse(store: Store, attempt: Attempt) -> None:
    """Mark a throttled attempt, whose password was never checked, so it stops counting."""
    _write(store, attempt, REFUSED)


def succeed(store: Store, attempt: Attempt) -> None:
    """Mark an attempt with the right password, so it stops counting (and may reset its keys)."""
    _write(store, attempt, SUCCEEDED)


def counted_attempts(store: Store, keys: list[str], since: float) -> dict[str, list[Counted]]:
    """Per key, the attempts since a Unix time that were not refused."""
    # Bounded by what the throttle lets through: at most its limits of failures per key and window,
    # plus successes and attempts being checked at this moment; refused attempts are left out here.
    rows = store.query(
        "SELECT key, attempt, toUInt32(min(ts)), min(seq), max(outcome = %(ok)s) FROM login_attempts "
        "WHERE key IN %(keys)s AND ts >= toDateTime(%(since)s) "
        "GROUP BY key, attempt HAVING max(outcome = %(no)s) = 0",
        {"keys": tuple(keys), "since": int(since), "ok": SUCCEEDED, "no": REFUSED},
    )
    found: dict[str, list[Counted]] = {key: [] for key in keys}
    for key, attempt_id, ts, seq, succeeded in rows:
        found[key].append(Counted(int(attempt_id), int(ts), int(seq), bool(succeeded)))
    return found


def drop_old_attempts(store: Store, now: float | None = None) -> None:
    """Drop the daily partitions before yesterday (of login_attempts_local on each host of a cluster)."""
    today = utc_day(time.time() if now is None else now)
    first_kept = (today - dt.timedelta(days=1)).strftime("%Y%m%d")
    on_each_host(store, lambda target, suffix: drop_partitions_before(target, "login_attempts" + suffix, first_kept))
