"""Claims that let exactly one process send a message, with no transactions: the earliest claim wins.

Every process that wants to send inserts a claim (its random id, the server's clock in seconds), waits
SETTLE_SECONDS and reads the claims of the key; the earliest, then the smallest id, wins. A claim written
after another's read carries a later second (the read came more than a second after that claim's time),
so it loses; every claim written before the read is visible to it. A claim could escape the read only
by taking longer than SETTLE_SECONDS - 1 from the server's clock reading to the end of its insert, so a
process whose claim took that long stands down: a report is then sent once or, rarely, not at all, never
twice. This holds for one server or the embedded engine; on a cluster inserts through a Distributed table
must be synchronous (insert_distributed_sync) for the same guarantee.
"""

import logging
import secrets
import time
from collections.abc import Callable, Iterable

from storage.store import Store

log = logging.getLogger("teller.reports")
SETTLE_SECONDS = 2.0
MAX_KEY_LENGTH = 1000


def claimed(store: Store, keys: Iterable[str]) -> set[str]:
    """The keys some process has claimed already."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    rows = store.query("SELECT DISTINCT claim_key FROM report_claims WHERE claim_key IN %(keys)s", {"keys": wanted})
    return {row[0] for row in rows}


def claim(
    store: Store,
    keys: Iterable[str],
    settle: float = SETTLE_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    noted_at: float | None = None,
) -> set[str]:
    """Claim keys not claimed before; return the ones this process won (and so must send).

    noted_at is the caller's clock (default: now), kept beside the claim for last_noted_time.
    """
    wanted = sorted(set(keys) - claimed(store, keys))
    if not wanted:
        return set()
    if any(len(key) > MAX_KEY_LENGTH for key in wanted):
        raise ValueError("claim keys are at most 1000 characters")
    claimant = secrets.token_hex(16)
    started = monotonic()
    now = store.query("SELECT toUInt32(now())")[0][0]
    noted = int(time.time() if noted_at is None else noted_at)
    store.insert(
        "report_claims",
        ["claim_key", "claimant", "claimed_at", "noted_at"],
        [wanted, [claimant] * len(wanted), [int(now)] * len(wanted), [noted] * len(wanted)],
    )
    if monotonic() - started > settle - 1:
        log.warning("a claim took %.1f s to write; standing down for %d message(s)", monotonic() - started, len(wanted))
        return set()
    sleep(settle)
    rows = store.query(
        "SELECT claim_key, argMin(claimant, (claimed_at, claimant)) FROM report_claims "
        "WHERE claim_key IN %(keys)s GROUP BY claim_key",
        {"keys": wanted},
    )
    return {key for key, winner in rows if winner == claimant}


def last_noted_time(store: Store, prefix: str) -> int | None:
    """The claiming process's time (noted_at) of the newest claim whose key starts with prefix, or None."""
    rows = store.query(
        "SELECT toUInt32(max(noted_at)), count() FROM report_claims WHERE startsWith(claim_key, %(p)s)",
        {"p": prefix},
    )
    return int(rows[0][0]) if rows and rows[0][1] else None


# A failed delivery is noted as a claim row under this prefix; a later run claims the next attempt.
FAILED_PREFIX = "failed\t"


def note_failure(store: Store, key: str, noted_at: float) -> None:
    """Note that the message of a claim key could not be delivered (the key's next attempt may be claimed)."""
    store.insert(
        "report_claims",
        ["claim_key", "claimant", "claimed_at", "noted_at"],
        [[f"{FAILED_PREFIX}{key}"[:MAX_KEY_LENGTH]], [secrets.token_hex(16)], [int(noted_at)], [int(noted_at)]],
    )


def failures(store: Store, keys: Iterable[str]) -> dict[str, int]:
    """How many failed deliveries were noted for each key (keys without any are left out)."""
    wanted = sorted({f"{FAILED_PREFIX}{key}"[:MAX_KEY_LENGTH] for key in keys})
    if not wanted:
        return {}
    # Two processes never note the same attempt: only its one winner tried to send it.
    rows = store.query(
        "SELECT claim_key, count() FROM report_claims WHERE claim_key IN %(keys)s GROUP BY claim_key", {"keys": wanted}
    )
    return {key[len(FAILED_PREFIX) :]: int(count) for key, count in rows}
