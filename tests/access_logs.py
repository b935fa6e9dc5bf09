"""Access log lines for tests: records of two people and a crawler, rendered in each format, and their import."""

import gzip
import json
import time
from pathlib import Path

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
