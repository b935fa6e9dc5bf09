"""Lines per second of `teller import-logs` on a generated combined log, embedded engine; then export rows/s.

    python -m loadtests.log_import --lines 1000000

The log is a realistic mix: 20,000 visitors (addresses in 3,000 /24 networks, 12 browser user agents,
a few crawlers), 500 pages, assets (about a third of the lines), redirects, 404s and POSTs, spread over
the last 7 days in time order. It is written to a temp dir, imported once (the figure), then again
(every line a re-import: the fingerprint check alone). Then the site is exported as `teller export` does
(the Plausible CSV zip of dashboard/plausible_export.py) and its rows/s printed.
"""

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from collector.access_log.importer import LogImporter, import_files
from collector.ingest.state import SharedState
from dashboard.plausible_export import export_range, write_export
from storage.embedded import EmbeddedStore
from storage.migrations import migrate
from storage.sites import add_site
from storage.visits import close_visits

AGENTS = [
    f"Mozilla/5.0 ({system}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version}.0.0.0 Safari/537.36"
    for system in ("Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 10_15_7", "X11; Linux x86_64")
    for version in (129, 130, 131)
] + [
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
    "Safari/537.36",
]
CRAWLERS = ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "curl/8.5.0"]
PAGES = [f"/docs/{i}" for i in range(496)] + ["/", "/pricing", "/blog", "/about"]
ASSETS = ["/static/app.css", "/static/app.js", "/favicon.ico", "/img/logo.png"]
REFERRERS = ["-", "-", "-", "https://www.google.com/", "https://news.ycombinator.com/", "https://example.org/"]


def write_log(path: Path, lines: int, seed: int = 1) -> None:
    """A combined log of the given number of lines over the last 7 days."""
    rng = random.Random(seed)
    visitors = [
        (f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 11)}.{rng.randint(1, 254)}", rng.choice(AGENTS))
        for _ in range(20_000)
    ]
    start = int(time.time()) - 7 * 86_400
    step = 7 * 86_400 / lines
    with path.open("w") as out:
        for n in range(lines):
            address, agent = rng.choice(visitors)
            roll = rng.random()
            method, status, target = "GET", 200, rng.choice(PAGES)
            if roll < 0.33:
                target = rng.choice(ASSETS)
            elif roll < 0.36:
                status = 301
            elif roll < 0.38:
                status = 404
            elif roll < 0.39:
                method = "POST"
            elif roll < 0.42:
                agent = rng.choice(CRAWLERS)
            moment = dt.datetime.fromtimestamp(start + n * step, dt.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
            out.write(
                f'{address} - - [{moment}] "{method} {target} HTTP/1.1" {status} {rng.randint(200, 90_000)} '
                f'"{rng.choice(REFERRERS)}" "{agent}"\n'
            )


def main() -> None:
    """Generate, import twice, print lines/s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "access.log"
        began = time.perf_counter()
        write_log(log, args.lines)
        print(f"wrote {args.lines:,} lines ({log.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - began:.1f} s")
        store = EmbeddedStore(Path(tmp) / "data", "teller")
        migrate(store)
        add_site(store, "example.org")
        close_visits(store, time.time())
        state = SharedState(store)
        state.refresh()
        for label in ("first import", "re-import"):
            importer = LogImporter(state, "example.org", "combined", 0)
            began, cpu = time.perf_counter(), time.process_time()
            import_files(importer, [log])
            parsed = time.perf_counter() - began
            result = importer.finish()
            total = time.perf_counter() - began
            cpu = time.process_time() - cpu
            print(
                f"{label}: {result.lines:,} lines, {result.stored:,} stored, {result.visits:,} visits; "
                f"{result.lines / parsed:,.0f} lines/s reading and writing, {result.lines / total:,.0f} lines/s "
                f"with the visit derivation ({total:.1f} s wall, {cpu:.1f} s CPU of this process: "
                f"{result.lines / cpu:,.0f} lines per CPU second); skipped {dict(result.skipped.most_common())}"
            )
        began, cpu = time.perf_counter(), time.process_time()
        first, last = export_range(store, "example.org", "UTC")
        with (Path(tmp) / "export.zip").open("wb") as target:
            rows = write_export(store, "example.org", "UTC", first, last, target)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        print(
            f"export {first}..{last}: {sum(rows.values()):,} rows in {seconds:.1f} s wall ({cpu:.1f} s CPU) = "
            f"{sum(rows.values()) / seconds:,.0f} rows/s; {rows}"
        )
        store.close()


if __name__ == "__main__":
    main()
