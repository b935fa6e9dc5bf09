"""Import speed of a Plausible CSV export: rows/s of a generated zip on chdb and on a ClickHouse 18.16 server.

python -m loadtests.plausible_import_speed --rows 1000000 [--server]
The zip holds the ten files in the proportions of a busy site's export (most rows are pages and sources).
"""

import argparse
import io
import random
import sys
import tempfile
import zipfile
from pathlib import Path

from storage.embedded import EmbeddedStore
from storage.imported import TABLES
from storage.migrations import migrate
from storage.plausible_import import import_plausible_zip
from storage.server import ServerStore
from storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
SHARES = {
    "imported_pages": 0.35,
    "imported_sources": 0.15,
    "imported_entry_pages": 0.12,
    "imported_exit_pages": 0.12,
    "imported_locations": 0.08,
    "imported_browsers": 0.05,
    "imported_operating_systems": 0.04,
    "imported_custom_events": 0.05,
    "imported_devices": 0.03,
    "imported_visitors": 0.01,
}


def build_zip(rows: int, seed: int = 1) -> bytes:
    """A zip of Plausible's ten CSV files with about `rows` rows in all."""
    pick = random.Random(seed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, share in SHARES.items():
            table = TABLES[name]
            lines = [",".join(f'"{column}"' for column in table.columns)]
            for index in range(max(1, int(rows * share))):
                day = f"2024-{1 + index % 12:02d}-{1 + index % 28:02d}"
                texts = [f'"/{name[9:13]}/{pick.randrange(5000)}"' for _ in table.texts]
                counts = [str(pick.randrange(1, 500)) for _ in table.counts]
                lines.append(",".join([f'"{day}"', *texts, *counts]))
            archive.writestr(f"{name}_20240101_20241228.csv", "\n".join(lines) + "\n")
    return buffer.getvalue()


def measure(store: Store, payload: bytes) -> tuple[int, float]:
    """(rows, seconds) of one import."""
    result = import_plausible_zip(store, "speed.test", io.BytesIO(payload), "speed.zip")
    return result.total_rows, result.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--server", action="store_true", help="also measure a throwaway ClickHouse 18.16 server")
    args = parser.parse_args(argv)
    payload = build_zip(args.rows)
    print(f"zip: {len(payload) / 1e6:.1f} MB")
    with tempfile.TemporaryDirectory() as data:
        store = EmbeddedStore(Path(data), "speed")
        migrate(store)
        rows, seconds = measure(store, payload)
        print(f"chdb: {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s")
        store.close()
    if args.server:
        sys.path.insert(0, str(ROOT / "tests"))
        from clickhouse_server import ThrowawayClickHouse

        with ThrowawayClickHouse() as server:
            store = ServerStore(server.url)
            migrate(store)
            rows, seconds = measure(store, payload)
            print(f"server 18.16: {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s")
            store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
