"""Teller on a two-shard ClickHouse cluster: two throwaway 18.16 servers on loopback named in remote_servers.

The same events go to a single-node Teller and, alternately, to two collectors in front of the cluster
(one per shard); the stats API must answer the same on all three. pytest -s prints the numbers.
"""

import datetime as dt
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from clickhouse_driver import Client
from clickhouse_server import ThrowawayClickHouse
from harness import CHROME_WINDOWS, FIREFOX, NOON, SAFARI_IPHONE, Harness
from teller_process import TellerProcess

from storage.login_attempts import drop_old_attempts, reserve
from storage.retention import Policy, apply_retention
from storage.salts import delete_old_salts
from storage.server import ServerStore
from storage.visits import close_visits

CLUSTER = "teller_test"
SITE = "cluster.test"
AGENTS = (FIREFOX, CHROME_WINDOWS, SAFARI_IPHONE)
REFERRERS = (
    "https://www.google.com/",
    "https://duckduckgo.com/",
    "https://news.ycombinator.com/item?id=1",
    "https://t.co/abc",
    None,
)
PATHS = ("/", "/pricing", "/blog/cluster", "/docs/install", "/about", "/search?q=sharding+guide")


def _remote_servers(servers: tuple[ThrowawayClickHouse, ...]) -> str:
    """A remote_servers section with one shard per server."""
    shards = "".join(
        f"<shard><replica><host>127.0.0.1</host><port>{server.tcp_port}</port></replica></shard>" for server in servers
    )
    return f"<remote_servers><{CLUSTER}>{shards}</{CLUSTER}></remote_servers>"


@pytest.fixture(scope="module")
def shards(clickhouse_server: ThrowawayClickHouse) -> Iterator[tuple[ThrowawayClickHouse, ThrowawayClickHouse]]:
    """Two servers configured as the two shards of CLUSTER (clickhouse_server skips or fails when none is installed)."""
    servers = (ThrowawayClickHouse(), ThrowawayClickHouse())
    try:
        for server in servers:
            server.extra_config = _remote_servers(servers)
            server.start()
        yield servers
    finally:
        for server in servers:
            server.cleanup()


@pytest.fixture
def cluster_urls(shards: tuple[ThrowawayClickHouse, ThrowawayClickHouse]) -> Iterator[tuple[str, str]]:
    """URLs of one fresh database, created on both shards, as reached through shard 1 and shard 2."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    clients = [Client(host="127.0.0.1", port=server.tcp_port) for server in shards]
    try:
        for client in clients:
            client.execute(f"CREATE DATABASE {name}")
        yield shards[0].database_url(name), shards[1].database_url(name)
        for client in clients:
            client.execute(f"DROP DATABASE IF EXISTS {name}")
    finally:
        for client in clients:
            client.disconnect()


def _teller_command(env: dict[str, str], *args: str) -> str:
    """Run a teller subcommand and return its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "teller.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _env(**settings: str) -> dict[str, str]:
    """The test's environment without TELLER_* variables, plus the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELLER_")}
    env.update({f"TELLER_{k.upper()}": v for k, v in settings.items()})
    return env


def _event_set(seed: int = 11, visitors: int = 48) -> list[list[tuple[str, str, dict[str, Any]]]]:
    """Each visitor's events as (client address, user agent, body), in order; the same for every run."""
    rng = random.Random(seed)
    everyone = []
    for index in range(visitors):
        ip, agent = f"81.{index + 1}.7.9", AGENTS[index % len(AGENTS)]
        referrer = rng.choice(REFERRERS)
        paths = rng.sample(PATHS, rng.choice((1, 1, 2, 3, 4)))
        if index % 5 == 0:
            paths[0] += "?utm_source=newsletter&utm_medium=email&utm_campaign=november"
        events = []
        for position, path in enumerate(paths):
            url = f"https://{SITE}{path}"
            events.append((ip, agent, {"n": "pageview", "u": url, "d": SITE, "r": referrer if not position else url}))
            if rng.random() < 0.6:
                engagement = {"n": "engagement", "u": url, "d": SITE, "e": rng.randint(500, 90_000)}
                events.append((ip, agent, {**engagement, "sd": rng.randint(5, 100)}))
        if rng.random() < 0.25:
            events.append((ip, agent, {"n": "Signup", "u": f"https://{SITE}/pricing", "d": SITE, "p": {"plan": "pro"}}))
        everyone.append(events)
    return everyone


def _send_in_rounds(visitors: list[list], single: str, collectors: list[str]) -> list[int]:
    """Send every visitor's n-th event in round n, each round inside one fresh second, to both sides.

    Event times have one-second resolution, so the rounds give every visitor's events distinct times,
    identical on the single node and on the cluster: visit entries, exits and durations do not depend
    on which side a clock second happened to split. Return the events stored on each side.
    """
    stored, sent = [0, 0], 0
    with httpx.Client(timeout=30) as client:
        for round_ in range(max(len(events) for events in visitors)):
            time.sleep(1.02 - time.time() % 1)
            started = time.time()
            for events in visitors:
                if round_ < len(events):
                    ip, agent, body = events[round_]
                    stored[0] += _post(client, single, ip, agent, body)
                    stored[1] += _post(client, collectors[sent % 2], ip, agent, body)
                    sent += 1
            assert int(time.time()) == int(started), "a round spilled into the next second"
    return stored


def _post(client: httpx.Client, url: str, ip: str, agent: str, body: dict[str, Any]) -> bool:
    """POST one event; True when it was stored (202 without a drop reason)."""
    headers = {"User-Agent": agent, "X-Forwarded-For": ip, "Content-Type": "text/plain"}
    response = client.post(f"{url}/api/event", json=body, headers=headers)
    assert response.status_code == 202, response.text
    return "x-teller-dropped" not in response.headers


def _wait_until(check: Any, timeout: float = 60.0) -> None:
    """Poll check() until it is true."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _count(store: ServerStore, sql: str) -> int:
    return int(store.query(sql)[0][0])


def _queries(days: list[str]) -> dict[str, dict[str, Any]]:
    """Stats API bodies compared between the single node and the cluster."""
    base = {"site_id": SITE, "date_range": days}
    visit = ["visits", "bounce_rate", "visit_duration", "views_per_visit"]
    return {
        "totals": {**base, "metrics": ["visitors", "pageviews", "events", *visit]},
        "pages": {**base, "metrics": ["visitors", "pageviews"], "dimensions": ["event:page"]},
        "sources": {**base, "metrics": ["visitors", "visits", "bounce_rate"], "dimensions": ["visit:source"]},
        "browsers": {**base, "metrics": ["visitors", "visits"], "dimensions": ["visit:browser"]},
        "entry pages": {**base, "metrics": ["visits", "bounce_rate"], "dimensions": ["visit:entry_page"]},
        "campaigns": {**base, "metrics": ["visitors", "visits"], "dimensions": ["visit:utm_campaign"]},
        "hours": {**base, "metrics": ["visitors", "pageviews"], "dimensions": ["time:hour"]},
        "event names": {**base, "metrics": ["events"], "dimensions": ["event:name"]},
        "engagement": {**base, "metrics": ["time_on_page", "scroll_depth"], "dimensions": ["event:page"]},
        "google only": {
            **base,
            "metrics": ["visitors", "pageviews", "visits", "bounce_rate"],
            "filters": [["is", "visit:source", ["Google"]]],
        },
        "search terms": {**base, "metrics": ["searches"], "dimensions": ["search:term"]},
    }


def _results(url: str, key: str, body: dict[str, Any]) -> list[tuple[Any, ...]]:
    response = httpx.post(f"{url}/api/v2/query", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    assert response.status_code == 200, response.text
    return [tuple(row["dimensions"]) + tuple(row["metrics"]) for row in response.json()["results"]]


def test_two_collectors_on_two_shards_match_a_single_node(
    cluster_urls: tuple[str, str], server_database: str, tmp_path: Path
) -> None:
    shard_1, shard_2 = cluster_urls
    migrated = _teller_command(_env(clickhouse_url=shard_1), "migrate", "--cluster", CLUSTER)
    assert f"cluster {CLUSTER}: 2 hosts" in migrated and "applied 0001_events" in migrated
    again = _teller_command(_env(clickhouse_url=shard_2, clickhouse_cluster=CLUSTER), "migrate")
    assert "schema is up to date" in again

    common = {
        "sites": SITE,
        "trusted_proxies": "127.0.0.1",
        "rate_limit": "0",
        "flush_interval": "0.2",
        "search_flush_interval": "0.2",
        "search_min_count": "1",
        "visit_interval": "3600",  # the test runs the visit job itself
    }
    single_env = {"clickhouse_url": server_database, **common}
    single_key = _teller_command(_env(**single_env), "api-keys", "create").strip().splitlines()[-1]
    cluster_key = _teller_command(_env(clickhouse_url=shard_1, clickhouse_cluster=CLUSTER), "api-keys", "create")
    cluster_key = cluster_key.strip().splitlines()[-1]

    single = TellerProcess(tmp_path, data_dir=str(tmp_path / "single"), **single_env)
    collectors = [
        TellerProcess(tmp_path, data_dir=str(tmp_path / name), clickhouse_url=url, clickhouse_cluster=CLUSTER, **common)
        for name, url in (("c1", shard_1), ("c2", shard_2))
    ]
    processes = [single, *collectors]
    single_store, cluster_store = ServerStore(server_database), ServerStore(shard_1, CLUSTER)
    try:
        for process in processes:  # one after the other: the second collector finds the first one's salt
            process.start()
        visitors = _event_set()
        events = [event for visitor in visitors for event in visitor]
        stored = _send_in_rounds(visitors, single.url, [collector.url for collector in collectors])
        assert stored[0] == stored[1] == len(events)

        def flushed() -> bool:
            both = (single_store, cluster_store)
            counts = [_count(store, "SELECT count() FROM events") for store in both]
            searches = [_count(store, "SELECT sum(searches) FROM search_terms") for store in both]
            return counts == [len(events)] * 2 and searches[0] == searches[1] > 0

        _wait_until(flushed)
        today = dt.datetime.now(dt.UTC).date()
        days = [(today - dt.timedelta(days=1)).isoformat(), today.isoformat()]
        queries = _queries(days)
        answers: dict[str, dict[str, list]] = {}
        for phase in ("open", "closed"):
            if phase == "closed":  # the visit job, 3 hours on: every visit is closed and stored
                later = time.time() + 3 * 3600
                close_visits(single_store, later)
                close_visits(cluster_store, later)
            readers = ((single, single_key), (collectors[0], cluster_key), (collectors[1], cluster_key))
            for name, body in queries.items():
                found = [_results(process.url, key, body) for process, key in readers]
                answers[f"{name} ({phase})"] = {"single": found[0], "shard 1": found[1], "shard 2": found[2]}
                assert found[1] == found[2], name  # both collectors read the same Distributed tables
                assert found[0] == found[1], (name, phase, found[0], found[1])
        assert answers["totals (open)"]["single"] == answers["totals (closed)"]["single"]

        hosts = [host.store for host in cluster_store.hosts()]
        split = {t: [_count(h, f"SELECT count() FROM {t}_local") for h in hosts] for t in ("events", "visits", "sites")}
        rollup_rows = [_count(h, "SELECT count() FROM dimension_hourly_local") for h in hosts]
        assert all(split["events"]) and all(split["visits"]) and all(rollup_rows)
        assert sum(split["events"]) == len(events)
        assert sum(split["sites"]) >= 1 and 0 in split["sites"]  # every version of a site row on one shard
    finally:
        for process in processes:
            process.stop_quietly()
        single_store.close()
        cluster_store.close()

    totals = answers["totals (closed)"]
    print(
        f"\n{len(events)} events from {len(set(e[0] for e in events))} visitors; metrics {queries['totals']['metrics']}"
    )
    print(f"  single node: {totals['single']}")
    print(f"  2 shards:    {totals['shard 1']} (through shard 1), {totals['shard 2']} (through shard 2)")
    print(
        f"  events per shard {split['events']}, visits per shard {split['visits']}, "
        f"dimension_hourly rows per shard {rollup_rows}"
    )
    for name in ("sources (closed)", "pages (closed)", "entry pages (closed)", "google only (closed)"):
        print(f"  {name}: single {answers[name]['single']}")
        print(f"  {' ' * len(name)}  cluster {answers[name]['shard 1']}")


def test_visits_across_midnight_join_hashes_on_both_shards(
    cluster_urls: tuple[str, str], server_database: str, tmp_path: Path
) -> None:
    """The visitor hash changes at midnight; the two hashes of a visit mostly live on different shards."""
    midnight = NOON - 12 * 3600
    two_days = ["2026-11-19", "2026-11-20"]
    query = {"site_id": SITE, "metrics": ["visits", "views_per_visit", "bounce_rate"], "date_range": two_days}
    bodies = [{**query, "dimensions": ["visit:entry_page"]}, {**query, "dimensions": ["time:day"]}, query]
    found = {}
    for name, store in (("single", ServerStore(server_database)), ("cluster", ServerStore(cluster_urls[0], CLUSTER))):
        harness = Harness(store, tmp_path / name)
        harness.start()
        try:
            harness.add_site(SITE)
            harness.now = midnight - 10 * 60
            harness.teller.state.refresh()  # salts for both days
            for index in range(20):  # reads across midnight: one visit each
                harness.pageview(SITE, "/late", ip=f"62.{index}.1.1")
            for index in range(4):  # leaves before midnight, back an hour later: two visits each
                harness.pageview(SITE, "/gone", ip=f"62.{index}.1.1", user_agent=CHROME_WINDOWS)
            harness.now = midnight + 10 * 60
            for index in range(20):
                harness.pageview(SITE, "/after-midnight", ip=f"62.{index}.1.1")
            harness.now = midnight + 50 * 60
            for index in range(4):
                harness.pageview(SITE, "/new", ip=f"62.{index}.1.1", user_agent=CHROME_WINDOWS)
            harness.flush()
            opened = [harness.results(body) for body in bodies]
            harness.now = midnight + 3 * 3600
            harness.close_visits()
            found[name] = (opened, [harness.results(body) for body in bodies])
            if name == "cluster":
                crossing = 0
                for host in [h.store for h in store.hosts()]:
                    own = {row[0] for row in host.query("SELECT DISTINCT visitor_id FROM events_local")}
                    previous = host.query("SELECT previous_visitor_id FROM events_local WHERE previous_visitor_id != 0")
                    crossing += sum(1 for (hash_,) in previous if hash_ not in own)
        finally:
            harness.stop()
            store.close()
    assert found["single"][1][0] == [("/late", 20, 2.0, 0.0), ("/gone", 4, 1.0, 100.0), ("/new", 4, 1.0, 100.0)]
    assert found["cluster"] == found["single"]
    assert found["cluster"][0] == found["cluster"][1]  # open (derived) and closed (stored) visits agree
    # The 20 continued visits: each previous-day hash sits on the other shard with probability 1/2.
    assert crossing > 0
    print(
        f"\nmidnight: {crossing} of 20 continued visits joined a hash stored on the other shard; "
        f"single {found['single'][1][2]}, cluster {found['cluster'][1][2]}"
    )


def test_retention_salts_and_login_attempts_expire_on_every_shard(cluster_urls: tuple[str, str]) -> None:
    store = ServerStore(cluster_urls[0], CLUSTER)
    try:
        from storage.migrations import migrate

        migrate(store)
        now = time.time()
        today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        stamps = [int(now) - 40 * 86400] * 100 + [int(now) - 3600] * 100
        store.insert(
            "events",
            ["site", "ts", "name", "visitor_id", "pathname"],
            [[SITE] * 200, stamps, ["pageview"] * 200, list(range(1, 201)), ["/"] * 200],
        )
        days = [today - dt.timedelta(days=back) for back in range(6)]
        store.insert("salts", ["day", "salt", "created_at"], [days, [f"{n:064x}" for n in range(6)], [int(now)] * 6])
        reserve(store, [f"key-{n}" for n in range(8)], now - 5 * 86400)
        reserve(store, ["key-0"], now)
        removed = apply_retention(store, Policy(events_days=30), now)
        delete_old_salts(store, now)
        drop_old_attempts(store, now)
        assert _count(store, "SELECT count() FROM login_attempts") == 1
        assert removed["events"] == 100
        for host in [h.store for h in store.hosts()]:
            assert _count(host, "SELECT count() FROM events_local") > 0  # recent rows on both shards
            assert _count(host, f"SELECT count() FROM events_local WHERE ts < toDateTime({int(now) - 86400})") == 0
        assert sorted(row[0] for row in store.query("SELECT DISTINCT toString(day) FROM salts")) == [
            (today - dt.timedelta(days=1)).isoformat(),
            today.isoformat(),
        ]
    finally:
        store.close()
