"""A Teller app on a test store, driven over ASGI with chosen client addresses and a fixed clock."""

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from storage.api_keys import create_api_key
from storage.sites import add_site
from storage.store import Store
from teller.app import create_app
from teller.settings import Settings

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

# 2026-11-20 12:00:00 UTC, a fixed instant so dates in assertions are known.
NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC).timestamp()


class Harness:
    """Starts the app's background parts by hand and posts requests from any client address."""

    def __init__(self, store: Store, data_dir: Path, **settings: Any) -> None:
        self.now = NOON
        self.settings = Settings(
            data_dir=data_dir, flush_interval=3600, site_refresh_interval=3600, visit_interval=3600, **settings
        )
        self.store = store
        self.app = create_app(self.settings, store=store, clock=lambda: self.now)
        self.teller = self.app.state.teller
        self._key: str | None = None

    def start(self) -> None:
        """Migrate and load shared state, as the lifespan does."""
        self.teller.start()

    def stop(self) -> None:
        """Flush and stop background threads."""
        self.teller.stop()

    def add_site(self, domain: str, timezone: str = "UTC") -> None:
        """Register a site and reload the shared state."""
        add_site(self.store, domain, timezone)
        self.teller.state.refresh()

    def client(self, ip: str = "195.159.103.82") -> TestClient:
        """A client whose requests come from ip."""
        return TestClient(self.app, client=(ip, 50_000), raise_server_exceptions=False)

    def post_event(
        self, body: Any, ip: str = "195.159.103.82", user_agent: str = FIREFOX, **headers: str
    ) -> httpx.Response:
        """POST one event as a browser would (text/plain)."""
        content = body if isinstance(body, bytes | str) else httpx.Request("POST", "/", json=body).content
        all_headers = {"User-Agent": user_agent, "Content-Type": "text/plain", **headers}
        return self.client(ip).post("/api/event", content=content, headers=all_headers)

    def pageview(
        self,
        site: str,
        path: str,
        ip: str = "195.159.103.82",
        user_agent: str = FIREFOX,
        referrer: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        """POST a pageview of https://site/path."""
        body = {"n": "pageview", "u": f"https://{site}{path}", "d": site, "r": referrer, **extra}
        return self.post_event(body, ip=ip, user_agent=user_agent)

    def flush(self) -> None:
        """Write buffered events and search counts now."""
        self.teller.buffer.flush()
        self.teller.searches.flush()

    def close_visits(self) -> int:
        """Run the visit job once at the harness clock; return its new watermark."""
        return self.teller.jobs.run("visits")

    @property
    def api_key(self) -> str:
        """An API key created on first use."""
        if self._key is None:
            self._key = create_api_key(self.store, "tests")
        return self._key

    def query(self, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        """POST a stats query with the API key."""
        return self.client("127.0.0.1").post(
            "/api/v2/query", json=body, headers={"Authorization": f"Bearer {key or self.api_key}"}
        )

    def results(self, body: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Rows of a successful stats query as (dimensions..., metrics...) tuples."""
        response = self.query(body)
        assert response.status_code == 200, response.text
        return [tuple(row["dimensions"]) + tuple(row["metrics"]) for row in response.json()["results"]]
