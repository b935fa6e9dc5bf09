"""CSV files of the dashboard's numbers: one per panel, and every one of them for the period in a zip."""

import csv
import io
import unicodedata
import zipfile
from collections.abc import Sequence
from typing import Any

from dashboard.panels import (
    KPI_METRICS,
    PANELS,
    Panel,
    View,
    available_kpis,
    run_kpis,
    run_panel,
    run_timeseries,
)
from storage.store import Store

EXPORT_ROWS = 10_000
# A cell starting with one of these is a formula in spreadsheet programs; page paths and referrers come
# from visitors, so such cells get a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Spreadsheets skip leading spaces (of every kind) and invisible format characters before a formula,
# and read full-width signs (＝, ＋, －, ＠) as the ASCII ones: NFKC maps those to ASCII.
_SKIPPED_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cf", "Cc"})


def _is_formula(text: str) -> bool:
    """True when a spreadsheet could read the text as a formula."""
    if text.startswith(_FORMULA_STARTS):
        return True
    for char in text:
        if unicodedata.category(char) in _SKIPPED_CATEGORIES:
            if char in "\t\r\n":
                return True
            continue
        return unicodedata.normalize("NFKC", char).startswith(_FORMULA_STARTS)
    return False


def _cell(value: Any) -> Any:
    """A value safe to open in a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, str) and _is_formula(value):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV text with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_cell(value) for value in row] for row in rows])
    return out.getvalue()


def panel_csv(store: Store, panel: Panel, view: View, search_min_count: int) -> str:
    """Every row of a panel (up to EXPORT_ROWS) as CSV; a panel unavailable under the filters has a header only."""
    result = run_panel(store, panel, view, EXPORT_ROWS, search_min_count)
    name = panel.dimension.split(":", 1)[1]
    rows = [[value, *metrics] for value, metrics in result.rows]
    return to_csv([name, *result.metrics], rows)


def kpis_csv(store: Store, view: View) -> str:
    """The period's KPIs as metric,value rows."""
    values = run_kpis(store, view)
    return to_csv(["metric", "value"], [[metric, values[metric]] for metric in KPI_METRICS])


def timeseries_csv(store: Store, view: View) -> str:
    """Every KPI available under the view's filters, per bucket of the period."""
    names = available_kpis(view)
    columns = [dict(run_timeseries(store, view, metric)) for metric in names]
    buckets = list(columns[0]) if columns else []
    return to_csv(["bucket", *names], [[bucket, *(column[bucket] for column in columns)] for bucket in buckets])


def period_zip(store: Store, view: View, search_min_count: int) -> bytes:
    """A zip of the KPIs, the time series and every panel for the view."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("kpis.csv", kpis_csv(store, view))
        archive.writestr("timeseries.csv", timeseries_csv(store, view))
        for panel in PANELS:
            archive.writestr(f"{panel.name}.csv", panel_csv(store, panel, view, search_min_count))
    return buffer.getvalue()
