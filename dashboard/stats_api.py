"""POST /api/v2/query: the Stats API, shaped like Plausible's v2 (a subset), behind bearer keys."""

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Request, Response

from dashboard.auth import ApiKeyAuth, refusal
from dashboard.imported import decide, first_imported_day
from dashboard.json_response import json_error, json_response
from dashboard.query import QueryError, StatsQuery, parse_query
from dashboard.search_terms import is_search_query, run_search_query
from dashboard.stats import run_query, uses_rollup
from dashboard.time_labels import time_labels
from storage.store import Store, StoreError

MAX_QUERY_BYTES = 65_536
# meta.total_rows counts every row of the answer, as if no pagination was asked for.
UNPAGED = 10**9
QUERY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["site_id", "metrics", "date_range"],
                    "properties": {
                        "site_id": {"type": "string"},
                        "metrics": {"type": "array", "items": {"type": "string"}},
                        "date_range": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                        "dimensions": {"type": "array", "items": {"type": "string"}},
                        "filters": {"type": "array", "items": {"type": "array"}},
                        "order_by": {"type": "array", "items": {"type": "array"}},
                        "include": {
                            "type": "object",
                            "properties": {
                                name: {"type": "boolean"} for name in ("time_labels", "total_rows", "imports")
                            },
                        },
                        "pagination": {
                            "type": "object",
                            "properties": {"limit": {"type": "integer"}, "offset": {"type": "integer"}},
                        },
                    },
                }
            }
        },
    }
}


def first_stored_day(store: Store, site: str, timezone: str) -> dt.date | None:
    """The site's first local day in the hourly rollup (where date_range "all" starts), None without data."""
    sql = "SELECT count(), toString(toDate(min(hour), %(tz)s)) FROM site_hourly WHERE site = %(site)s"
    count, day = store.query(sql, {"site": site, "tz": timezone})[0]
    return dt.date.fromisoformat(day) if count else None


def build_stats_router(
    store: Store, sites: Callable[[], Mapping[str, Any]], auth: ApiKeyAuth, search_min_count: int = 3
) -> APIRouter:
    """The stats API router; sites() returns the current domain → Site mapping."""
    router = APIRouter()

    def today_of(timezone: str) -> dt.date:
        return dt.datetime.now(ZoneInfo(timezone)).date()

    @router.post(
        "/api/v2/query",
        summary="Query statistics (Plausible Stats API v2 subset)",
        responses={400: {"description": "Invalid query"}, 401: {"description": "Missing or wrong API key"}},
        openapi_extra=QUERY_BODY,
    )
    async def query(request: Request) -> Response:
        refused = refusal(auth, request.headers.get("authorization"))
        if refused is not None:
            return refused
        raw = await request.body()
        if len(raw) > MAX_QUERY_BYTES:
            return json_error(413, f"the query is larger than {MAX_QUERY_BYTES} bytes")
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return json_error(400, "the body is not valid JSON")
        zones = {d: s.timezone for d, s in sites().items()}
        include = body.get("include") if isinstance(body, dict) else None
        with_imports = isinstance(include, dict) and include.get("imports") is True

        def first_day(site: str) -> dt.date | None:
            found = [first_stored_day(store, site, zones[site])]
            if with_imports:
                found.append(first_imported_day(store, site))
            days = [day for day in found if day is not None]
            return min(days) if days else None

        try:
            stats_query = parse_query(body, zones, today_of, first_day)
        except QueryError as error:
            return json_error(400, str(error))
        except StoreError:
            return json_error(503, "the database could not answer the query")
        search = is_search_query(stats_query)

        def answer(asked: StatsQuery) -> list[dict[str, list[Any]]]:
            if search:
                return run_search_query(store, asked, search_min_count)
            return run_query(store, asked)

        try:
            results = answer(stats_query)
            unpaged = dataclasses.replace(stats_query, limit=UNPAGED, offset=0)
            total_rows = len(answer(unpaged)) if stats_query.include.total_rows else None
        except StoreError:
            return json_error(503, "the database could not answer the query")
        if search:
            meta = {"source": "search_terms", "time_zone": stats_query.timezone, "search_min_count": search_min_count}
        else:
            meta = {"source": "rollup" if uses_rollup(stats_query) else "events", "time_zone": stats_query.timezone}
        if stats_query.include.imports:
            try:
                meta.update(decide(store, stats_query).meta() if not search else {"imports_included": False})
            except StoreError:
                return json_error(503, "the database could not answer the query")
        if stats_query.include.time_labels:
            meta["time_labels"] = time_labels(stats_query)
        if total_rows is not None:
            meta["total_rows"] = total_rows
        return json_response(200, {"results": results, "meta": meta, "query": stats_query.echo()})

    return router
