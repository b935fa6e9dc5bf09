"""Imported history under retention, and --follow over appends and a rotation, on both engines."""

import threading
import time
from pathlib import Path

from access_logs import NOW, RECORDS, prepared_state, render, scalar

from collector.access_log.importer import LogImporter, follow_file, import_files
from storage.history import wait_for_mutations
from storage.retention import Policy, apply_retention
from storage.store import Store

OLD = NOW - 40 * 86_400  # beyond the 30 days raw events are kept, within the 25 months of rollups


def _shifted(records: list, seconds: int) -> list:
    return [(r[0] + seconds, *r[1:]) for r in records]


def test_history_older_than_raw_retention_keeps_its_rollups(store: Store, tmp_path: Path) -> None:
    state = prepared_state(store)
    log = tmp_path / "old.log"
    log.write_text("\n".join(render("combined", r) for r in _shifted(RECORDS, -40 * 86_400)) + "\n")
    importer = LogImporter(state, "example.org", "combined", NOW - 400 * 86_400, clock=lambda: NOW)
    import_files(importer, [log])
    result = importer.finish()
    wait_for_mutations(store)
    assert result.stored == 4 and result.visits == 3
    apply_retention(store, Policy(), now=NOW)
    wait_for_mutations(store)
    assert scalar(store, "SELECT count() FROM events") == 0
    assert scalar(store, "SELECT count() FROM visits") == 0
    assert scalar(store, "SELECT sumMerge(pageviews) FROM site_daily") == 4
    visits = (
        "SELECT sum(v) FROM (SELECT argMax(visits, visits) AS v FROM visit_daily WHERE dimension = '' GROUP BY day)"
    )
    assert scalar(store, visits) == 3
    # Importing the same file again adds nothing, though its raw events are gone.
    again = LogImporter(state, "example.org", "combined", NOW - 400 * 86_400, clock=lambda: NOW)
    import_files(again, [log])
    assert again.finish().stored == 0
    assert scalar(store, "SELECT sumMerge(pageviews) FROM site_daily") == 4


def test_follow_reads_appended_lines_and_a_rotated_file(store: Store, tmp_path: Path) -> None:
    state = prepared_state(store)
    log = tmp_path / "access.log"
    recent = RECORDS
    log.write_text(render("combined", recent[0]) + "\n")
    importer = LogImporter(state, "example.org", "combined", NOW - 400 * 86_400, clock=lambda: NOW)
    running = [True]
    thread = threading.Thread(target=follow_file, args=(importer, log, lambda: running[0]), kwargs={"poll": 0.05})
    thread.start()
    try:
        with log.open("a") as out:
            out.write(render("combined", recent[1]))  # half a line: held until its newline arrives
            out.flush()
            time.sleep(0.3)
            out.write("\n")
        time.sleep(0.5)
        log.rename(tmp_path / "access.log.1")
        log.write_text(render("combined", recent[7]) + "\n")
        deadline = time.monotonic() + 20
        while importer.result.stored < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        running[0] = False
        thread.join(10)
    result = importer.finish()
    assert result.stored == 3 and result.lines == 3
    assert scalar(store, "SELECT count() FROM events") == 3
