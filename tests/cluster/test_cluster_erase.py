"""teller erase on a two-shard cluster: the rows go on every shard, and the rollups there are recounted."""

import datetime as dt
import time
from pathlib import Path

from access_logs import CHROME, NOW, prepared_state, run_import, write_log
from test_cluster import CLUSTER, SITE, cluster_urls, shards  # noqa: F401 (fixtures)

from storage.erase import Selection, counts, day_range, erase
from storage.migrations import migrate
from storage.server import ServerStore
from storage.visits import close_visits

SITE_OF_LOGS = "example.org"  # the site tests/access_logs.py registers


def _count(store: ServerStore, sql: str) -> int:
    return int(store.query(sql)[0][0])


def test_erase_a_page_on_every_shard(cluster_urls: tuple[str, str]) -> None:  # noqa: F811
    store = ServerStore(cluster_urls[0], CLUSTER)
    try:
        migrate(store)
        now = time.time()
        close_visits(store, now)
        stamps = [int(now) - 2 * 86_400 + n for n in range(200)]
        paths = ["/secret/ola@example.com" if n % 3 == 0 else "/" for n in range(200)]
        store.insert(
            "events",
            ["site", "ts", "name", "visitor_id", "pathname"],
            [[SITE] * 200, stamps, ["pageview"] * 200, list(range(1, 201)), paths],
        )
        deadline = time.monotonic() + 30
        while _count(store, "SELECT count() FROM events") < 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        hosts = [host.store for host in store.hosts()]
        assert all(
            _count(host, "SELECT count() FROM events_local WHERE pathname LIKE '/secret%'") > 0 for host in hosts
        )
        selection = Selection(SITE, page="/secret/*")
        assert counts(store, selection)["events"] == 67
        erase(store, selection, now)
        for host in hosts:
            assert _count(host, "SELECT count() FROM events_local WHERE pathname LIKE '/secret%'") == 0
            for table in ("dimension_hourly", "dimension_daily", "dimension_monthly"):
                assert _count(host, f"SELECT count() FROM {table}_local WHERE value LIKE '/secret%'") == 0, table
        assert _count(store, "SELECT count() FROM events") == 133
        deadline = time.monotonic() + 30
        while _count(store, "SELECT sumMerge(pageviews) FROM site_daily") != 133 and time.monotonic() < deadline:
            time.sleep(0.1)  # the recount reaches the shards through the Distributed table
        assert _count(store, "SELECT sumMerge(pageviews) FROM site_daily") == 133
        assert _count(store, "SELECT sumMerge(pageviews) FROM site_monthly") == 133
    finally:
        store.close()


# Rows of each table the erase touches, on one day (the column that places a row in time).
DAY_COLUMNS = {
    "events": "toDate(ts)", "visits": "toDate(start_ts)", "site_hourly": "toDate(hour)",
    "dimension_hourly": "toDate(hour)", "visit_hourly": "toDate(hour)", "site_daily": "day",
    "dimension_daily": "day", "visit_daily": "day", "search_terms": "day", "log_lines": "day",
}  # fmt: skip
MONTHLY = ("site_monthly", "dimension_monthly")  # 2026-11-01 buckets: recounted, not dropped, by a day's erase
FIRST, SECOND = dt.date(2026, 11, 16), dt.date(2026, 11, 17)


def _day_counts(store: ServerStore, suffix: str = "") -> dict[tuple[str, str], int]:
    """Rows of every table per day (and of the monthly rollups in total), through store's tables + suffix."""
    found = {}
    for table, column in DAY_COLUMNS.items():
        for day in (FIRST, SECOND):
            sql = f"SELECT count() FROM {table}{suffix} WHERE {column} = toDate('{day}')"
            found[(table, day.isoformat())] = _count(store, sql)
    for table in MONTHLY:
        found[(table, "month")] = _count(store, f"SELECT count() FROM {table}{suffix}")
    return found


def _two_days_of_logs(store: ServerStore, tmp_path: Path) -> None:
    """Twelve people a day on two days, each reading two pages and searching once, imported as a log."""
    records = []
    for day in (0, 86_400):
        for person in range(12):
            address = f"195.159.{100 + person}.82"
            records += [
                (day + person * 30, address, "GET", "/", 200, "https://www.google.com/", CHROME),
                (day + person * 30 + 10, address, "GET", f"/docs/{person % 3}", 200, "", CHROME),
                (day + person * 30 + 20, address, "GET", "/search?q=shards", 200, "", CHROME),
            ]
    run_import(store, prepared_state(store), "combined", write_log(tmp_path / "access.log", "combined", records))


def test_erase_a_period_then_the_whole_site_on_every_shard(cluster_urls: tuple[str, str], tmp_path: Path) -> None:  # noqa: F811
    store = ServerStore(cluster_urls[0], CLUSTER)
    try:
        migrate(store)
        _two_days_of_logs(store, tmp_path)
        hosts = [host.store for host in store.hosts()]
        before = _day_counts(store)
        local_before = [_day_counts(host, "_local") for host in hosts]
        assert all(count > 0 for count in before.values()), before
        for local in local_before:  # each shard holds events and visits of both days
            assert all(local[(table, day.isoformat())] > 0 for table in ("events", "visits") for day in (FIRST, SECOND))
        assert before[("events", FIRST.isoformat())] == 36
        assert _count(store, "SELECT uniqExact(visit_id) FROM visits") == 24
        first_day = day_range(SITE_OF_LOGS, "", FIRST, FIRST)
        dry = counts(store, first_day)
        assert (dry["events"], dry["search_terms"], dry["log_lines"]) == (36, 1, 36)
        erase(store, first_day, NOW)

        after = _day_counts(store)
        for table in DAY_COLUMNS:
            assert after[(table, FIRST.isoformat())] == 0, table
            assert after[(table, SECOND.isoformat())] == before[(table, SECOND.isoformat())], table
        for host, local in zip(hosts, local_before, strict=True):
            found = _day_counts(host, "_local")
            for table in DAY_COLUMNS:
                assert found[(table, FIRST.isoformat())] == 0, table
                assert found[(table, SECOND.isoformat())] == local[(table, SECOND.isoformat())], table
        assert _count(store, "SELECT uniqExact(visit_id) FROM visits") == 12
        deadline = time.monotonic() + 30
        while _count(store, "SELECT sumMerge(pageviews) FROM site_monthly") != 36 and time.monotonic() < deadline:
            time.sleep(0.1)  # the recounted month reaches its shard through the Distributed table
        assert _count(store, "SELECT sumMerge(pageviews) FROM site_monthly") == 36
        assert _count(store, "SELECT sumMerge(pageviews) FROM site_daily") == 36
        assert counts(store, first_day)["events"] == 0

        whole_site = day_range(SITE_OF_LOGS, "", None, None)
        assert counts(store, whole_site)["events"] == 36
        erase(store, whole_site, NOW)
        for target, suffix in [(store, ""), *((host, "_local") for host in hosts)]:
            assert all(count == 0 for count in _day_counts(target, suffix).values()), suffix
        assert all(count == 0 for count in counts(store, whole_site).values())
    finally:
        store.close()
