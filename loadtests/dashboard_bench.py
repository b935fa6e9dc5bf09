"""Dashboard speed on the embedded engine: each panel of a 30-day view, and whole dashboards, of a big site.

    python -m loadtests.dashboard_bench --data-dir /tmp/bench30 --events 10000000 --days 30

An empty data dir is filled first with `teller demo-data`'s generator, an hour of yesterday with the
day's mean traffic is copied to the last hour (live traffic: visits still open), and visits are closed
as the visit job would; later runs reuse the data. Each query function is timed on its own (the same functions the
pages and the stats API use), then whole dashboard pages through the app (rendering included). Run it
in its own process: chdb allows one data path per process.

The bench site gets goals (BENCH_GOALS) and a funnel (BENCH_FUNNEL) over the demo data's pages and custom
events when it has none of that name, so the goal conversions, funnel and property queries are timed too.
"""

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from dashboard.funnels import run_funnel
from dashboard.panels import (
    PANELS,
    View,
    property_keys,
    realtime_visitors,
    run_kpis,
    run_panel,
    run_properties,
    run_timeseries,
)
from dashboard.periods import parse_period, previous_period
from dashboard.query import parse_query
from storage import visits
from storage.embedded import EmbeddedStore
from storage.goals import add_funnel, add_goal, list_funnels, list_goals, make_funnel, make_goal
from storage.migrations import migrate
from storage.sites import add_site, list_sites
from teller.demo_data import fill
from teller.settings import Settings

TARGET_PANEL_P95_MS = 150.0
TARGET_DASHBOARD_MS = 1000.0
# Goal, funnel and property queries of a 30-day view (issue 13).
TARGET_GOAL_P95_MS = 300.0
# Pages and custom events the demo data holds (teller/demo_pools.py page_paths, teller/demo_data.py CUSTOM_EVENTS).
BENCH_GOALS = (
    {"kind": "pageview", "display_name": "Visit /", "pattern": "/"},
    {"kind": "pageview", "display_name": "Visit /pricing", "pattern": "/pricing"},
    {"kind": "pageview", "display_name": "Visit /blog/**", "pattern": "/blog/**"},
    {"kind": "event", "display_name": "Signup", "event_name": "Signup"},
    {"kind": "event", "display_name": "Signup pro", "event_name": "Signup", "prop_key": "plan", "prop_value": "pro"},
    {"kind": "scroll", "display_name": "Scroll 50% on /blog/**", "pattern": "/blog/**", "depth": 50},
)
BENCH_FUNNEL = ("Pricing to signup", ("Visit /", "Visit /pricing", "Visit /blog/**", "Signup"))
BENCH_PROPERTY = "plan"


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile of samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def timed(action: Callable[[], object], repeat: int) -> dict[str, float]:
    """p50, p95 and max milliseconds of repeat calls, after one warm-up call."""
    action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "p50": round(statistics.median(samples), 1),
        "p95": round(percentile(samples, 0.95), 1),
        "max": round(max(samples), 1),
    }


def prepare(store: EmbeddedStore, site: str, events: int, days: int, chunk: int) -> None:
    """Fill an empty store with demo data, then close visits up to now, as `teller demo-data` and the visit job do."""
    migrate(store)
    if site not in {known.domain for known in list_sites(store)}:
        add_site(store, site, "UTC")
    if not store.query("SELECT count() FROM events")[0][0]:
        started = time.perf_counter()
        # History ends at midnight: the generator puts the rest of the current day's visits at its end time,
        # a burst that no site has; live_traffic() adds the last hour instead.
        midnight = time.time() // 86_400 * 86_400
        written = fill(store, site, events, days, now=midnight)
        print(f"filled {written:,} events in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    live_traffic(store, site)
    # Closing visits up to now, as the visit job does every minute in `teller serve`.
    started = time.perf_counter()
    # Larger chunks than the job's hourly ones: the same SQL, fewer statements for a backlog of months.
    visits.CHUNK_SECONDS = chunk
    visits.close_visits(store, time.time())
    stored = store.query("SELECT count() FROM visits")[0][0]
    print(f"closed {stored:,} visits in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def define_goals(store: EmbeddedStore, site: str) -> None:
    """The bench goals and funnel on the site, added when it has none of their names."""
    names = {goal.display_name for goal in list_goals(store, site)}
    for fields in BENCH_GOALS:
        if fields["display_name"] not in names:
            add_goal(store, make_goal(site, **fields))
    name, steps = BENCH_FUNNEL
    if name not in {funnel.name for funnel in list_funnels(store, site)}:
        add_funnel(store, make_funnel(store, site, name, list(steps)))


def goal_timings(store: EmbeddedStore, view: View, repeat: int) -> dict[str, dict[str, float]]:
    """The goal conversions panel, the bench funnel and the property breakdowns of one view, timed on their own."""
    goals_panel = next(panel for panel in PANELS if panel.dimension == "event:goal")
    funnel = next(f for f in list_funnels(store, view.site) if f.name == BENCH_FUNNEL[0])
    body = {"site_id": view.site, "metrics": ["visitors"], "date_range": view.period.date_range}
    query = parse_query(body, {view.site: view.timezone}, lambda _: view.period.last)
    # The goals are read on every call, as the funnel page does.
    run = lambda: run_funnel(store, query, funnel, list_goals(store, view.site))  # noqa: E731
    converted = View(view.site, view.timezone, view.period, (("goal", "Signup"),))
    return {
        "goal conversions": timed(lambda: run_panel(store, goals_panel, view), repeat),
        f"funnel ({len(funnel.steps)} steps)": timed(run, repeat),
        "property keys": timed(lambda: property_keys(store, view), repeat),
        f"property {BENCH_PROPERTY}": timed(lambda: run_properties(store, view, BENCH_PROPERTY), repeat),
        f"property {BENCH_PROPERTY}, goal filter": timed(
            lambda: run_properties(store, converted, BENCH_PROPERTY), repeat
        ),
    }


def live_traffic(store: EmbeddedStore, site: str) -> None:
    """An hour of yesterday with the day's mean event count copied to the last hour: visits are open as on a
    site with live traffic."""
    now = int(time.time())
    yesterday = now - now % 86_400 - 86_400
    rows = store.query(
        "SELECT h, n FROM (SELECT toUInt32(toStartOfHour(ts)) AS h, count() AS n FROM events WHERE site = %(s)s "
        "AND ts >= toDateTime(%(a)s) AND ts < toDateTime(%(b)s) GROUP BY h) "
        "ORDER BY abs(n - (SELECT count() / 24 FROM events WHERE site = %(s)s AND ts >= toDateTime(%(a)s) "
        "AND ts < toDateTime(%(b)s))) LIMIT 1",
        {"s": site, "a": yesterday, "b": yesterday + 86_400},
    )
    recent = store.query("SELECT count() FROM events WHERE ts >= toDateTime(%(t)s)", {"t": now - 600})[0][0]
    if not rows or recent:
        return
    hour, count = int(rows[0][0]), rows[0][1]
    columns = [
        name
        for (name,) in store.query(
            "SELECT name FROM system.columns WHERE table = 'events' AND database = currentDatabase()"
        )
    ]
    values = ["toDateTime(toUInt32(ts) + %(shift)s)" if name == "ts" else name for name in columns]
    store.execute(
        f"INSERT INTO events ({', '.join(columns)}) SELECT {', '.join(values)} FROM events "
        "WHERE site = %(s)s AND ts >= toDateTime(%(h)s) AND ts < toDateTime(%(h)s + 3600)",
        {"s": site, "h": hour, "shift": now - 3600 - hour},
    )
    print(f"copied {count:,} events of an average hour of yesterday to the last hour", file=sys.stderr)


def panel_timings(store: EmbeddedStore, view: View, repeat: int) -> dict[str, dict[str, float]]:
    """Every query function of one dashboard view, timed on its own."""
    timings = {"kpis": timed(lambda: run_kpis(store, view), repeat)}
    previous = previous_period(view.period)
    timings["kpis (previous period)"] = timed(lambda: run_kpis(store, view, previous), repeat)
    for metric in ("visitors", "visits"):
        timings[f"chart: {metric}"] = timed(lambda m=metric: run_timeseries(store, view, m), repeat)
    for panel in PANELS:
        if panel.dimension == "event:goal":
            continue  # timed with the other goal queries
        timings[panel.name] = timed(lambda p=panel: run_panel(store, p, view), repeat)
    timings["realtime"] = timed(lambda: realtime_visitors(store, view.site), repeat)
    return timings


def page_timings(store: EmbeddedStore, data_dir: Path, site: str, periods: list[str], repeat: int) -> dict:
    """Whole dashboard pages (every query plus rendering) through the app, logged in."""
    from fastapi.testclient import TestClient

    from storage.users import add_user, get_user
    from teller.app import create_app

    settings = Settings(data_dir=data_dir, retention_events_days=3660, search_min_count=3)
    app = create_app(settings, store=store)
    app.state.teller.state.refresh()
    email, password = "bench@example.com", "benchmark-password"
    if get_user(store, email) is None:
        add_user(store, email, password, "viewer")
    client = TestClient(app)
    page = client.get("/login").text
    token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
    client.post(
        "/login",
        data={"email": email, "password": password, "token": token},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    results = {}
    for period in periods:
        url = f"/sites/{site}?period={period}"

        def load(url: str = url) -> None:
            response = client.get(url)
            assert response.status_code == 200, response.text[:500]

        results[period] = timed(load, repeat)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--site", default="example.com")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--chunk", type=int, default=3600, help="seconds of visit ends closed per statement")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--panels-period", default="30d")
    parser.add_argument("--pages", default="30d,12mo", help="dashboard periods to load as whole pages")
    args = parser.parse_args()

    store = EmbeddedStore(args.data_dir)
    prepare(store, args.site, args.events, args.days, args.chunk)
    define_goals(store, args.site)
    events = store.query("SELECT count() FROM events WHERE site = %(s)s", {"s": args.site})[0][0]
    today = dt.datetime.now(dt.UTC).date()
    view = View(args.site, "UTC", parse_period(args.panels_period, None, None, today))
    panel_events = store.query(
        "SELECT count() FROM events WHERE site = %(s)s AND ts >= toDateTime(%(a)s) AND ts < toDateTime(%(b)s)",
        {"s": args.site, "a": view.period.date_range[0], "b": (view.period.last + dt.timedelta(days=1)).isoformat()},
    )[0][0]
    report = {
        "site_events": events,
        "events_in_panel_period": panel_events,
        "panels_period": args.panels_period,
        "panels": panel_timings(store, view, args.repeat),
        "goals": goal_timings(store, view, args.repeat),
        "pages": page_timings(store, args.data_dir, args.site, args.pages.split(","), max(5, args.repeat // 3)),
    }
    print(json.dumps(report, indent=2))
    slow = {name: t["p95"] for name, t in report["panels"].items() if t["p95"] > TARGET_PANEL_P95_MS}
    goals = {name: t["p95"] for name, t in report["goals"].items() if t["p95"] > TARGET_GOAL_P95_MS}
    pages = {name: t["p95"] for name, t in report["pages"].items() if t["p95"] > TARGET_DASHBOARD_MS}
    print(f"panels over {TARGET_PANEL_P95_MS:.0f} ms p95: {slow or 'none'}", file=sys.stderr)
    print(f"goal queries over {TARGET_GOAL_P95_MS:.0f} ms p95: {goals or 'none'}", file=sys.stderr)
    print(f"pages over {TARGET_DASHBOARD_MS:.0f} ms p95: {pages or 'none'}", file=sys.stderr)
    store.close()


if __name__ == "__main__":
    main()
