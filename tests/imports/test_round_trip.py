"""Export a site as a Plausible CSV zip, import it into an empty site: the dashboard's numbers are the same."""

import csv
import datetime as dt
import io
import zipfile

from harness import CHROME_WINDOWS, FIREFOX, SAFARI_IPHONE, Harness

from dashboard.plausible_export import write_export
from storage.imported import TABLES
from storage.plausible_import import import_plausible_zip

SOURCE = "origin.test"
TARGET = "moved.test"
DAYS = ["2026-11-18", "2026-11-19", "2026-11-20"]
AGENTS = [FIREFOX, CHROME_WINDOWS, SAFARI_IPHONE]
REFERRERS = [None, "https://www.google.com/search", "https://news.ycombinator.com/item?id=1", None]
KPIS = ["visitors", "visits", "pageviews", "events", "views_per_visit", "bounce_rate", "visit_duration"]
BREAKDOWNS = {
    "visit:source": ["visitors", "visits", "bounce_rate", "visit_duration"],
    "visit:referrer": ["visitors", "visits"],
    "visit:utm_campaign": ["visitors", "visits"],
    "event:page": ["visitors", "pageviews"],
    "visit:entry_page": ["visitors", "visits", "bounce_rate", "visit_duration"],
    "visit:exit_page": ["visitors", "visits"],
    "visit:device": ["visitors", "visits", "percentage"],
    "visit:browser": ["visitors", "visits"],
    "visit:os": ["visitors", "visits"],
    "event:name": ["visitors", "events"],
}


def _fill(harness: Harness) -> None:
    """Three days of visits; each visitor comes on one day only (the export counts visitors per day)."""
    for day_index, day in enumerate(DAYS):
        midnight = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp()
        harness.now = midnight + 60
        harness.teller.state.refresh()  # the day's salt
        for visitor in range(5 + 3 * day_index):
            harness.now = midnight + 3600 * (1 + visitor)
            ip = f"81.{20 + day_index}.{visitor}.7"
            agent = AGENTS[visitor % len(AGENTS)]
            referrer = REFERRERS[visitor % len(REFERRERS)]
            campaign = "?utm_source=letter&utm_campaign=winter" if visitor % 5 == 4 else ""
            harness.pageview(SOURCE, f"/start{visitor % 3}{campaign}", ip=ip, user_agent=agent, referrer=referrer)
            for step in range(visitor % 4):
                harness.now += 40 + 7 * step
                harness.pageview(SOURCE, f"/read/{step}", ip=ip, user_agent=agent)
            if visitor % 3 == 1:
                harness.now += 15
                body = {"n": "Signup", "u": f"https://{SOURCE}/read/0", "d": SOURCE}
                harness.post_event(body, ip=ip, user_agent=agent)
    harness.flush()
    harness.now = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC).timestamp()
    harness.close_visits()


def _answer(harness: Harness, site: str, body: dict) -> list[tuple]:
    response = harness.query({"site_id": site, "include": {"imports": site == TARGET}, **body})
    assert response.status_code == 200, response.text
    if site == TARGET:
        assert response.json()["meta"]["imports_included"] is True, body
    return [tuple(row["dimensions"]) + tuple(row["metrics"]) for row in response.json()["results"]]


def test_export_then_import_gives_the_same_dashboard(harness: Harness) -> None:
    harness.add_site(SOURCE)
    harness.add_site(TARGET)
    _fill(harness)
    first, last = dt.date.fromisoformat(DAYS[0]), dt.date.fromisoformat(DAYS[-1])
    target = io.BytesIO()
    counts = write_export(harness.store, SOURCE, "UTC", first, last, target)
    assert counts["imported_visitors"] == 3
    with zipfile.ZipFile(io.BytesIO(target.getvalue())) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(f"{table}_20261118_20261120.csv" for table in TABLES)
        for name in names:
            header = next(csv.reader(io.TextIOWrapper(archive.open(name), encoding="utf-8")))
            assert tuple(header) == TABLES[name.rsplit("_", 2)[0]].columns
    target.seek(0)
    result = import_plausible_zip(harness.store, TARGET, target, "origin.zip")
    assert result.total_rows == sum(counts.values())
    period = {"date_range": [DAYS[0], DAYS[-1]]}
    compared = 0
    for body in [
        {"metrics": KPIS},
        {"metrics": KPIS, "dimensions": ["time:day"]},
        *({"metrics": metrics, "dimensions": [name]} for name, metrics in BREAKDOWNS.items()),
        {"metrics": ["visitors"], "filters": [["is", "visit:source", ["Google"]]]},
        {
            "metrics": ["visitors", "visits"],
            "dimensions": ["visit:source"],
            "filters": [["is_not", "visit:source", ["Google"]]],
        },
    ]:
        native = _answer(harness, SOURCE, {**period, **body})
        assert native, body
        assert _answer(harness, TARGET, {**period, **body}) == native, body
        compared += len(native)
    assert compared > 40
    # Countries: Plausible's export leaves out visits of no known country, so only known ones are compared.
    countries = {"metrics": ["visitors", "visits"], "dimensions": ["visit:country"], **period}
    known = [row for row in _answer(harness, SOURCE, countries) if row[0] != "(not set)"]
    assert _answer(harness, TARGET, countries) == known
