"""CPU of the embedded engine's inserts into events, by insert size, with and without the rollup views.

    taskset -c 1 python -m loadtests.insert_cost --rows 200000 --sizes 1000,5000,20000

Live-hour events from `teller demo-data`'s generator are inserted through Store.insert, the write buffer's
call, into a fresh data dir; the process's CPU (all threads, chdb's included) is counted per event for
the inserts and for the 5 s after them (merges). `--without-views` drops the hourly rollup views first,
which splits the cost of the events table from that of the views. Run it pinned to one core.
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from storage.dates import utc_day
from storage.embedded import EmbeddedStore
from storage.migrations import migrate
from storage.salts import current_salts
from teller.demo_data import EVENT_COLUMNS, Generator, build_pools

SITE = "example.com"


def cpu_seconds() -> float:
    """User + system CPU of this process, every thread."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(rows: int, size: int, without_views: bool) -> tuple[float, float]:
    """(insert CPU us per event, CPU us per event in the 5 s after) for inserts of size rows each."""
    store = EmbeddedStore(Path(tempfile.mkdtemp(prefix="teller-insert-cost-")))
    migrate(store)
    if without_views:
        for view in ("site_hourly_mv", "dimension_hourly_mv"):
            store.execute(f"DROP TABLE IF EXISTS {view}")
    now = time.time()
    day = int(now) // 86_400 * 86_400
    generator = Generator(SITE, build_pools(SITE, 1), current_salts(store, utc_day(now)), 2, visitors=rows // 3)
    columns = generator.day(day, rows, day + 86_399)
    hour = int(now) // 3600 * 3600
    columns["ts"] = (hour + columns["ts"].astype("int64") % 3600).astype(columns["ts"].dtype)
    batches = []
    for start in range(0, rows - size + 1, size):
        part = slice(start, start + size)
        batches.append(
            [
                columns[name][part] if name in columns else np.full(size, generator.defaults.get(name, ""), object)
                for name in EVENT_COLUMNS
            ]
        )
    written = len(batches) * size
    before = cpu_seconds()
    for batch in batches:
        store.insert("events", EVENT_COLUMNS, batch)
    after = cpu_seconds()
    time.sleep(5)
    settled = cpu_seconds()
    store.close()
    return 1e6 * (after - before) / written, 1e6 * (settled - after) / written


def main(argv: list[str] | None = None) -> int:
    """Print a table of CPU per event and per insert by insert size."""
    parser = argparse.ArgumentParser(prog="python -m loadtests.insert_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="events inserted per measurement [200000]")
    parser.add_argument("--sizes", default="1000,5000,20000", help="rows per insert [1000,5000,20000]")
    parser.add_argument("--without-views", action="store_true", help="drop the hourly rollup views first")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one size, in this process
    args = parser.parse_args(argv)
    if args.one:
        print(*measure(args.rows, args.one, args.without_views))
        return 0
    print(f"{'rows/insert':>12}{'insert us/event':>17}{'ms/insert':>11}{'after us/event':>16}")
    for size in (int(text) for text in args.sizes.split(",")):
        # A process per size: chdb opens one data dir per process.
        command = [sys.executable, "-m", "loadtests.insert_cost", "--rows", str(args.rows), "--one", str(size)]
        done = subprocess.run(command + ["--without-views"] * args.without_views, capture_output=True, text=True)
        if done.returncode:
            print(done.stderr[-2000:], file=sys.stderr)
            return 1
        insert_us, after_us = (float(value) for value in done.stdout.split()[-2:])
        print(f"{size:>12,}{insert_us:>17.1f}{insert_us * size / 1000:>11.1f}{after_us:>16.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
