"""teller erase on a two-shard cluster: the rows go on every shard, and the rollups there are recounted."""

import time

from test_cluster import CLUSTER, SITE, cluster_urls, shards  # noqa: F401 (fixtures)

from storage.erase import Selection, counts, erase
from storage.migrations import migrate
from storage.server import ServerStore
from storage.visits import close_visits


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
