"""E-mail reports and spike alerts through a real SMTP server, on both engines: the numbers are the API's,
the unsubscribe link works without a login, and each message goes out once however many Teller
processes or instances share the store."""

import datetime as dt
import html
import os
import re
import subprocess
import sys
import threading
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from harness import CHROME_WINDOWS, SAFARI_IPHONE, Harness
from playwright.sync_api import sync_playwright
from smtp_server import SmtpServer

from dashboard.email_report import REPORT_METRICS, report_period
from storage.goals import add_goal, make_goal
from storage.report_subscriptions import add_subscription, list_subscriptions
from storage.store import Store
from storage.user_languages import set_language

ROOT = Path(__file__).resolve().parents[2]
SITE = "reports.test"
# Monday 2026-11-23 08:00 UTC: the last complete week is 16-22 November (the known events are on the 20th).
MONDAY = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC).timestamp()
# Tuesday 2026-12-01: the last complete month is November.
DECEMBER = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC).timestamp()


@pytest.fixture
def smtp() -> SmtpServer:
    with SmtpServer() as server:
        yield server


def _texts(message: EmailMessage) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def _screenshot(page: str) -> None:
    """docs/screenshots/report-email.png: the HTML part as Chromium renders it, when TELLER_SCREENSHOTS is set."""
    target = os.environ.get("TELLER_SCREENSHOTS")
    if not target:
        return
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("TELLER_TEST_CHROMIUM", "/usr/bin/chromium")
        )
        try:
            view = browser.new_page(viewport={"width": 720, "height": 900})
            view.set_content(page)
            view.screenshot(path=str(Path(target) / "report-email.png"), full_page=True)
        finally:
            browser.close()


def _api_figures(harness: Harness, first: dt.date, last: dt.date) -> dict[str, object]:
    body = {"site_id": SITE, "metrics": list(REPORT_METRICS), "date_range": [first.isoformat(), last.isoformat()]}
    return dict(zip(REPORT_METRICS, harness.results(body)[0], strict=True))


def _api_top(harness: Harness, dimension: str, first: dt.date, last: dt.date) -> list[str]:
    body = {
        "site_id": SITE,
        "metrics": ["visitors"],
        "date_range": [first.isoformat(), last.isoformat()],
        "dimensions": [dimension],
        "pagination": {"limit": 10, "offset": 0},
    }
    return [str(row[1]) for row in harness.results(body)]


def _api_goals(harness: Harness, first: dt.date, last: dt.date) -> list[tuple[str, str, str, str]]:
    body = {
        "site_id": SITE,
        "metrics": ["visitors", "events", "conversion_rate"],
        "date_range": [first.isoformat(), last.isoformat()],
        "dimensions": ["event:goal"],
        "pagination": {"limit": 10, "offset": 0},
    }
    return [tuple(str(value) for value in row) for row in harness.results(body)]


def known_events(harness: Harness) -> None:
    """Four visitors on Friday 20 November: from Google (two pages), Facebook, a newsletter and direct."""
    harness.add_site(SITE)
    start = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC).timestamp()
    harness.now = start
    harness.teller.state.refresh()
    visits = [
        ("195.159.103.82", CHROME_WINDOWS, "https://www.google.com/search", ["/", "/pricing"]),
        ("195.159.104.9", SAFARI_IPHONE, "https://facebook.com/some/post", ["/blog"]),
        ("195.159.105.9", CHROME_WINDOWS, None, ["/pricing"]),
        ("195.159.106.9", SAFARI_IPHONE, None, ["/?utm_source=newsletter"]),
    ]
    for n, (ip, agent, referrer, paths) in enumerate(visits):
        for step, path in enumerate(paths):
            harness.now = start + 100 * n + 20 * step
            harness.pageview(SITE, path, ip=ip, user_agent=agent, referrer=referrer if step == 0 else None)
    harness.flush()


def _earlier_week(harness: Harness) -> None:
    """Two visitors on 12 November, so the change against the week before is known."""
    harness.now = dt.datetime(2026, 11, 12, 10, 0, tzinfo=dt.UTC).timestamp()
    harness.teller.state.refresh()  # that day's salt
    harness.pageview(SITE, "/", ip="195.159.110.1")
    harness.pageview(SITE, "/pricing", ip="195.159.111.1")
    harness.flush()


def test_weekly_and_monthly_reports_equal_the_api(store: Store, tmp_path: Path, smtp: SmtpServer) -> None:
    harness = Harness(store, tmp_path, public_url="https://stats.teller.test", **smtp.settings())
    harness.start()
    try:
        known_events(harness)
        _earlier_week(harness)
        harness.now = MONDAY
        harness.close_visits()
        add_subscription(store, SITE, "weekly", "Weekly@Example.com")
        add_subscription(store, SITE, "monthly", "monthly@example.com")
        for fields in ({"pattern": "/pricing"}, {"pattern": "/blog", "display_name": "Read the blog"}):
            add_goal(store, make_goal(SITE, "pageview", **fields))
        outcome = harness.teller.jobs.run("reports")
        assert outcome.sent == 2 and outcome.failed == 0
        # The weekly one now; the monthly one was October's (empty) report.
        received = {to[0]: message for to, message in smtp.inbox.messages}
        october_text, october_page = _texts(received["monthly@example.com"])
        assert "No goal was reached in this period." in october_text
        assert "No goal was reached in this period." in october_page
        assert set(received) == {"weekly@example.com", "monthly@example.com"}
        week, before = report_period("weekly", dt.date(2026, 11, 23))
        assert (week.first, week.last) == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
        weekly = received["weekly@example.com"]
        assert weekly["Subject"] == f"{SITE}: weekly report, Week 47, 2026 (2026-11-16 – 2026-11-22)"
        assert weekly["From"] == "Teller <stats@teller.test>"
        text, page = _texts(weekly)
        now, earlier = _api_figures(harness, week.first, week.last), _api_figures(harness, before.first, before.last)
        shown = dict(re.findall(r'data-metric="(\w+)" data-value="([^"]*)"', page))
        assert {name: float(shown[name]) for name in REPORT_METRICS} == {k: float(v) for k, v in now.items()}
        assert now["visitors"] == 4 and earlier["visitors"] == 2  # +100 %
        assert re.search(r"Unique visitors:\s+4\s+\(\+100% vs 2\)", text), text
        assert re.search(rf"Bounce rate:\s+{now['bounce_rate']:g}%", text), text
        pages = re.search(r"<h2[^>]*>Top pages</h2>(.*?)</table>", page, re.S).group(1)
        assert re.findall(r'data-value="(\d+)"', pages) == _api_top(harness, "event:page", week.first, week.last)
        assert "Top pages (visitors)" in text and "Sources (visitors)" in text and "Facebook" in text
        sources = re.search(r"<h2[^>]*>Sources</h2>(.*?)</table>", page, re.S).group(1)
        assert re.findall(r'data-value="(\d+)"', sources) == _api_top(harness, "visit:source", week.first, week.last)
        assert f"https://stats.teller.test/sites/{SITE}?period=custom&from=2026-11-16&to=2026-11-22" in text
        # Goals: uniques, total and conversion rate, as the API's event:goal breakdown answers.
        goals = re.search(r'<table[^>]*data-table="goals">(.*?)</table>', page, re.S).group(1)
        rows = re.findall(
            r'<tr data-goal="([^"]+)">.*?data-value="([^"]+)".*?data-value="([^"]+)".*?data-value="([^"]+)"',
            goals,
            re.S,
        )
        api_goals = _api_goals(harness, week.first, week.last)
        assert rows == api_goals == [("Visit /pricing", "2", "2", "50.0"), ("Read the blog", "1", "1", "25.0")]
        assert "Goals (uniques, total, conversion rate)" in text
        _screenshot(page)
        assert re.search(r"2\s+2\s+50%\s+Visit /pricing", text) and re.search(r"1\s+1\s+25%\s+Read the blog", text), (
            text
        )

        # Claimed: another run sends nothing.
        assert harness.teller.jobs.run("reports").sent == 0

        # The unsubscribe link works without a login; a page first (scanners open links), then the post.
        link = re.search(r"Unsubscribe: (\S+)", text).group(1)
        assert weekly["List-Unsubscribe"] == f"<{link}>"
        assert weekly["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        parts = urlsplit(link)
        client = harness.client()
        confirm = client.get(f"{parts.path}?{parts.query}")
        assert confirm.status_code == 200 and "weekly@example.com" in html.unescape(confirm.text)
        fields = {key: values[0] for key, values in parse_qs(parts.query).items()}
        forged = client.post(parts.path, data={**fields, "address": "monthly@example.com"})
        assert forged.status_code == 400
        assert len(list_subscriptions(store, SITE)) == 2
        # One-click (RFC 8058): the post goes to the link itself.
        done = client.post(f"{parts.path}?{parts.query}", data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and "no longer receives" in done.text
        assert [sub.kind for sub in list_subscriptions(store, SITE)] == ["monthly"]

        # On 1 December, November's report: the whole month, against October.
        smtp.inbox.messages.clear()
        harness.now = DECEMBER
        assert harness.teller.jobs.run("reports").sent == 1
        [(to, monthly)] = smtp.inbox.messages
        month, _ = report_period("monthly", dt.date(2026, 12, 1))
        text, page = _texts(monthly)
        assert "November 2026: 2026-11-01 to 2026-11-30" in text
        shown = dict(re.findall(r'data-metric="(\w+)" data-value="([^"]*)"', page))
        figures = _api_figures(harness, month.first, month.last)
        assert {name: float(shown[name]) for name in REPORT_METRICS} == {k: float(v) for k, v in figures.items()}
        assert figures["visitors"] == 6
    finally:
        harness.stop()


def test_spike_alert_at_most_once_per_hours(store: Store, tmp_path: Path, smtp: SmtpServer) -> None:
    harness = Harness(store, tmp_path, **smtp.settings())
    harness.start()
    try:
        harness.add_site(SITE)
        add_subscription(store, SITE, "spike", "ops@example.com", threshold=2, every_hours=6)
        harness.now = MONDAY
        harness.teller.state.refresh()  # Monday's salt
        for n in range(2):
            harness.pageview(SITE, "/", ip=f"195.159.{120 + n}.1")
        harness.flush()
        assert harness.teller.jobs.run("reports").sent == 0  # 2 visitors is not above 2
        harness.pageview(SITE, "/", ip="195.159.130.1")
        harness.flush()
        assert harness.teller.jobs.run("reports").sent == 1
        [(to, alert)] = smtp.inbox.messages
        assert to == ["ops@example.com"] and alert["Subject"] == f"{SITE}: 3 visitors in the last hour (alert above 2)"
        assert "Unsubscribe from these alerts: http" in _texts(alert)[0]
        # Still busy two and five hours later: no second alert within six hours.
        for hours in (2, 5):
            harness.now = MONDAY + hours * 3600
            for n in range(3):
                harness.pageview(SITE, "/", ip=f"195.159.{140 + n}.{hours}")
            harness.flush()
            assert harness.teller.jobs.run("reports").sent == 0
        harness.now = MONDAY + 6 * 3600 + 60
        for n in range(3):
            harness.pageview(SITE, "/", ip=f"195.159.{150 + n}.1")
        harness.flush()
        assert harness.teller.jobs.run("reports").sent == 1
        assert len(smtp.inbox.messages) == 2
    finally:
        harness.stop()


def test_two_teller_instances_on_one_store_send_each_report_once(
    store: Store, tmp_path: Path, smtp: SmtpServer
) -> None:
    first = Harness(store, tmp_path / "a", **smtp.settings())
    second = Harness(store, tmp_path / "b", **smtp.settings())
    first.start()
    second.start()
    try:
        first.add_site(SITE)
        second.teller.state.refresh()
        for n in range(5):
            add_subscription(store, SITE, "weekly" if n % 2 else "monthly", f"editor{n}@example.com")
        first.now = second.now = MONDAY
        outcomes = []
        threads = [
            threading.Thread(target=lambda h=h: outcomes.append(h.teller.jobs.run("reports"))) for h in (first, second)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(outcome.sent for outcome in outcomes) == 5
        assert sorted(to[0] for to, _ in smtp.inbox.messages) == [f"editor{n}@example.com" for n in range(5)]
    finally:
        first.stop()
        second.stop()


SENDER = """
import sys, time
from storage.opening import open_store
from storage.sites import list_sites
from teller.report_job import ReportSender
from teller.settings import Settings
settings = Settings()
store = open_store(settings.clickhouse_url, "", settings.data_dir)
sites = {site.domain: site for site in list_sites(store)}
start = float(sys.argv[1])
while time.time() < start:
    time.sleep(0.01)
outcome = ReportSender(store, settings, lambda: sites, clock=lambda: float(sys.argv[2])).run()
print(outcome.sent, outcome.lost_claims)
"""


def test_two_processes_on_one_server_send_each_report_once(
    server_database: str, tmp_path: Path, smtp: SmtpServer
) -> None:
    import time

    from storage.migrations import migrate
    from storage.server import ServerStore
    from storage.sites import add_site

    store = ServerStore(server_database)
    migrate(store)
    add_site(store, SITE, "UTC")
    for n in range(6):
        add_subscription(store, SITE, ("weekly", "monthly")[n % 2], f"editor{n}@example.com")
    store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELLER_")}
    env.update(
        PYTHONPATH=str(ROOT),
        TELLER_CLICKHOUSE_URL=server_database,
        TELLER_SMTP_HOST="127.0.0.1",
        TELLER_SMTP_PORT=str(smtp.port),
        TELLER_SMTP_STARTTLS="false",
        TELLER_SMTP_USER=smtp.settings()["smtp_user"],
        TELLER_SMTP_PASSWORD=smtp.settings()["smtp_password"],
        TELLER_SMTP_FROM="stats@teller.test",
    )
    start = str(time.time() + 8)  # both processes claim at the same instant
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SENDER, start, str(MONDAY)],
            env={**env, "TELLER_DATA_DIR": str(tmp_path / name)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    results = [process.communicate(timeout=120) for process in processes]
    assert all(process.returncode == 0 for process in processes), results
    sent = [int(out.split()[0]) for out, _ in results]
    assert sum(sent) == 6, results
    assert sorted(to[0] for to, _ in smtp.inbox.messages) == [f"editor{n}@example.com" for n in range(6)]


def test_a_reader_who_chose_bokmal_gets_alerts_and_reports_in_bokmal(
    store: Store, tmp_path: Path, smtp: SmtpServer
) -> None:
    harness = Harness(store, tmp_path, **smtp.settings())
    harness.start()
    try:
        harness.add_site(SITE)
        set_language(store, "norsk@example.com", "nb")
        add_subscription(store, SITE, "spike", "norsk@example.com", threshold=2, every_hours=6)
        harness.now = MONDAY
        harness.teller.state.refresh()
        for n in range(3):
            harness.pageview(SITE, "/", ip=f"195.159.{160 + n}.1")
        harness.flush()
        assert harness.teller.jobs.run("reports").sent == 1
        [(to, alert)] = smtp.inbox.messages
        assert alert["Subject"] == f"{SITE}: 3 besøkende den siste timen (varsel over 2)"
        text, body = _texts(alert)
        assert text.startswith(f"{SITE}: 3 besøkende den siste timen") and "Meld deg av disse varslene: http" in text
        assert '<html lang="nb">' in body
        # The weekly report's subject, labels and comparison, as the job composes it for this reader.
        weekly = add_subscription(store, SITE, "weekly", "norsk@example.com")
        mail = harness.teller.reports.compose(weekly, harness.teller.state.sites[SITE], 0)
        assert mail.subject == f"{SITE}: ukentlig rapport, Uke 47, 2026 (2026-11-16 – 2026-11-22)"
        assert "Unike besøkende:" in mail.text and "Sammenlignet med 2026-11-09 til 2026-11-15" in mail.text
        assert "Unsubscribe" not in mail.text and "Meld av: http" in mail.text
    finally:
        harness.stop()
