"""Operations endpoints: /healthz (process up), /readyz (ClickHouse reachable, schema current), /metrics."""

from collections.abc import Callable

from fastapi import APIRouter, Request, Response

from dashboard.auth import ApiKeyAuth, refusal
from dashboard.json_response import json_response
from storage.migrations import pending_migrations
from storage.store import Store, StoreError
from teller.metrics import Metrics


def build_ops_router(store: Store, metrics: Callable[[], Metrics], auth: ApiKeyAuth) -> APIRouter:
    """Probe and metrics routes; the probes say nothing about statistics, /metrics needs an API key."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> Response:
        return json_response(200, {"status": "ok"})

    @router.get("/readyz")
    def readyz() -> Response:
        try:
            pending = pending_migrations(store)
        except StoreError as error:
            return json_response(503, {"status": "not ready", "reason": f"ClickHouse is not reachable: {error}"[:300]})
        if pending:
            names = ", ".join(f"{m.version:04d}_{m.name}" for m in pending)
            return json_response(503, {"status": "not ready", "reason": f"migrations not applied: {names}"})
        return json_response(200, {"status": "ready"})

    @router.get("/metrics")
    def prometheus_metrics(request: Request) -> Response:
        refused = refusal(auth, request.headers.get("authorization"))
        if refused is not None:
            return refused
        return Response(metrics().render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return router
