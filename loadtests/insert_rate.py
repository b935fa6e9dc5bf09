"""Rows per second for a 1M-row insert through the write buffer, on each engine.

    python -m loadtests.insert_rate --rows 1000000 --engine embedded
    python -m loadtests.insert_rate --rows 1000000 --engine server   # starts a throwaway ClickHouse 18.16

Rows are built as the ingest path builds them (Event rows, realistic columns), added to a Batcher
with the default flush size, and written by the same flush code the server uses (a memory sink: the
spool's cost is measured apart, see docs/reliability.md).
"""

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from collector.ingest.batcher import Batcher, MemorySink
from collector.ingest.event import EVENT_COLUMNS, Event
from storage.migrations import migrate
from storage.store import Store

PAGES = [f"/docs/{i}" for i in range(500)] + ["/", "/pricing", "/blog", "/about"]
BROWSERS = [
    ("Chrome", "131", "Windows", "10", "desktop"),
    ("Firefox", "128", "Linux", "", "desktop"),
    ("Mobile Safari", "17", "iOS", "17", "mobile"),
    ("Chrome Mobile", "131", "Android", "14", "mobile"),
]
SOURCES = [("", "Direct / None", "direct"), ("google.com", "Google", "search"), ("facebook.com", "Facebook", "social")]
COUNTRIES = ["NO", "SE", "DK", "DE", "US", "GB"]


def make_rows(count: int, start: int) -> list[tuple]:
    """count realistic event rows spread over one day from start."""
    rng = random.Random(7)
    rows = []
    for index in range(count):
        browser, version, os_name, os_version, device = rng.choice(BROWSERS)
        host, source, source_class = rng.choice(SOURCES)
        rows.append(
            Event(
                site="bench.test",
                ts=start + index * 86_400 // count,
                name="pageview",
                visitor_id=rng.getrandbits(64),
                hostname="bench.test",
                pathname=rng.choice(PAGES),
                referrer=f"https://{host}/" if host else "",
                referrer_host=host,
                source=source,
                source_class=source_class,
                browser=browser,
                browser_version=version,
                os=os_name,
                os_version=os_version,
                device=device,
                country=rng.choice(COUNTRIES),
                screen_width=1280,
            ).row()
        )
    return rows


def measure(store: Store, rows: list[tuple], flush_rows: int) -> float:
    """Seconds to push rows through a Batcher flushing every flush_rows."""
    batcher = Batcher(MemorySink(store, "events", EVENT_COLUMNS), flush_rows=flush_rows, flush_interval=3600)
    started = time.perf_counter()
    for row in rows:
        batcher.add((row,))
        if len(batcher) >= flush_rows:
            batcher.flush()
    batcher.flush()
    return time.perf_counter() - started


def open_engine(engine: str, workdir: Path) -> tuple[Store, object | None]:
    """A migrated store on the chosen engine (and the throwaway server, if any)."""
    if engine == "embedded":
        from storage.embedded import EmbeddedStore

        store: Store = EmbeddedStore(workdir / "data")
        migrate(store)
        return store, None
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from clickhouse_server import ThrowawayClickHouse

    from storage.server import ServerStore

    server = ThrowawayClickHouse()
    server.start()
    store = ServerStore(server.url)
    migrate(store)
    return store, server


def main() -> None:
    """Parse arguments, run, print rows/s."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--flush-rows", type=int, default=10_000)
    parser.add_argument("--engine", choices=["embedded", "server"], default="embedded")
    args = parser.parse_args()
    rows = make_rows(args.rows, int(time.time()) - 86_400)
    with tempfile.TemporaryDirectory() as workdir:
        store, server = open_engine(args.engine, Path(workdir))
        try:
            seconds = measure(store, rows, args.flush_rows)
            counted = store.query("SELECT count() FROM events")[0][0]
            rollup = store.query("SELECT sumMerge(pageviews) FROM site_hourly")[0][0]
        finally:
            store.close()
            if server is not None:
                server.stop()  # type: ignore[attr-defined]
    print(
        f"engine={args.engine} rows={args.rows} batch={args.flush_rows} seconds={seconds:.2f} "
        f"rows_per_second={args.rows / seconds:,.0f} counted={counted} rollup_pageviews={rollup}"
    )
    if counted != args.rows or rollup != args.rows:
        sys.exit("row count mismatch")


if __name__ == "__main__":
    main()
