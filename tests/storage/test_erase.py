"""teller erase on both engines: before/after counts in every table, page patterns and periods."""

from pathlib import Path

from access_logs import NOW, RECORDS, T0, prepared_state, write_log

from collector.access_log.importer import LogImporter, import_files
from storage.erase import Selection, counts, day_range, erase
from storage.history import wait_for_mutations
from storage.store import Store

TABLES = (
    "events", "visits", "site_hourly", "dimension_hourly", "site_daily", "dimension_daily", "site_monthly",
    "dimension_monthly", "visit_hourly", "visit_daily", "search_terms", "log_lines",
)  # fmt: skip


def table_counts(store: Store) -> dict[str, int]:
    """Rows of every table the erase touches."""
    return {table: int(store.query(f"SELECT count() FROM {table}")[0][0]) for table in TABLES}


def page_rows(store: Store, pattern: str) -> int:
    """Rows naming a page like pattern, in events, visits and every rollup."""
    total = int(store.query("SELECT count() FROM events WHERE pathname LIKE %(p)s", {"p": pattern})[0][0])
    total += int(
        store.query("SELECT count() FROM visits WHERE entry_page LIKE %(p)s OR exit_page LIKE %(p)s", {"p": pattern})[
            0
        ][0]
    )
    for table in TABLES[2:10]:
        total += (
            int(store.query(f"SELECT count() FROM {table} WHERE value LIKE %(p)s", {"p": pattern})[0][0])
            if ("dimension" in table or "visit" in table)
            else 0
        )
    return total


def imported(store: Store, tmp_path: Path) -> None:
    """The test log imported for example.org."""
    state = prepared_state(store)
    importer = LogImporter(state, "example.org", "combined", NOW - 400 * 86_400, clock=lambda: NOW)
    import_files(importer, [write_log(tmp_path / "access.log", "combined", RECORDS)])
    importer.finish()
    wait_for_mutations(store)


def test_erase_a_page_pattern_recounts_everything_derived(store: Store, tmp_path: Path) -> None:
    imported(store, tmp_path)
    before = table_counts(store)
    assert before["events"] == 4 and page_rows(store, "/users/%") > 0
    selection = Selection("example.org", page="/users/*")
    dry = counts(store, selection)
    assert dry["events"] == 1 and dry["visits"] == 1
    erase(store, selection, now=NOW)
    after = table_counts(store)
    assert page_rows(store, "/users/%") == 0
    assert after["events"] == 3
    visits = store.query("SELECT uniqExact(visit_id) FROM visits")[0][0]
    assert visits == 2  # Alice's later visit held only the erased page
    daily = store.query("SELECT sumMerge(pageviews) FROM site_daily WHERE site = 'example.org'")[0][0]
    assert daily == 3
    visit_daily = store.query(
        "SELECT sum(v) FROM (SELECT argMax(visits, visits) AS v FROM visit_daily WHERE dimension = '' GROUP BY day)"
    )[0][0]
    assert visit_daily == 2
    assert after["search_terms"] == before["search_terms"] and after["log_lines"] == before["log_lines"]
    assert counts(store, selection)["events"] == 0


def test_erase_a_period_and_a_whole_site(store: Store, tmp_path: Path) -> None:
    imported(store, tmp_path)
    outside = day_range("example.org", "", None, None)
    before = table_counts(store)
    assert all(before[table] > 0 for table in TABLES), before
    import datetime as dt

    day = dt.datetime.fromtimestamp(T0, dt.UTC).date()
    other_day = erase(store, day_range("example.org", "", day + dt.timedelta(days=1), day + dt.timedelta(days=2)), NOW)
    assert other_day["events"] == 0
    assert table_counts(store) == before
    dry = counts(store, outside)
    assert dry["events"] == 4 and dry["search_terms"] == 1 and dry["log_lines"] == 4
    erase(store, day_range("example.org", "", day, day), NOW)
    after = table_counts(store)
    for table in TABLES:
        if table in ("site_monthly", "dimension_monthly"):
            continue  # the month holds only this day: recounted from no events, so empty as well
        assert after[table] == 0, (table, after)
    assert after["site_monthly"] == 0 and after["dimension_monthly"] == 0
    assert all(count == 0 for count in counts(store, outside).values())
