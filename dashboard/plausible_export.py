"""A Plausible-compatible CSV export (the files and columns of Plausible's lib/plausible/exports.ex) of Teller's data.

Every file is one stats query per local day of the site's time zone, read through the same code as the
dashboard, so importing the zip (storage/plausible_import.py) into an empty Teller shows the same numbers
for each day. Visitors are counted per day, as in Plausible's export: a visitor seen on two days counts
twice in a longer range once imported.
"""

import csv
import dataclasses
import datetime as dt
import io
import zipfile
from collections.abc import Callable
from typing import IO, Any
from zoneinfo import ZoneInfo

from dashboard.filters import IS_NOT, Filter
from dashboard.query import StatsQuery
from dashboard.registry import dimension
from dashboard.stats import run_query
from dashboard.stats_api import first_stored_day
from storage.imported import TABLES
from storage.store import Store

ALL_ROWS = 10**9
_DAY = "time:day"
_BLANK = "-"  # a text column Teller has no value for
_VISIT_SUMS = ("visitors", "visits", "visit_duration_ms", "bounces", "visit_pageviews")


@dataclasses.dataclass(frozen=True)
class ExportFile:
    """One file: its table, the dimensions after the day, the metrics read, and a filter."""

    table: str
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    # The CSV columns, in the table's order, from the query's dimension and metric names.
    columns: tuple[str, ...]
    filters: tuple[Filter, ...] = ()


_FILES: tuple[ExportFile, ...] = (
    ExportFile(
        "imported_visitors",
        (),
        ("visitors", "pageviews", "bounces", "visits", "visit_duration_ms"),
        ("visitors", "pageviews", "bounces", "visits", "visit_duration_ms"),
    ),
    ExportFile(
        "imported_sources",
        (
            "visit:source",
            "visit:referrer",
            "visit:utm_source",
            "visit:utm_medium",
            "visit:utm_campaign",
            "visit:utm_content",
            "visit:utm_term",
        ),
        ("visit_pageviews", "visitors", "visits", "visit_duration_ms", "bounces"),
        (
            "visit:source",
            "visit:referrer",
            "visit:utm_source",
            "visit:utm_medium",
            "visit:utm_campaign",
            "visit:utm_content",
            "visit:utm_term",
            "visit_pageviews",
            "visitors",
            "visits",
            "visit_duration_ms",
            "bounces",
        ),
    ),
    # Teller counts no visits per page (a page's visits are those entering there), nor scroll depth and
    # time on page as Plausible sums them: those columns are 0.
    ExportFile(
        "imported_pages",
        ("event:hostname", "event:page"),
        ("visitors", "pageviews"),
        ("event:hostname", "event:page", "", "visitors", "pageviews", "", "", "", ""),
    ),
    ExportFile(
        "imported_entry_pages",
        ("visit:entry_page",),
        _VISIT_SUMS,
        ("visit:entry_page", "visitors", "visits", "visit_duration_ms", "bounces", "visit_pageviews"),
    ),
    ExportFile(
        "imported_exit_pages",
        ("visit:exit_page",),
        _VISIT_SUMS,
        ("visit:exit_page", "visitors", "visit_duration_ms", "visits", "bounces", "visit_pageviews"),
    ),
    ExportFile(
        "imported_custom_events",
        ("event:name",),
        ("visitors", "events"),
        ("event:name", _BLANK, _BLANK, "visitors", "events"),
        (Filter(IS_NOT, "event:name", ("pageview",)),),
    ),
    # Plausible leaves out visits of no known country; Teller has no region or city.
    ExportFile(
        "imported_locations",
        ("visit:country",),
        _VISIT_SUMS,
        ("visit:country", _BLANK, "", "visitors", "visits", "visit_duration_ms", "bounces", "visit_pageviews"),
        (Filter(IS_NOT, "visit:country", ("",)),),
    ),
    ExportFile(
        "imported_devices",
        ("visit:device",),
        _VISIT_SUMS,
        ("visit:device", "visitors", "visits", "visit_duration_ms", "bounces", "visit_pageviews"),
    ),
    ExportFile(
        "imported_browsers",
        ("visit:browser", "visit:browser_version"),
        _VISIT_SUMS,
        (
            "visit:browser",
            "visit:browser_version",
            "visitors",
            "visits",
            "visit_duration_ms",
            "bounces",
            "visit_pageviews",
        ),
    ),
    ExportFile(
        "imported_operating_systems",
        ("visit:os", "visit:os_version"),
        _VISIT_SUMS,
        ("visit:os", "visit:os_version", "visitors", "visits", "visit_duration_ms", "bounces", "visit_pageviews"),
    ),
)


def archive_name(domain: str, created: dt.date) -> str:
    """Plausible's name for an export: the domain with dots as underscores and the day it was made."""
    return f"{domain.replace('.', '_')}_{created.strftime('%Y%m%d')}.zip"


def _value(name: str, values: dict[str, Any]) -> Any:
    """One CSV field: a dimension's stored value ("" for its empty label), a sum, or 0 for what Teller lacks."""
    if name == _BLANK:
        return ""
    if not name:
        return 0
    value = values[name]
    if ":" in name:
        declared = dimension(name)
        text = "" if value is None else str(value)
        return "" if declared is not None and text == declared.empty else text
    if name == "visit_duration_ms":
        # Plausible keeps the sum of visit durations in whole seconds.
        return round((value or 0) / 1000)
    return int(value or 0)


def _rows(store: Store, site: str, timezone: str, first: dt.date, last: dt.date, spec: ExportFile) -> list[list[Any]]:
    """The file's rows, day by day."""
    query = StatsQuery(
        site=site,
        timezone=timezone,
        metrics=spec.metrics,
        dimensions=(_DAY, *spec.dimensions),
        first_day=first,
        last_day=last,
        filters=spec.filters,
        order_by=((_DAY, "asc"),),
        limit=ALL_ROWS,
    )
    found = []
    for row in run_query(store, query):
        values = dict(zip(query.dimensions, row["dimensions"], strict=True))
        values.update(zip(query.metrics, row["metrics"], strict=True))
        if spec.table == "imported_visitors" and not (values["visitors"] or values["pageviews"]):
            continue
        found.append([values[_DAY], *(_value(name, values) for name in spec.columns)])
    return found


def write_export(
    store: Store,
    site: str,
    timezone: str,
    first: dt.date,
    last: dt.date,
    target: IO[bytes],
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write the zip of the ten files for [first, last] to target; return the rows of each file."""
    suffix = f"_{first.strftime('%Y%m%d')}_{last.strftime('%Y%m%d')}.csv"
    counts = {}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, spec in enumerate(_FILES):
            rows = _rows(store, site, timezone, first, last, spec)
            text = io.StringIO()
            writer = csv.writer(text, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
            writer.writerow(TABLES[spec.table].columns)
            writer.writerows(rows)
            archive.writestr(spec.table + suffix, text.getvalue())
            counts[spec.table] = len(rows)
            if progress is not None:
                progress(index + 1, len(_FILES))
    return counts


def export_range(store: Store, site: str, timezone: str) -> tuple[dt.date, dt.date]:
    """From the site's first day with data (today without any) to today, in the site's time zone."""
    today = dt.datetime.now(ZoneInfo(timezone)).date()
    first = first_stored_day(store, site, timezone) or today
    return min(first, today), today
