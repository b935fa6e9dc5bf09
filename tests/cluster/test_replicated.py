"""Two shards of two replicas each (ReplicatedMergeTree, a throwaway ZooKeeper): a replica per shard may fail."""

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_driver import Client
from clickhouse_server import ThrowawayClickHouse, free_port
from harness import Harness
from zookeeper_server import ThrowawayZooKeeper, zookeeper_available

from storage.server import ServerStore

CLUSTER = "teller_replicated"
SITE = "replicated.test"
REPLICAS = ("s1r1", "s1r2", "s2r1", "s2r2")  # shard 1: servers 0 and 1, shard 2: servers 2 and 3


def _config(servers: list[ThrowawayClickHouse], index: int, zookeeper: ThrowawayZooKeeper) -> str:
    """remote_servers (internal_replication: each insert goes to one replica, which passes it on), ZooKeeper, macros."""
    shards = ""
    for first in (0, 2):
        replicas = "".join(
            f"<replica><host>127.0.0.1</host><port>{server.tcp_port}</port></replica>"
            for server in servers[first : first + 2]
        )
        shards += f"<shard><internal_replication>true</internal_replication>{replicas}</shard>"
    macros = f"<macros><shard>{index // 2 + 1}</shard><replica>{REPLICAS[index]}</replica></macros>"
    interserver = f"<interserver_http_host>127.0.0.1</interserver_http_host><interserver_http_port>{free_port()}"
    return (
        f"<remote_servers><{CLUSTER}>{shards}</{CLUSTER}></remote_servers>{zookeeper.config_xml()}{macros}"
        f"{interserver}</interserver_http_port>"
    )


@pytest.fixture
def replicated(clickhouse_server: ThrowawayClickHouse) -> Iterator[tuple[list[ThrowawayClickHouse], str]]:
    """Four servers, two shards of two replicas, and the name of a database created on all of them."""
    if not zookeeper_available():
        message = "zookeeper is not installed (`.ci/apt-install zookeeper` as root)"
        if os.environ.get("CI") or os.environ.get("TELLER_REQUIRE_SERVER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    database = f"t_{uuid.uuid4().hex[:12]}"
    with ThrowawayZooKeeper() as zookeeper:
        servers = [ThrowawayClickHouse() for _ in REPLICAS]
        try:
            for index, server in enumerate(servers):
                server.extra_config = _config(servers, index, zookeeper)
                server.start()
                client = Client(host="127.0.0.1", port=server.tcp_port)
                client.execute(f"CREATE DATABASE {database}")
                client.disconnect()
            yield servers, database
        finally:
            for server in servers:
                server.cleanup()


def _local_counts(store: ServerStore, table: str) -> list[int]:
    """Rows of table_local on each host, in shard and replica order."""
    return [int(host.store.query(f"SELECT count() FROM {table}_local")[0][0]) for host in store.hosts()]


def test_replicated_shards_answer_with_one_replica_of_each_shard_down(
    replicated: tuple[list[ThrowawayClickHouse], str], tmp_path: Path
) -> None:
    servers, database = replicated
    store = ServerStore(servers[0].database_url(database), CLUSTER)
    harness = Harness(store, tmp_path / "first")
    harness.start()  # migrates: the servers define {shard} and {replica}, so local tables are replicated
    try:
        engines = {
            row[0]
            for host in store.hosts()
            for row in host.store.query(
                "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name LIKE '%\\_local'"
            )
        }
        assert engines and all(engine.startswith("Replicated") for engine in engines), engines
        harness.add_site(SITE)
        start = harness.now
        for index in range(30):
            harness.now = start
            harness.pageview(SITE, "/", ip=f"77.{index}.1.1", referrer="https://www.google.com/")
            if index % 3:
                harness.now = start + 20
                harness.pageview(SITE, "/pricing", ip=f"77.{index}.1.1")
                harness.now = start + 40
                harness.pageview(SITE, "/docs", ip=f"77.{index}.1.1")
        harness.flush()
        harness.now = start + 3 * 3600
        harness.close_visits()
        day = [time.strftime("%Y-%m-%d", time.gmtime(start))] * 2
        bodies = [
            {"site_id": SITE, "metrics": ["visitors", "pageviews", "visits", "bounce_rate"], "date_range": day},
            {"site_id": SITE, "metrics": ["visitors", "pageviews"], "date_range": day, "dimensions": ["event:page"]},
            {"site_id": SITE, "metrics": ["visits"], "date_range": day, "dimensions": ["visit:entry_page"]},
        ]
        before = [harness.results(body) for body in bodies]
    finally:
        harness.stop()

    deadline = time.monotonic() + 30
    while True:  # each replica fetches the parts its shard-mate wrote
        counts = _local_counts(store, "events")
        if counts[0] == counts[1] and counts[2] == counts[3] and counts[0] + counts[2] == 70:
            break
        assert time.monotonic() < deadline, counts
        time.sleep(0.2)
    store.close()
    servers[0].kill()  # shard 1 loses replica 1, shard 2 loses replica 2
    servers[3].kill()

    survivor = ServerStore(servers[1].database_url(database), CLUSTER)
    harness = Harness(survivor, tmp_path / "second")
    harness.start()  # starts although two hosts are down: the connected host has every migration
    try:
        after = [harness.results(body) for body in bodies]
    finally:
        harness.stop()
        survivor.close()
    assert before[0] == [(30, 70, 30, 33)]  # bounce rate in whole percent, as Plausible rounds it
    assert after == before
    print(f"\nreplicated: events per replica {counts}; with s1r1 and s2r2 down: {after[0]} (before: {before[0]})")
