"""Retention on both engines: old raw events, rollups, search aggregates and salts are removed."""

import datetime as dt
import time

from collector.ingest.event import EVENT_COLUMNS, Event
from storage.imported import TABLES as IMPORTED_TABLES
from storage.imported import ImportRecord, imported_days, insert_rows, list_imports, record_import
from storage.retention import Policy, apply_retention, cutoff_for
from storage.salts import ensure_salts
from storage.store import Store

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


def _at(days_ago: float) -> int:
    return int((NOW - dt.timedelta(days=days_ago)).timestamp())


def _insert_events(store: Store, days_ago: list[float]) -> None:
    rows = [Event(site="keep.test", ts=_at(d), name="pageview", visitor_id=i + 1).row() for i, d in enumerate(days_ago)]
    store.insert("events", EVENT_COLUMNS, list(zip(*rows, strict=True)))


def _wait_for_mutations(store: Store) -> None:
    """Wait until background deletes (mutations) are applied."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pending = store.query(
            "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0"
        )[0][0]
        if not pending:
            return
        time.sleep(0.2)
    raise TimeoutError("mutations did not finish")


def test_cutoffs() -> None:
    policy = Policy(events_days=30, rollup_months=25, search_months=13)
    today = NOW.date()
    assert cutoff_for("events", policy, today) == dt.date(2026, 10, 21)
    assert cutoff_for("rollups", policy, today) == dt.date(2024, 10, 1)
    assert cutoff_for("search", policy, today) == dt.date(2025, 10, 1)


def test_raw_events_and_rollups_expire_separately(store: Store) -> None:
    _insert_events(store, [0, 1, 29.4, 31, 45, 400, 800])
    store.insert(
        "search_terms",
        ["site", "day", "term", "searches", "zero_result_searches"],
        [
            ["keep.test"] * 3,
            [NOW.date(), dt.date(2025, 1, 5), dt.date(2024, 1, 5)],
            ["ny", "gammel", "eldst"],
            [3, 4, 5],
            [0, 0, 1],
        ],
    )
    removed = apply_retention(store, Policy(events_days=30, rollup_months=25, search_months=13), NOW.timestamp())
    _wait_for_mutations(store)
    assert removed["events"] == 4
    assert store.query("SELECT count() FROM events")[0][0] == 3
    # Rollups keep 25 months: the 800-day-old hour (Sep 2024) is gone, the 400-day-old one stays.
    hours = store.query("SELECT toString(hour) FROM site_hourly GROUP BY hour ORDER BY hour")
    assert len(hours) == 6 and hours[0][0].startswith("2025-10")
    assert store.query("SELECT sumMerge(pageviews) FROM site_hourly")[0][0] == 6
    assert store.query("SELECT term FROM search_terms ORDER BY day") == [("ny",)]
    # Running again removes nothing more.
    assert apply_retention(store, Policy(events_days=30, rollup_months=25, search_months=13), NOW.timestamp()) == {}


def test_salts_older_than_yesterday_are_gone(store: Store) -> None:
    ensure_salts(store, _at(3))
    ensure_salts(store, NOW.timestamp())
    from storage.salts import delete_old_salts

    delete_old_salts(store, NOW.timestamp())
    days = sorted(row[0] for row in store.query("SELECT toString(day) FROM salts"))
    assert days == ["2026-11-20", "2026-11-21"]


def test_imported_days_expire_with_the_daily_rollups(store: Store) -> None:
    policy = Policy(events_days=30, rollup_months=25, search_months=13)
    kept_from = cutoff_for("rollups", policy, NOW.date())  # 2024-10-01
    old, boundary, recent = dt.date(2019, 5, 1), kept_from - dt.timedelta(days=1), dt.date(2026, 1, 5)
    whole_old, spanning = 101, 202  # one import only of old days, one across the cutoff
    for import_id, days in ((whole_old, [old, old]), (spanning, [old, boundary, kept_from, recent])):
        for table in IMPORTED_TABLES.values():
            rows = [(day, *[""] * len(table.texts), *[1] * len(table.counts)) for day in days]
            insert_rows(store, table, "keep.test", import_id, rows)
        record_import(
            store, ImportRecord(import_id, "plausible", "x.zip", min(days), max(days), len(days), 1), "keep.test"
        )
    removed = apply_retention(store, policy, NOW.timestamp())
    _wait_for_mutations(store)
    for name in IMPORTED_TABLES:
        assert removed[name] == 4, name
        kept = store.query(f"SELECT import_id, toString(date) FROM {name} ORDER BY date")
        assert kept == [(spanning, kept_from.isoformat()), (spanning, recent.isoformat())], name
    assert removed["imports"] == 1
    assert [record.import_id for record in list_imports(store, "keep.test")] == [spanning]
    assert imported_days(store, "keep.test") == (old, recent)  # the listing keeps the import's own range
    assert apply_retention(store, policy, NOW.timestamp()) == {}
