"""Dropping old partitions, as retention, the salts and the login throttle do."""

import datetime as dt

from storage.partitions import drop_partitions_before
from storage.store import Store


def test_partitions_before_the_first_kept_one_are_dropped(store: Store) -> None:
    store.execute(
        "CREATE TABLE daily (day Date, n UInt32) ENGINE = MergeTree PARTITION BY toYYYYMMDD(day) ORDER BY day"
    )
    days = [dt.date(2026, 11, d) for d in (18, 18, 19, 20, 21)]
    store.insert("daily", ["day", "n"], [days, list(range(len(days)))])
    assert sorted(drop_partitions_before(store, "daily", "20261120")) == ["20261118", "20261119"]
    assert store.query("SELECT toString(day), n FROM daily ORDER BY n") == [("2026-11-20", 3), ("2026-11-21", 4)]
    assert drop_partitions_before(store, "daily", "20261120") == []
