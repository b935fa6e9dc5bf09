"""Wires the dashboard into the Teller app: routes, static files, error pages and security headers."""

import threading
import time
from collections.abc import Callable, Mapping

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from dashboard.json_response import json_error
from dashboard.web.access import Access
from dashboard.web.account_routes import build_account_router
from dashboard.web.admin_routes import build_admin_router
from dashboard.web.auth_routes import build_auth_router
from dashboard.web.config import DashboardSettings, SendMail
from dashboard.web.context import Denied, Redirect, Web, login_url
from dashboard.web.errors import UnexpectedErrors, wants_json
from dashboard.web.goal_routes import build_goal_router
from dashboard.web.import_routes import build_import_router
from dashboard.web.ingest_routes import build_ingest_router
from dashboard.web.language import LanguageMiddleware, Preferences
from dashboard.web.people_routes import build_people_router
from dashboard.web.render import StaticFiles, build_environment, html
from dashboard.web.report_routes import build_report_router
from dashboard.web.security import SecurityHeaders
from dashboard.web.segment_routes import build_segment_router
from dashboard.web.setup_routes import build_setup_router
from dashboard.web.site_routes import build_share_router, build_site_router
from dashboard.web.throttle import LoginThrottle
from storage.dashboard_secrets import dashboard_secret
from storage.sites import Site
from storage.store import Store


class LazySecret:
    """The dashboard secret, read from (or created in) ClickHouse on first use, after the migrations ran."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.value: bytes | None = None
        self._lock = threading.Lock()

    def __call__(self) -> bytes:
        with self._lock:
            if self.value is None:
                self.value = dashboard_secret(self.store, "dashboard")
            return self.value


def install_dashboard(
    app: FastAPI,
    store: Store,
    settings: DashboardSettings,
    sites: Callable[[], Mapping[str, Site]],
    refresh_sites: Callable[[], None],
    clock: Callable[[], float] = time.time,
    send_mail: SendMail | None = None,
) -> Web:
    """Add the dashboard's routes, error handling and security headers to app; return its context."""
    secret = LazySecret(store)
    static = StaticFiles()
    env = build_environment(static)
    access = Access(store, secret, settings.session_days * 86_400, clock)
    throttle = LoginThrottle(store, secret, clock)
    web = Web(store, settings, access, throttle, env, static, sites, refresh_sites, clock, send_mail)
    app.state.dashboard = web

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(request: Request, name: str) -> Response:
        return static.response(request, name)

    app.include_router(build_auth_router(web))
    app.include_router(build_site_router(web))
    app.include_router(build_share_router(web))
    app.include_router(build_admin_router(web))
    app.include_router(build_goal_router(web))
    app.include_router(build_ingest_router(web))
    app.include_router(build_import_router(web))
    app.include_router(build_segment_router(web))
    app.include_router(build_report_router(web))
    app.include_router(build_setup_router(web))
    app.include_router(build_account_router(web))
    app.include_router(build_people_router(web))

    @app.exception_handler(Redirect)
    async def redirect(request: Request, error: Redirect) -> Response:
        if wants_json(request.scope):
            return json_error(401 if error.location == "/setup" else 403, "finish " + error.location + " first")
        return RedirectResponse(error.location, status_code=303)

    @app.exception_handler(Denied)
    async def denied(request: Request, error: Denied) -> Response:
        machine = wants_json(request.scope)
        if error.status == 401 and not machine:
            return RedirectResponse(login_url(request), status_code=303)
        if machine:
            return json_error(error.status, error.message)
        user = web.user(request) if error.status != 401 else None
        context = web.page_context(request, user)
        return html(env, "error.html", error.status, **context, code=error.status, message=error.message)

    # Added before SecurityHeaders, so it runs inside it and its 500 pages carry the same headers; the
    # language is chosen outside UnexpectedErrors, so a 500 page is in the reader's language too.
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(LanguageMiddleware, access=access, preferences=Preferences(store))
    app.add_middleware(SecurityHeaders, public_url=settings.public_url)
    return web
