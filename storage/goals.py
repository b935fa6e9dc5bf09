"""Goals and funnels of a site: definitions only; conversions are counted from events when a query runs."""

import re
import secrets
import time
from dataclasses import dataclass

from storage.store import Store
from storage.versioned import VersionedTable, newest

GOALS = VersionedTable("goals", key="goal_id")
FUNNELS = VersionedTable("funnels", key="funnel_id")

PAGEVIEW, EVENT, SCROLL = "pageview", "event", "scroll"
KINDS = (PAGEVIEW, EVENT, SCROLL)
MAX_GOALS = 200
MAX_FUNNELS = 50
MAX_NAME = 120
MAX_PATTERN = 500
MIN_STEPS, MAX_STEPS = 2, 8
# Characters a path pattern may hold besides letters and digits (the wildcard is *).
_PATTERN = re.compile(r"^/[^\s\x00-\x1f]*$")


class GoalError(ValueError):
    """A goal or funnel definition is invalid; the message says why."""


@dataclass(frozen=True)
class Goal:
    """One goal: a pageview pattern, a custom event (optionally with one property value), or a scroll depth."""

    goal_id: str
    site: str
    kind: str
    display_name: str
    pattern: str = ""
    event_name: str = ""
    prop_key: str = ""
    prop_value: str = ""
    depth: int = 0


@dataclass(frozen=True)
class Funnel:
    """An ordered list of 2 to 8 goals, named by their display names."""

    funnel_id: str
    site: str
    name: str
    steps: tuple[str, ...]


def pattern_regex(pattern: str) -> str:
    """An anchored re2 pattern for a path pattern: `**` is any text, `*` any text without a slash.

    Every ASCII character other than a letter, a digit, `/`, `_` or `-` is written as \\x{..}, so nothing
    in a path is read as regex syntax.
    """
    out = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        char = pattern[index]
        if char == "*":
            out.append("[^/]*")
        elif char.isalnum() or char in "/_-" or ord(char) > 127:
            out.append(char)
        else:
            out.append(f"\\x{{{ord(char):02x}}}")
        index += 1
    return "^" + "".join(out) + "$"


def default_name(kind: str, pattern: str, event_name: str, prop_key: str, prop_value: str, depth: int) -> str:
    """The display name a goal gets when none is given (Plausible's "Visit /path" for pageview goals)."""
    if kind == PAGEVIEW:
        return f"Visit {pattern}"
    if kind == SCROLL:
        return f"Scroll {depth}% on {pattern}"
    return f"{event_name} ({prop_key}={prop_value})" if prop_key else event_name


def _text(value: object, what: str, limit: int, required: bool = True) -> str:
    if not isinstance(value, str):
        raise GoalError(f"{what} must be a string")
    value = value.strip()
    if required and not value:
        raise GoalError(f"{what} is required")
    if len(value) > limit:
        raise GoalError(f"{what} is longer than {limit} characters")
    return value


def make_goal(site: str, kind: str, **fields: object) -> Goal:
    """A validated new goal (not stored yet); raises GoalError naming the problem."""
    if kind not in KINDS:
        raise GoalError(f"kind must be one of {', '.join(KINDS)}")
    pattern = event_name = prop_key = prop_value = ""
    depth = 0
    if kind in (PAGEVIEW, SCROLL):
        pattern = _text(fields.get("pattern", ""), "pattern", MAX_PATTERN)
        if not _PATTERN.match(pattern):
            raise GoalError("pattern must start with / and hold no spaces or control characters")
    if kind == EVENT:
        event_name = _text(fields.get("event_name", ""), "event_name", MAX_NAME)
        prop_key = _text(fields.get("prop_key", ""), "prop_key", MAX_NAME, required=False)
        prop_value = _text(fields.get("prop_value", ""), "prop_value", MAX_PATTERN, required=False)
        if bool(prop_key) != bool(prop_value):
            raise GoalError("prop_key and prop_value go together")
    if kind == SCROLL:
        raw = fields.get("depth")
        if isinstance(raw, str) and raw.isdigit():
            raw = int(raw)
        if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= 100:
            raise GoalError("depth must be a whole number from 1 to 100")
        depth = raw
    name = _text(fields.get("display_name") or "", "display_name", MAX_NAME, required=False)
    name = name or default_name(kind, pattern, event_name, prop_key, prop_value, depth)
    return Goal(secrets.token_hex(8), site, kind, name, pattern, event_name, prop_key, prop_value, depth)


def add_goal(store: Store, goal: Goal) -> Goal:
    """Store a goal; its display name must be new on the site."""
    existing = list_goals(store, goal.site)
    if any(g.display_name == goal.display_name for g in existing):
        raise GoalError(f"the site already has a goal named {goal.display_name!r}")
    if len(existing) >= MAX_GOALS:
        raise GoalError(f"a site has at most {MAX_GOALS} goals")
    GOALS.insert(
        store,
        goal_id=goal.goal_id,
        site=goal.site,
        kind=goal.kind,
        display_name=goal.display_name,
        pattern=goal.pattern,
        event_name=goal.event_name,
        prop_key=goal.prop_key,
        prop_value=goal.prop_value,
        depth=goal.depth,
        created_at=int(time.time()),
        deleted=0,
    )
    return goal


def list_goals(store: Store, site: str) -> list[Goal]:
    """The site's goals, oldest first."""
    columns = ("site", "kind", "display_name", "pattern", "event_name", "prop_key", "prop_value", "depth")
    sql = GOALS.latest(
        *columns,
        having=f"{newest('site')} = %(site)s AND {newest('deleted')} = 0",
        order_by="min(version), goal_id",
    )
    return [Goal(row[0], *row[1:8], int(row[8])) for row in store.query(sql, {"site": site})]


def remove_goal(store: Store, site: str, key: str) -> bool:
    """Remove the goal whose id or display name is key; False when the site has none."""
    for goal in list_goals(store, site):
        if key in (goal.goal_id, goal.display_name):
            GOALS.insert(store, goal_id=goal.goal_id, site=site, created_at=int(time.time()), deleted=1)
            return True
    return False


def make_funnel(store: Store, site: str, name: object, steps: object) -> Funnel:
    """A validated new funnel whose steps are goals of the site (not stored yet)."""
    name = _text(name, "name", MAX_NAME)
    if not isinstance(steps, list | tuple) or not all(isinstance(s, str) for s in steps):
        raise GoalError("steps must be a list of goal names")
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise GoalError(f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps")
    known = {g.display_name for g in list_goals(store, site)}
    unknown = [s for s in steps if s not in known]
    if unknown:
        raise GoalError(f"no goal named {unknown[0]!r} on this site")
    return Funnel(secrets.token_hex(8), site, name, tuple(steps))


def add_funnel(store: Store, funnel: Funnel) -> Funnel:
    """Store a funnel; its name must be new on the site."""
    existing = list_funnels(store, funnel.site)
    if any(f.name == funnel.name for f in existing):
        raise GoalError(f"the site already has a funnel named {funnel.name!r}")
    if len(existing) >= MAX_FUNNELS:
        raise GoalError(f"a site has at most {MAX_FUNNELS} funnels")
    FUNNELS.insert(
        store,
        funnel_id=funnel.funnel_id,
        site=funnel.site,
        name=funnel.name,
        steps=list(funnel.steps),
        created_at=int(time.time()),
        deleted=0,
    )
    return funnel


def list_funnels(store: Store, site: str) -> list[Funnel]:
    """The site's funnels, oldest first."""
    sql = FUNNELS.latest(
        "site",
        "name",
        "steps",
        having=f"{newest('site')} = %(site)s AND {newest('deleted')} = 0",
        order_by="min(version), funnel_id",
    )
    return [Funnel(fid, s, name, tuple(steps)) for fid, s, name, steps in store.query(sql, {"site": site})]


def remove_funnel(store: Store, site: str, key: str) -> bool:
    """Remove the funnel whose id or name is key; False when the site has none."""
    for funnel in list_funnels(store, site):
        if key in (funnel.funnel_id, funnel.name):
            FUNNELS.insert(store, funnel_id=funnel.funnel_id, site=site, created_at=int(time.time()), deleted=1)
            return True
    return False
