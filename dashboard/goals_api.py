"""JSON endpoints for goals and funnels behind the stats API's bearer keys, and POST /api/v2/funnel.

GET/POST /api/v1/sites/{site}/goals, DELETE /api/v1/sites/{site}/goals/{id or name}; the same for
funnels. POST /api/v2/funnel takes a stats query's site_id, date_range and filters plus "funnel" (a
funnel's name or id) and answers the numbers of each step.
"""

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Request, Response

from dashboard.auth import ApiKeyAuth, refusal
from dashboard.funnels import run_funnel
from dashboard.json_response import json_error, json_response
from dashboard.query import QueryError, parse_query
from dashboard.stats_api import first_stored_day
from storage.goals import (
    Funnel,
    Goal,
    GoalError,
    add_funnel,
    add_goal,
    list_funnels,
    list_goals,
    make_funnel,
    make_goal,
    remove_funnel,
    remove_goal,
)
from storage.store import Store, StoreError

MAX_BODY_BYTES = 16_384
GOAL_FIELDS = ("kind", "display_name", "pattern", "event_name", "prop_key", "prop_value", "depth")


def goal_json(goal: Goal) -> dict[str, Any]:
    """A goal as the API writes it."""
    return {"id": goal.goal_id, **{name: getattr(goal, name) for name in GOAL_FIELDS}}


def funnel_json(funnel: Funnel) -> dict[str, Any]:
    """A funnel as the API writes it."""
    return {"id": funnel.funnel_id, "name": funnel.name, "steps": list(funnel.steps)}


async def _body(request: Request) -> dict[str, Any] | Response:
    """The request's JSON object, or the error to answer."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return json_error(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json_error(400, "the body is not valid JSON")
    if not isinstance(body, dict):
        return json_error(400, "the body must be a JSON object")
    return body


def build_goals_router(store: Store, sites: Callable[[], Mapping[str, Any]], auth: ApiKeyAuth) -> APIRouter:
    """The goal, funnel and funnel-numbers endpoints; sites() returns the current domain → Site mapping."""
    router = APIRouter()

    def refused(request: Request, site: str | None = None) -> Response | None:
        answer = refusal(auth, request.headers.get("authorization"))
        if answer is None and site is not None and site not in sites():
            return json_error(404, f"site {site!r} is not registered")
        return answer

    @router.get("/api/v1/sites/{site}/goals", summary="List a site's goals")
    def get_goals(site: str, request: Request) -> Response:
        return refused(request, site) or _stored(lambda: {"goals": [goal_json(g) for g in list_goals(store, site)]})

    @router.post("/api/v1/sites/{site}/goals", summary="Add a goal: kind pageview, event or scroll")
    async def post_goal(site: str, request: Request) -> Response:
        if answer := refused(request, site):
            return answer
        body = await _body(request)
        if isinstance(body, Response):
            return body
        unknown = sorted(set(body) - set(GOAL_FIELDS))
        if unknown:
            return json_error(422, f"unknown field {unknown[0]!r}; known: {', '.join(GOAL_FIELDS)}")
        try:
            kind = body.pop("kind", None)
            goal = make_goal(site, kind if isinstance(kind, str) else "", **body)
            return _stored(lambda: goal_json(add_goal(store, goal)), status=201)
        except GoalError as error:
            return json_error(422, str(error))

    @router.delete("/api/v1/sites/{site}/goals/{goal:path}", summary="Remove a goal by id or display name")
    def delete_goal(site: str, goal: str, request: Request) -> Response:
        if answer := refused(request, site):
            return answer
        try:
            removed = remove_goal(store, site, goal)
        except StoreError:
            return json_error(503, "the database could not answer")
        return json_response(200, {"removed": goal}) if removed else json_error(404, f"no goal {goal!r}")

    @router.get("/api/v1/sites/{site}/funnels", summary="List a site's funnels")
    def get_funnels(site: str, request: Request) -> Response:
        answer = refused(request, site)
        return answer or _stored(lambda: {"funnels": [funnel_json(f) for f in list_funnels(store, site)]})

    @router.post("/api/v1/sites/{site}/funnels", summary="Add a funnel: a name and 2 to 8 goal names")
    async def post_funnel(site: str, request: Request) -> Response:
        if answer := refused(request, site):
            return answer
        body = await _body(request)
        if isinstance(body, Response):
            return body
        try:
            funnel = make_funnel(store, site, body.get("name"), body.get("steps"))
            return _stored(lambda: funnel_json(add_funnel(store, funnel)), status=201)
        except GoalError as error:
            return json_error(422, str(error))
        except StoreError:
            return json_error(503, "the database could not answer")

    @router.delete("/api/v1/sites/{site}/funnels/{funnel:path}", summary="Remove a funnel by id or name")
    def delete_funnel(site: str, funnel: str, request: Request) -> Response:
        if answer := refused(request, site):
            return answer
        try:
            removed = remove_funnel(store, site, funnel)
        except StoreError:
            return json_error(503, "the database could not answer")
        return json_response(200, {"removed": funnel}) if removed else json_error(404, f"no funnel {funnel!r}")

    @router.post("/api/v2/funnel", summary="Each step of a funnel over a period, with the stats query's filters")
    async def post_funnel_numbers(request: Request) -> Response:
        if answer := refused(request):
            return answer
        body = await _body(request)
        if isinstance(body, Response):
            return body
        return _stored(lambda: funnel_numbers(store, sites(), body))

    return router


def funnel_numbers(store: Store, sites: Mapping[str, Any], body: dict[str, Any]) -> dict[str, Any] | Response:
    """The answer of POST /api/v2/funnel for a parsed body (an error Response when it is invalid)."""
    name = body.pop("funnel", None)
    if not isinstance(name, str) or not name:
        return json_error(400, "#/funnel: the name or id of a funnel is required")
    zones = {domain: site.timezone for domain, site in sites.items()}
    try:
        first_day = lambda site: first_stored_day(store, site, zones[site])  # noqa: E731
        query = parse_query({**body, "metrics": ["visitors"]}, zones, _today, first_day)
    except QueryError as error:
        return json_error(400, str(error))
    funnel = next((f for f in list_funnels(store, query.site) if name in (f.funnel_id, f.name)), None)
    if funnel is None:
        return json_error(404, f"no funnel {name!r} on {query.site}")
    try:
        steps = run_funnel(store, query, funnel, list_goals(store, query.site))
    except LookupError as error:
        return json_error(409, str(error))
    echo = query.echo()
    return {
        "funnel": funnel_json(funnel),
        "steps": [step.as_json() for step in steps],
        "query": {"site_id": echo["site_id"], "date_range": echo["date_range"], "filters": echo["filters"]},
    }


def _today(timezone: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(timezone)).date()


def _stored(read: Callable[[], Any], status: int = 200) -> Response:
    """The JSON of read(), a Response it returned, or a 503 when the database cannot answer."""
    try:
        found = read()
    except StoreError:
        return json_error(503, "the database could not answer")
    return found if isinstance(found, Response) else json_response(status, found)
