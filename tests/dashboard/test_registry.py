"""The registry is the one declaration: rollup views, the visit job's recount and the docs follow it."""

import re
from pathlib import Path

from dashboard import registry_docs
from dashboard.registry import DIMENSIONS, PUBLIC_METRICS, TIME_DIMENSIONS
from storage.migration_files import available_migrations
from storage.visits import HOURLY_DIMENSIONS

ROOT = Path(__file__).resolve().parents[2]
_VIEW = re.compile(r"^CREATE\s+MATERIALIZED\s+VIEW\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)\s+TO\s+", re.IGNORECASE)
_DROPPED = re.compile(r"^DROP\s+(TABLE|VIEW)\s+(IF\s+EXISTS\s+)?(\w+)", re.IGNORECASE)
_PAIR = re.compile(r"\('([a-z_:]+)',")


def _views() -> dict[str, str]:
    """The materialized views the migrations leave, by name, as last created."""
    views: dict[str, str] = {}
    for migration in available_migrations():
        for statement in migration.statements():
            if match := _VIEW.match(statement):
                views[match.group(2)] = statement
            elif match := _DROPPED.match(statement):
                views.pop(match.group(3), None)
    return views


def test_event_rollup_views_hold_the_dimensions_the_registry_reads_from_them() -> None:
    declared = {d.event_rollup for d in DIMENSIONS.values() if d.event_rollup}
    views = _views()
    # The daily and monthly rollups are derived from the hourly one (storage/derived_rollups.py), value for value.
    assert not {"dimension_daily_mv", "dimension_monthly_mv"} & set(views)
    array_join = views["dimension_hourly_mv"].split("ARRAY JOIN", 1)[1]
    assert set(_PAIR.findall(array_join)) == declared


def test_the_visit_recount_holds_the_dimensions_the_registry_reads_from_visit_rollups() -> None:
    declared = {d.visit_rollup for d in DIMENSIONS.values() if d.visit_rollup}
    assert {name for name, _ in HOURLY_DIMENSIONS if name} == declared


def test_docs_tables_are_the_registrys() -> None:
    text = (ROOT / "docs" / "stats-api.md").read_text(encoding="utf-8")
    start, end = text.index(registry_docs.START), text.index(registry_docs.END) + len(registry_docs.END)
    assert text[start:end] == registry_docs.tables(), "run: python -m dashboard.registry_docs"
    for name in [*DIMENSIONS, *TIME_DIMENSIONS, *PUBLIC_METRICS]:
        assert f"`{name}`" in text
