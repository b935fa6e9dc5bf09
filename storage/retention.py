"""Retention without TTL (ClickHouse 18.16 has none): drop whole old partitions, delete the rest."""

import datetime as dt
import time
from dataclasses import dataclass

from storage.dates import month_start, utc_day
from storage.imported import TABLES as IMPORTED_TABLES
from storage.partitions import drop_partitions_before
from storage.store import Store
from storage.topology import on_each_host


@dataclass(frozen=True)
class Rule:
    """Rows of table whose time_column is older than the cutoff are removed."""

    table: str
    time_column: str
    partition_format: str  # strftime pattern of the table's partition id, "" when unpartitioned
    kind: str  # "events" (days), "rollups" or "search" (months), "state" or "claims" (days)


RULES: tuple[Rule, ...] = (
    Rule("events", "ts", "%Y%m%d", "events"),
    Rule("visits", "start_ts", "%Y%m", "events"),
    Rule("site_hourly", "hour", "%Y%m", "rollups"),
    Rule("dimension_hourly", "hour", "%Y%m", "rollups"),
    Rule("visit_hourly", "hour", "%Y%m", "rollups"),
    Rule("visit_daily", "day", "%Y%m", "rollups"),
    Rule("site_daily", "day", "%Y%m", "rollups"),
    Rule("dimension_daily", "day", "%Y%m", "rollups"),
    Rule("site_monthly", "day", "%Y%m", "rollups"),
    Rule("dimension_monthly", "day", "%Y%m", "rollups"),
    Rule("search_terms", "day", "%Y%m", "search"),
    # Fingerprints of imported log lines live as long as the rollups they were counted into.
    Rule("log_lines", "day", "%Y%m", "rollups"),
    Rule("visit_watermarks", "cutoff", "", "state"),
    Rule("report_claims", "claimed_at", "%Y%m", "claims"),
    Rule("ingest_drops", "ts", "%Y%m%d", "state"),
    Rule("import_progress", "updated_at", "%Y%m%d", "state"),
    # Imported daily aggregates are kept as long as Teller's own daily rollups. They are partitioned by
    # import, not by time, so old days go by a delete; an import whose last day has gone is unlisted.
    *(Rule(name, "date", "", "rollups") for name in IMPORTED_TABLES),
    Rule("imports", "last_day", "", "rollups"),
    # A spent TOTP step matters for about a minute (its code's window).
    Rule("totp_used_steps", "used_at", "%Y%m%d", "state"),
)
# Columns of type Date (the others are DateTime): compared with the cutoff's day.
_DATE_COLUMNS = frozenset({"day", "date", "last_day"})


@dataclass(frozen=True)
class Policy:
    """How long each kind of data is kept."""

    events_days: int = 30
    rollup_months: int = 25
    search_months: int = 25
    state_days: int = 2
    # A claim must outlive the time its report is due in (a month's report is due for the next month).
    claims_days: int = 100


def cutoff_for(kind: str, policy: Policy, today: dt.date) -> dt.date:
    """First UTC day that is kept for a kind of data."""
    if kind == "events":
        return today - dt.timedelta(days=policy.events_days)
    if kind == "rollups":
        return month_start(today, policy.rollup_months)
    if kind == "search":
        return month_start(today, policy.search_months)
    if kind == "claims":
        return today - dt.timedelta(days=policy.claims_days)
    return today - dt.timedelta(days=policy.state_days)


def _existing_tables(store: Store) -> set[str]:
    """Tables of the current database."""
    return {row[0] for row in store.query("SELECT name FROM system.tables WHERE database = currentDatabase()")}


def apply_retention(store: Store, policy: Policy, now: float | None = None) -> dict[str, int]:
    """Remove expired rows from every table with a rule (on every host of a cluster); return rows removed per table."""
    today = utc_day(time.time() if now is None else now)
    removed: dict[str, int] = {}
    for found in on_each_host(store, lambda target, suffix: _apply_rules(target, suffix, policy, today)):
        for table, count in found.items():
            removed[table] = removed.get(table, 0) + count
    return removed


def _apply_rules(store: Store, suffix: str, policy: Policy, today: dt.date) -> dict[str, int]:
    """Remove expired rows from the tables named rule.table + suffix on one server."""
    existing = _existing_tables(store)
    removed: dict[str, int] = {}
    for rule in RULES:
        table = rule.table + suffix
        if table not in existing:
            continue
        cutoff = cutoff_for(rule.kind, policy, today)
        params = {"cutoff": int(dt.datetime.combine(cutoff, dt.time(), dt.UTC).timestamp())}
        older = f"{rule.time_column} < toDateTime(%(cutoff)s)"
        if rule.time_column in _DATE_COLUMNS:
            older = f"{rule.time_column} < toDate(toDateTime(%(cutoff)s))"
        count = store.query(f"SELECT count() FROM {table} WHERE {older}", params)[0][0]
        if not count:
            continue
        if rule.partition_format:
            # Whole partitions before the cutoff's partition go at once (synchronous on both engines).
            drop_partitions_before(store, table, cutoff.strftime(rule.partition_format))
        if store.query(f"SELECT count() FROM {table} WHERE {older}", params)[0][0]:
            # The boundary partition: a mutation (asynchronous on 18.16, applied in the background).
            store.execute(f"ALTER TABLE {table} DELETE WHERE {older}", params)
        removed[rule.table] = count
    return removed


def policy_from(settings: object) -> Policy:
    """The retention policy a Settings object describes."""
    return Policy(
        events_days=settings.retention_events_days,  # type: ignore[attr-defined]
        rollup_months=settings.retention_rollup_months,  # type: ignore[attr-defined]
        search_months=settings.retention_search_months,  # type: ignore[attr-defined]
    )
