"""Access log import on both engines: each format, exact counts, visits, re-import, rotation, privacy."""

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from privacy import file_hits, ip_forms, table_hits

from collector.access_log.formats import clf_time
from collector.access_log.importer import LogImporter, import_files
from collector.ingest.state import SharedState
from storage.history import wait_for_mutations
from storage.sites import add_site
from storage.store import Store
from storage.visits import close_visits

NOW = 1_795_694_400  # 2026-11-26 12:00 UTC
DAY = NOW - 10 * 86_400 - 12 * 3600  # 2026-11-16 00:00 UTC: salts of that day are long gone
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
ALICE, BOB, CRAWLER = "195.159.103.82", "2a02:2121:1:2:3:4:5:6", "66.249.66.1"
T0 = DAY + 10 * 3600

# (offset s, address, method, target, status, referrer, user agent)
RECORDS = [
    (0, ALICE, "GET", "/", 200, "https://www.google.com/", CHROME),
    (60, ALICE, "GET", "/about", 200, "https://example.org/", CHROME),
    (61, ALICE, "GET", "/style.css", 200, "https://example.org/about", CHROME),
    (62, ALICE, "GET", "/old", 301, "", CHROME),
    (63, ALICE, "GET", "/missing", 404, "", CHROME),
    (64, ALICE, "POST", "/form", 200, "", CHROME),
    (70, CRAWLER, "GET", "/", 200, "", GOOGLEBOT),
    (100, BOB, "GET", "/search?q=hello", 200, "", FIREFOX),
    (4000, ALICE, "GET", "/users/ola.nordmann@example.com", 200, "", CHROME),
]
GARBAGE = "this is not a log line"


def clf_stamp(ts: int) -> str:
    """An access log time in UTC+01:00, to prove the offset is applied."""
    moment = time.gmtime(ts + 3600)
    return time.strftime("%d/%b/%Y:%H:%M:%S +0100", moment)


def render(log_format: str, record: tuple) -> str:
    """One record as a line of the format."""
    offset, address, method, target, status, referrer, agent = record
    ts = T0 + offset
    request = f"{method} {target} HTTP/1.1"
    common = f'{address} - - [{clf_stamp(ts)}] "{request}" {status} 512'
    combined = f'{common} "{referrer or "-"}" "{agent}"'
    if log_format == "common":
        return common
    if log_format == "combined":
        return combined
    if log_format == "vhost-combined":
        return f"www.example.org:443 {combined}"
    headers = {"User-Agent": [agent]}
    if referrer:
        headers["Referer"] = [referrer]
    entry = {
        "level": "info", "ts": ts + 0.25, "logger": "http.log.access", "msg": "handled request",
        "request": {"remote_ip": address, "remote_port": "41342", "client_ip": address, "proto": "HTTP/1.1",
                    "method": method, "host": "example.org", "uri": target, "headers": headers},
        "bytes_read": 0, "duration": 0.001, "size": 512, "status": status,
    }  # fmt: skip
    return json.dumps(entry)


def write_log(path: Path, log_format: str, records: list, garbage: bool = True, gz: bool = False) -> Path:
    """A log file of the records (and a garbage line), plain or gzip."""
    text = "\n".join([render(log_format, r) for r in records] + ([GARBAGE] if garbage else [])) + "\n"
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def prepared_state(store: Store) -> SharedState:
    """A registered site, the visit job run once at NOW, shared state loaded at NOW."""
    add_site(store, "example.org")
    close_visits(store, NOW)
    state = SharedState(store, clock=lambda: NOW)
    state.refresh()
    return state


def run_import(store: Store, state: SharedState, log_format: str, *paths: Path):
    """Import files as `teller import-logs` does."""
    importer = LogImporter(state, "example.org", log_format, NOW - 400 * 86_400, clock=lambda: NOW)
    import_files(importer, paths)
    result = importer.finish()
    wait_for_mutations(store)
    return result


def scalar(store: Store, sql: str) -> int:
    """One number."""
    return int(store.query(sql)[0][0])


def totals(store: Store) -> dict[str, int]:
    """What the dashboard would read: raw events, visits, rollups, search terms."""
    day = "toDate('2026-11-16')"
    return {
        "events": scalar(store, "SELECT count() FROM events"),
        "visits": scalar(store, "SELECT uniqExact(visit_id) FROM visits"),
        "visitors": scalar(store, "SELECT uniqExact(visitor_id) FROM events"),
        "site_daily_pageviews": scalar(store, f"SELECT sumMerge(pageviews) FROM site_daily WHERE day = {day}"),
        "visit_daily_visits": scalar(
            store,
            f"SELECT sum(v) FROM (SELECT argMax(visits, visits) AS v FROM visit_daily WHERE day = {day} "
            "AND dimension = '' GROUP BY site, value)",
        ),
        "searches": scalar(store, "SELECT sum(searches) FROM search_terms WHERE term = 'hello'"),
    }


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


def test_clf_time_applies_the_offset() -> None:
    assert clf_time("10/Oct/2000:13:55:36 -0700") == 971211336
