"""Funnels on both engines: steps in order within one visit convert; out of order, or split across
visits, they do not. windowFunnel exists on ClickHouse 18.16 and 26.x and counts these cases alike."""

import datetime as dt

import pytest
from harness import Harness

from dashboard.funnels import run_funnel
from dashboard.query import StatsQuery
from storage.goals import GoalError, add_funnel, add_goal, list_funnels, list_goals, make_funnel, make_goal

SITE = "funnels.test"
DAY = dt.date(2026, 11, 20)


def _event(harness: Harness, name: str, path: str, ip: str, seconds: int = 60, **extra: object) -> None:
    harness.now += seconds
    body = {"n": name, "u": f"https://{SITE}{path}", "d": SITE, **extra}
    assert harness.post_event(body, ip=ip).status_code == 202


def _setup(harness: Harness) -> list[str]:
    harness.add_site(SITE)
    names = [
        add_goal(harness.store, make_goal(SITE, "pageview", pattern="/pricing")).display_name,
        add_goal(harness.store, make_goal(SITE, "event", event_name="Signup")).display_name,
        add_goal(harness.store, make_goal(SITE, "scroll", pattern="/welcome", depth=50)).display_name,
    ]
    return names


def _steps(harness: Harness, names: list[str], filters: tuple = ()) -> list[tuple]:
    funnel = add_funnel(
        harness.store, make_funnel(harness.store, SITE, f"f{len(list_funnels(harness.store, SITE))}", names)
    )
    query = StatsQuery(SITE, "UTC", ("visitors",), (), DAY, DAY, filters=filters)
    steps = run_funnel(harness.store, query, funnel, list_goals(harness.store, SITE))
    return [(s.goal, s.visitors, s.conversion_from_previous, s.conversion_from_start, s.dropoff) for s in steps]


def test_steps_in_order_within_one_visit(harness: Harness) -> None:
    names = _setup(harness)
    # A: all three in order. B: pricing then signup. C: signup before pricing (out of order).
    # D: pricing, then signup in a second visit (an hour later). E: only pricing.
    _event(harness, "pageview", "/pricing", "8.8.1.1")
    _event(harness, "Signup", "/pricing", "8.8.1.1")
    _event(harness, "pageview", "/welcome", "8.8.1.1")
    _event(harness, "engagement", "/welcome", "8.8.1.1", e=3000, sd=70)
    _event(harness, "pageview", "/pricing", "8.8.2.2")
    _event(harness, "Signup", "/pricing", "8.8.2.2")
    _event(harness, "pageview", "/", "8.8.3.3")
    _event(harness, "Signup", "/", "8.8.3.3")
    _event(harness, "pageview", "/pricing", "8.8.3.3")
    _event(harness, "pageview", "/pricing", "8.8.4.4")
    _event(harness, "pageview", "/pricing", "8.8.5.5")
    _event(harness, "Signup", "/", "8.8.4.4", seconds=3600)
    harness.flush()
    assert _steps(harness, names) == [
        ("Visit /pricing", 5, 100.0, 100.0, 0),
        ("Signup", 2, 40.0, 40.0, 3),
        ("Scroll 50% on /welcome", 1, 50.0, 20.0, 1),
    ]
    # Reversed, only C completes the first two steps in order (signup, then pricing).
    assert _steps(harness, [names[1], names[0]]) == [
        ("Signup", 4, 100.0, 100.0, 0),
        ("Visit /pricing", 1, 25.0, 25.0, 3),
    ]


def test_funnels_take_filters_and_are_validated(harness: Harness) -> None:
    from dashboard.filters import Filter

    names = _setup(harness)
    _event(harness, "pageview", "/pricing", "8.8.1.1", referrer="https://www.google.com/")
    _event(harness, "Signup", "/pricing", "8.8.1.1")
    _event(harness, "pageview", "/pricing", "8.8.2.2")
    _event(harness, "Signup", "/pricing", "8.8.2.2")
    harness.flush()
    google = (Filter("is", "visit:source", ("Google",)),)
    assert _steps(harness, names[:2], google) == [
        ("Visit /pricing", 1, 100.0, 100.0, 0),
        ("Signup", 1, 100.0, 100.0, 0),
    ]
    with pytest.raises(GoalError, match="2 to 8"):
        make_funnel(harness.store, SITE, "short", names[:1])
    with pytest.raises(GoalError, match="no goal named"):
        make_funnel(harness.store, SITE, "unknown", [names[0], "Nope"])
