"""Which language a dashboard request is answered in: ?lang=, the user's saved choice, then Accept-Language."""

import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

import anyio

from dashboard.web.access import COOKIE_NAME, Access
from dashboard.web.i18n import LANGUAGES, activate, choose
from storage.store import Store, StoreError
from storage.user_languages import LANGUAGE_CHANGES, language_of

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]
# Answered without a language: the APIs answer in English, ingest, scripts and static files have no text.
_SKIPPED_PREFIXES = ("/api/", "/js/", "/static/", "/healthz", "/readyz", "/metrics")
CACHE_SECONDS = 5.0


class Preferences:
    """Users' saved languages, cached a few seconds per process (a change here is seen at once)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()
        LANGUAGE_CHANGES.listen(self.forget)

    def of(self, email: str) -> str:
        """The language a user chose, or ""."""
        with self._lock:
            entry = self._cache.get(email)
            if entry is not None and time.monotonic() - entry[0] < CACHE_SECONDS:
                return entry[1]
        chosen = language_of(self.store, email)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[email] = (time.monotonic(), chosen)
        return chosen

    def forget(self, email: str) -> None:
        """Drop a cached choice that this process just changed."""
        with self._lock:
            self._cache.pop(email, None)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _session_id(scope: Scope) -> str | None:
    cookie = SimpleCookie()
    try:
        cookie.load(_header(scope, b"cookie"))
    except Exception:  # a malformed Cookie header means no session, as for the rest of the dashboard
        return None
    morsel = cookie.get(COOKIE_NAME)
    return morsel.value if morsel else None


class LanguageMiddleware:
    """ASGI middleware: sets the request's language before any route, error page or 500 page renders text."""

    def __init__(self, app: ASGIApp, access: Access, preferences: Preferences) -> None:
        self.app = app
        self.access = access
        self.preferences = preferences

    def saved_choice(self, session_id: str | None) -> str | None:
        """The logged-in user's saved language (blocking: run in a worker thread)."""
        if not session_id:
            return None
        try:
            user = self.access.user_of(session_id)
            return self.preferences.of(user.email) if user else None
        except StoreError:
            return None  # the page itself reports the outage; the language falls back to the browser's

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(_SKIPPED_PREFIXES):
            await self.app(scope, receive, send)
            return
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [""])[0]
        if asked in LANGUAGES:
            activate(asked)
        else:
            session_id = _session_id(scope)
            saved = await anyio.to_thread.run_sync(self.saved_choice, session_id) if session_id else None
            activate(choose(saved, _header(scope, b"accept-language")))
        await self.app(scope, receive, send)
