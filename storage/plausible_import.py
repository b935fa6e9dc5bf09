"""Import a Plausible CSV export (the zip Plausible CE and cloud write) into the imported_* tables.

Columns are read by their header names, so exports of every Plausible version load: a column an older
export lacks is 0 or "", a column Teller does not keep is skipped. Sizes are bounded before and while
reading (a zip bomb stops at the limit), and a failed import leaves nothing behind.
"""

import csv
import datetime as dt
import hashlib
import io
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from storage.imported import TABLES, ImportedTable, ImportRecord, insert_rows, record_import, replace_import
from storage.path_scrub import scrub_path
from storage.store import Store

MAX_FILES = 64
MAX_UNCOMPRESSED_BYTES = 1 << 30
MAX_FIELD_BYTES = 4096
BATCH_ROWS = 20_000
_NAME = re.compile(r"^(?:.*/)?(imported_[a-z_]+?)(?:_\d{8}_\d{8})?\.csv$")
_MAX_COUNT = 2**63
# Page paths are scrubbed of e-mail addresses and long digit runs as ingest scrubs them (storage/path_scrub.py).
PATH_COLUMNS = frozenset({"page", "entry_page", "exit_page", "path"})

Progress = Callable[[int, int], None]


class ImportRefused(ValueError):
    """The file is not an importable Plausible export; the message says why (a 400 or 422 for the web)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ImportResult:
    """What one import wrote."""

    import_id: int
    rows: dict[str, int] = field(default_factory=dict)
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        """Rows over every table."""
        return sum(self.rows.values())


def _entries(archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, ImportedTable]]:
    """The export's CSV files and their tables, checked against the limits before anything is read."""
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if len(infos) > MAX_FILES:
        raise ImportRefused(f"the zip holds {len(infos)} files; at most {MAX_FILES} are read", 413)
    declared = sum(info.file_size for info in infos)
    if declared > MAX_UNCOMPRESSED_BYTES:
        raise ImportRefused(f"the zip unpacks to {declared} bytes; at most {MAX_UNCOMPRESSED_BYTES} are read", 413)
    found = []
    for info in infos:
        match = _NAME.match(info.filename)
        if match is None or match.group(1) not in TABLES:
            raise ImportRefused(f"{info.filename} is not a file of a Plausible export (imported_*.csv)")
        found.append((info, TABLES[match.group(1)]))
    if not found:
        raise ImportRefused("the zip holds no imported_*.csv file")
    return found


def import_id_of(site: str, entries: list[tuple[zipfile.ZipInfo, ImportedTable]]) -> int:
    """The same files for the same site give the same id, so importing them again replaces them."""
    digest = hashlib.sha256(site.encode())
    for info, table in sorted(entries, key=lambda entry: (entry[1].name, entry[0].CRC, entry[0].file_size)):
        digest.update(f"{table.name}:{info.CRC}:{info.file_size};".encode())
    return int.from_bytes(digest.digest()[:8], "big") >> 1


class _Counted(io.RawIOBase):
    """A member's bytes, counted against the whole import's limit as they are decompressed."""

    def __init__(self, raw: IO[bytes], budget: list[int], progress: Callable[[int], None]) -> None:
        self.raw, self.budget, self.progress = raw, budget, progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self.raw.read(len(buffer))
        self.budget[0] -= len(chunk)
        if self.budget[0] < 0:
            raise ImportRefused(f"the zip unpacks to more than {MAX_UNCOMPRESSED_BYTES} bytes", 413)
        buffer[: len(chunk)] = chunk
        self.progress(len(chunk))
        return len(chunk)


def _count(value: str, where: str) -> int:
    """A non-negative integer count ("" is 0)."""
    if value == "":
        return 0
    try:
        number = int(value)
    except ValueError:
        raise ImportRefused(f"{where}: {value[:40]!r} is not a whole number") from None
    if not 0 <= number < _MAX_COUNT:
        raise ImportRefused(f"{where}: {number} is out of range")
    return number


def _rows(text: IO[str], table: ImportedTable, file_name: str) -> Iterator[tuple[Any, ...]]:
    """Parsed rows (date, texts..., counts...) of one CSV file."""
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        return
    positions = {name.strip(): index for index, name in enumerate(header)}
    if "date" not in positions:
        raise ImportRefused(f"{file_name}: the header has no date column")
    wanted = [positions.get(name) for name in table.columns]
    counts_from = 1 + len(table.texts)
    width = len(header)
    days: dict[str, dt.date] = {}  # an export has few distinct days: parse each once
    paths = [index for index, name in enumerate(table.texts) if name in PATH_COLUMNS]
    # One try per row instead of a call per value: a third less time per row (cProfile, 100k rows).
    for line, values in enumerate(reader, start=2):
        if len(values) != width:
            if not values:
                continue
            raise ImportRefused(f"{file_name} line {line}: {len(values)} fields where the header has {width}")
        picked = ["" if index is None else values[index] for index in wanted]
        day = days.get(picked[0])
        if day is None:
            day = days[picked[0]] = _day(picked[0], f"{file_name} line {line}")
        texts = picked[1:counts_from]
        if texts and max(map(len, texts)) > MAX_FIELD_BYTES:
            raise ImportRefused(f"{file_name} line {line}: a value is longer than {MAX_FIELD_BYTES} characters")
        for index in paths:
            texts[index] = scrub_path(texts[index])
        try:
            counts = [int(value) if value else 0 for value in picked[counts_from:]]
        except ValueError:
            counts = [_count(value, f"{file_name} line {line}") for value in picked[counts_from:]]
        if counts and (min(counts) < 0 or max(counts) >= _MAX_COUNT):
            counts = [_count(str(value), f"{file_name} line {line}") for value in counts]
        yield (day, *texts, *counts)


def _day(value: str, where: str) -> dt.date:
    """A YYYY-MM-DD date."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ImportRefused(f"{where}: {value[:40]!r} is not a date (YYYY-MM-DD)") from None


def import_plausible_zip(
    store: Store,
    site: str,
    source: IO[bytes] | str,
    file_name: str = "",
    progress: Progress | None = None,
) -> ImportResult:
    """Import a Plausible export zip for a site; progress(done, total) is called with uncompressed bytes."""
    began = time.monotonic()
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise ImportRefused(f"not a zip file: {error}", 400) from None
    with archive:
        entries = _entries(archive)
        import_id = import_id_of(site, entries)
        result = ImportResult(import_id)
        total = sum(info.file_size for info, _ in entries)
        budget, done = [MAX_UNCOMPRESSED_BYTES], [0]

        def advance(size: int) -> None:
            done[0] += size
            if progress is not None:
                progress(min(done[0], total), total)

        replace_import(store, site, import_id)
        try:
            for info, table in entries:
                _import_file(store, site, archive, info, table, result, budget, advance)
        except (ImportRefused, zipfile.BadZipFile, UnicodeDecodeError, csv.Error, EOFError) as error:
            replace_import(store, site, import_id)
            if isinstance(error, ImportRefused):
                raise
            raise ImportRefused(f"{info.filename}: {error}") from None
        except BaseException:
            replace_import(store, site, import_id)
            raise
    if result.first_day is None or result.last_day is None:
        replace_import(store, site, import_id)
        raise ImportRefused("the export holds no rows")
    name = file_name or (source if isinstance(source, str) else "")
    days = (result.first_day, result.last_day)
    record = ImportRecord(import_id, "plausible", str(name)[-300:], *days, result.total_rows, 0)
    record_import(store, record, site)
    result.seconds = time.monotonic() - began
    return result


def _import_file(
    store: Store,
    site: str,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    table: ImportedTable,
    result: ImportResult,
    budget: list[int],
    advance: Callable[[int], None],
) -> None:
    """Stream one CSV member into its table in batches."""
    with archive.open(info) as member:
        raw = io.BufferedReader(_Counted(member, budget, advance), 1 << 16)
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        batch: list[tuple[Any, ...]] = []
        for row in _rows(text, table, info.filename):
            batch.append(row)
            day = row[0]
            if result.first_day is None or day < result.first_day:
                result.first_day = day
            if result.last_day is None or day > result.last_day:
                result.last_day = day
            if len(batch) >= BATCH_ROWS:
                insert_rows(store, table, site, result.import_id, batch)
                result.rows[table.name] = result.rows.get(table.name, 0) + len(batch)
                batch = []
        insert_rows(store, table, site, result.import_id, batch)
        result.rows[table.name] = result.rows.get(table.name, 0) + len(batch)
