"""The last line of defence: an exception no route handled becomes a 500 page, never a traceback."""

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from markupsafe import escape

from dashboard.web.i18n import _, current

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

log = logging.getLogger("teller.errors")


def error_page() -> bytes:
    """The 500 page in the request's language (plain markup: the template engine may be what failed)."""
    return (
        f'<!doctype html><html lang="{current()}"><head><meta charset="utf-8"><title>{escape(_("Error"))}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        '<link rel="stylesheet" href="/static/app.css"></head><body><main><section class="card narrow">'
        f"<h1>{escape(_('Something went wrong'))}</h1><p>"
        + _(
            "Teller could not answer this request. The error is in the server's log; try again, or go "
            '<a href="/sites">back to the sites</a>.'
        )
        + "</p></section></main></body></html>"
    ).encode()


_JSON = orjson.dumps({"error": "internal error: the server could not answer this request"})


def wants_json(scope: Scope) -> bool:
    """True for requests from scripts (the APIs, downloads, non-GET), which get a JSON body."""
    path = scope.get("path", "")
    return (
        path.startswith("/api/")
        or path.endswith((".csv", ".zip", "/realtime", "/suggestions"))
        or scope.get("method") != "GET"
    )


class UnexpectedErrors:
    """ASGI middleware inside the security headers, so a 500 carries them like every other answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            # The path only (no query string, no headers): nothing a visitor or an editor typed is logged.
            log.exception("unexpected error answering %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            body, media_type = (
                (_JSON, b"application/json") if wants_json(scope) else (error_page(), b"text/html; charset=utf-8")
            )
            headers = [(b"content-type", media_type), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})
