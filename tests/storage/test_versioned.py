"""Versioned rows: the newest version of each key wins, whatever order the rows were written in."""

from storage.store import Store
from storage.versioned import VersionedTable, newest


def test_latest_builds_one_row_per_key() -> None:
    table = VersionedTable("things", key="id")
    assert table.latest("name") == "SELECT id, argMax(name, version) FROM things GROUP BY id"
    sql = table.latest("name", "min(created_at)", where="id = %(i)s", having=f"{newest('gone')} = 0", order_by="id")
    assert sql == (
        "SELECT id, argMax(name, version), min(created_at) FROM things WHERE id = %(i)s GROUP BY id "
        "HAVING argMax(gone, version) = 0 ORDER BY id"
    )


def test_the_clock_decides_which_row_is_newest(store: Store) -> None:
    store.execute(
        "CREATE TABLE things (id String, name String, gone UInt8 DEFAULT 0, version UInt64) "
        "ENGINE = ReplacingMergeTree(version) ORDER BY id"
    )
    versions = iter([20, 10, 30, 5])  # the second write is older than the first: it must lose
    table = VersionedTable("things", key="id", clock=lambda: next(versions))
    table.insert(store, id="a", name="second")
    table.insert(store, id="a", name="first")
    table.insert(store, id="b", name="kept")
    table.insert(store, id="b", name="stale", gone=1)
    assert store.query(table.latest("name", "gone", order_by="id")) == [("a", "second", 0), ("b", "kept", 0)]
    assert store.query(table.latest("name", where="id = %(i)s"), {"i": "a"}) == [("a", "second")]
    assert store.query(table.latest("name", where="id = %(i)s"), {"i": "missing"}) == []


def test_the_default_clock_counts_up(store: Store) -> None:
    store.execute(
        "CREATE TABLE things (id String, n UInt32, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY id"
    )
    table = VersionedTable("things", key="id")
    for n in range(5):
        table.insert(store, id="a", n=n)
    assert store.query(table.latest("n")) == [("a", 4)]
