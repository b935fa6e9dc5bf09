"""The rollups job on both engines: daily and monthly rollups derived from the hourly ones, read only in step."""

import datetime as dt
import threading

from collector.ingest.event import EVENT_COLUMNS, Event
from dashboard.query import parse_query
from dashboard.stats import run_query, usable_rollups
from storage.derived_rollups import SETTLE_SECONDS, in_step, run
from storage.history import wait_for_mutations
from storage.store import Store

SITE = "derive.test"
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
PERIOD = ["2026-10-01", "2026-11-19"]


def _insert(store: Store, moments: list[dt.datetime], first_visitor: int = 1, page: str = "/a") -> None:
    rows = [
        Event(site=SITE, ts=int(at.timestamp()), name="pageview", visitor_id=first_visitor + i, pathname=page).row()
        for i, at in enumerate(moments)
    ]
    store.insert("events", EVENT_COLUMNS, list(zip(*rows, strict=True)))


def _history(store: Store) -> int:
    """Two pageviews a day from Oct 1 to Nov 19, on two pages; returns the pageviews."""
    day, moments = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC), []
    while day.date() <= dt.date(2026, 11, 19):
        moments += [day, day + dt.timedelta(hours=5)]
        day += dt.timedelta(days=1)
    _insert(store, moments[::2], page="/a")
    _insert(store, moments[1::2], first_visitor=10_000, page="/b")
    return len(moments)


def _ask(store: Store, **body: object) -> list[dict]:
    query = parse_query({"site_id": SITE, "date_range": PERIOD, **body}, {SITE: "UTC"}, lambda tz: NOW.date())
    return run_query(store, query)


def _answers(store: Store) -> tuple[list[dict], ...]:
    return (
        _ask(store, metrics=["visitors", "pageviews"]),
        _ask(store, metrics=["visitors", "pageviews"], dimensions=["event:page"]),
        _ask(store, metrics=["pageviews"], dimensions=["time:month"]),
    )


def _daily_sums(store: Store, table: str) -> int:
    return int(store.query(f"SELECT sumMerge(pageviews) FROM {table} WHERE site = %(s)s", {"s": SITE})[0][0])


def test_history_is_counted_before_and_after_it_is_derived(store: Store) -> None:
    pageviews = _history(store)
    before = _answers(store)
    assert before[0][0]["metrics"] == [pageviews, pageviews]
    assert {row["dimensions"][0]: row["metrics"][1] for row in before[1]} == {"/a": 50, "/b": 50}
    assert usable_rollups(store, parse_query(
        {"site_id": SITE, "date_range": PERIOD, "metrics": ["visitors"]}, {SITE: "UTC"}, lambda tz: NOW.date()
    ))[0] == set()  # fmt: skip

    assert run(store, NOW.timestamp()) == 50  # every day with events, Oct 1 to Nov 19
    wait_for_mutations(store)
    assert _answers(store) == before
    assert _daily_sums(store, "site_daily") == _daily_sums(store, "dimension_daily") == pageviews
    days, months = in_step(store, SITE, dt.date(2026, 10, 1), dt.date(2026, 11, 20))
    assert len(days) == 50 and dt.date(2026, 10, 1) in months
    october = store.query(
        "SELECT sumMerge(pageviews) FROM site_monthly WHERE site = %(s)s AND day = toDate('2026-10-01')", {"s": SITE}
    )
    assert october[0][0] == 62
    assert run(store, NOW.timestamp() + 3600) == 0  # nothing left out of step


def test_a_day_is_derived_only_once_it_is_over(store: Store) -> None:
    _insert(store, [NOW - dt.timedelta(hours=1), NOW.replace(hour=0) - dt.timedelta(minutes=5)])
    run(store, NOW.timestamp())
    rows = store.query("SELECT toString(day), sumMerge(pageviews) FROM site_daily WHERE site = %(s)s GROUP BY day",
                       {"s": SITE})  # fmt: skip
    assert rows == [("2026-11-19", 1)]
    # Just after midnight the day before is still settling: nothing is derived.
    assert run(store, (NOW + dt.timedelta(hours=12)).timestamp() + SETTLE_SECONDS - 60) == 0
    assert run(store, (NOW + dt.timedelta(hours=12)).timestamp() + SETTLE_SECONDS + 60) == 1


def test_late_events_are_read_hourly_until_their_day_is_derived_again(store: Store) -> None:
    pageviews = _history(store)
    run(store, NOW.timestamp())
    wait_for_mutations(store)
    late_day = dt.datetime(2026, 10, 15, 20, tzinfo=dt.UTC)
    _insert(store, [late_day, late_day], first_visitor=50_000, page="/late")
    days, months = in_step(store, SITE, dt.date(2026, 10, 1), dt.date(2026, 11, 20))
    assert late_day.date() not in days and dt.date(2026, 10, 1) not in months
    answers = _answers(store)
    assert answers[0][0]["metrics"] == [pageviews + 2, pageviews + 2]
    assert {row["dimensions"][0]: row["metrics"][1] for row in answers[1]}["/late"] == 2

    assert run(store, NOW.timestamp() + 3600) == 1
    wait_for_mutations(store)
    days, months = in_step(store, SITE, dt.date(2026, 10, 1), dt.date(2026, 11, 20))
    assert late_day.date() in days and dt.date(2026, 10, 1) in months
    assert _answers(store) == answers
    assert _daily_sums(store, "site_monthly") == pageviews + 2


def test_processes_running_the_job_together_derive_each_day_once(store: Store) -> None:
    pageviews = _history(store)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(run(store, NOW.timestamp()))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for_mutations(store)
    assert sorted(results) == [0, 0, 50]
    assert _daily_sums(store, "site_daily") == _daily_sums(store, "site_monthly") == pageviews
