"""Access log import on both engines: each format, exact counts, visits, re-import, rotation, privacy."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from access_logs import (
    ALICE,
    BOB,
    CRAWLER,
    FIREFOX,
    RECORDS,
    T0,
    clf_stamp,
    prepared_state,
    render,
    run_import,
    scalar,
    totals,
    write_log,
)
from privacy import file_hits, ip_forms, table_hits

from collector.access_log.formats import clf_time
from storage.store import Store

EXPECTED_SKIPS = {"asset": 1, "redirect": 1, "error": 1, "not_get": 1, "unparsed": 1}


@pytest.mark.parametrize("log_format", ["combined", "vhost-combined", "caddy-json", "common"])
def test_each_format_counts_page_views_and_visits(store: Store, tmp_path: Path, log_format: str) -> None:
    state = prepared_state(store)
    log = write_log(tmp_path / "access.log", log_format, RECORDS)
    result = run_import(store, state, log_format, log)
    skips = dict(EXPECTED_SKIPS)
    if log_format == "common":
        # No user agent in the format: the crawler cannot be told from a person and is counted.
        expected = {"events": 5, "visits": 4, "visitors": 3, "site_daily_pageviews": 5, "visit_daily_visits": 4}
    else:
        skips["bot"] = 1
        expected = {"events": 4, "visits": 3, "visitors": 2, "site_daily_pageviews": 4, "visit_daily_visits": 3}
    assert result.lines == len(RECORDS) + 1
    assert dict(result.skipped) == skips
    assert result.stored == expected["events"]
    assert result.visits == expected["visits"]
    assert totals(store) == {**expected, "searches": 1}
    stamps = store.query("SELECT toUInt32(min(ts)), toUInt32(max(ts)) FROM events")[0]
    assert tuple(stamps) == (T0, T0 + 4000)
    paths = {row[0] for row in store.query("SELECT DISTINCT pathname FROM events")}
    assert "/users/[email]" in paths and "/search" in paths
    assert not any("ola.nordmann" in path or "hello" in path for path in paths)


def test_reimport_and_overlapping_rotated_file_do_not_double(store: Store, tmp_path: Path) -> None:
    state = prepared_state(store)
    first = write_log(tmp_path / "access.log.1", "combined", RECORDS)
    run_import(store, state, "combined", first)
    before = totals(store)
    again = run_import(store, state, "combined", first)
    assert again.stored == 0 and again.skipped["already_imported"] == 4
    assert totals(store) == before
    later = (5000, BOB, "GET", "/pricing", 200, "", FIREFOX)
    rotated = write_log(tmp_path / "access.log.gz", "combined", [*RECORDS[7:], later], garbage=False, gz=True)
    result = run_import(store, state, "combined", rotated)
    assert result.stored == 1 and result.skipped["already_imported"] == 2
    after = totals(store)
    assert after["events"] == before["events"] + 1
    assert after["site_daily_pageviews"] == before["site_daily_pageviews"] + 1
    # Bob's /pricing is 82 minutes after his search: a visit of its own.
    assert after["visits"] == before["visits"] + 1 == after["visit_daily_visits"]


def test_identical_lines_of_one_second_are_all_counted(store: Store, tmp_path: Path) -> None:
    state = prepared_state(store)
    twice = [RECORDS[0], RECORDS[0]]
    log = write_log(tmp_path / "access.log", "combined", twice, garbage=False)
    assert run_import(store, state, "combined", log).stored == 2
    assert run_import(store, state, "combined", log).stored == 0
    assert scalar(store, "SELECT count() FROM events") == 2


def test_no_full_address_anywhere_after_an_import(store: Store, tmp_path: Path) -> None:
    state = prepared_state(store)
    run_import(store, state, "combined", write_log(tmp_path / "access.log", "combined", RECORDS))
    needles = [form for ip in (ALICE, BOB, CRAWLER) for form in ip_forms(ip)]
    assert table_hits(store, needles) == []


def test_cli_import_reports_skips_and_leaves_no_address_on_disk(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    logs = tmp_path / "logs"
    logs.mkdir()
    now = int(time.time())
    records = [(-3600 + r[0], *r[1:]) for r in RECORDS]
    log = logs / "access.log"
    log.write_text(
        "\n".join(render("combined", r).replace(clf_stamp(T0 + r[0] + 3600), clf_stamp(now + r[0])) for r in records)
        + "\n"
    )
    env = {**os.environ, "TELLER_DATA_DIR": str(data_dir), "TELLER_CLICKHOUSE_URL": ""}
    cli = [sys.executable, "-m", "teller.cli"]
    subprocess.run([*cli, "sites", "add", "example.org"], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [*cli, "import-logs", "--site", "example.org", "--format", "combined", str(log)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "4 page views stored" in done.stdout
    for line in ("skipped 1 asset", "skipped 1 bot", "skipped 1 error", "skipped 1 not_get", "skipped 1 redirect"):
        assert line in done.stdout
    assert "lines/s" in done.stdout
    needles = [form for ip in (ALICE, BOB, CRAWLER) for form in ip_forms(ip)]
    assert file_hits(data_dir, needles) == []
    dry = subprocess.run(
        [*cli, "erase", "--site", "example.org", "--page", "/users/*", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert "events: 1 rows" in dry.stdout and "dry run: nothing erased" in dry.stdout, dry.stdout + dry.stderr
    erased = subprocess.run(
        [*cli, "erase", "--site", "example.org", "--page", "/users/*", "--yes"], env=env, capture_output=True, text=True
    )
    assert "events: 1 -> 0 rows" in erased.stdout, erased.stdout + erased.stderr
    mapped = subprocess.run(
        [*cli, "sites", "tracker-id", "example.org", "matomo", "3"], env=env, capture_output=True, text=True
    )
    assert mapped.stdout.strip() == "example.org: matomo id 3 mapped", mapped.stderr


def test_clf_time_applies_the_offset() -> None:
    assert clf_time("10/Oct/2000:13:55:36 -0700") == 971211336
