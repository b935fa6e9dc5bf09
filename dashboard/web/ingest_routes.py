"""Admin page /admin/ingest: how many received events were stored and why the others were dropped."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Request, Response

from dashboard.translatable import N_
from dashboard.web.context import Web
from dashboard.web.render import html
from storage.users import User

STORED = "stored"
# What each reason of docs/ingest.md means; a reason not listed here is shown by its name alone.
MEANINGS = {
    STORED: N_("taken: spooled and buffered for ClickHouse"),
    "bot": N_("crawler, monitor, headless browser, HTTP library, or no browser at all"),
    "referrer_spam": N_("referrer host on the spam list or in TELLER_REFERRER_SPAM"),
    "prefetch": N_("speculative load by the browser, not a visit"),
    "unknown_site": N_("domain not registered in Teller"),
    "do_not_track": N_("DNT or Sec-GPC sent, and the site honours it"),
    "invalid_url": N_("page URL that cannot be parsed"),
    "no_salt": N_("the day's salt was not loaded yet"),
    "no_search_term": N_("search event without a term"),
}


# teller.metrics.Metrics, found on the app's state: the dashboard imports neither teller nor the collector.
class IngestCounters(Protocol):
    """The summed ingest counters the page reads."""

    def totals(self) -> Mapping[str, Any]:
        """Summed counters: "accepted" and "dropped" ({reason: count}) among others."""
        ...


@dataclass(frozen=True, slots=True)
class Share:
    """One line of the page: an outcome, its count and its share of every received event."""

    reason: str
    meaning: str
    count: int
    share: float


def shares(accepted: int, dropped: Mapping[str, int]) -> tuple[int, list[Share]]:
    """Events received, and the stored ones then each drop reason, most frequent first, with their shares."""
    received = accepted + sum(dropped.values())
    outcomes = [(STORED, accepted), *sorted(dropped.items(), key=lambda item: (-item[1], item[0]))]
    return received, [
        Share(reason, MEANINGS.get(reason, ""), count, count / received if received else 0.0)
        for reason, count in outcomes
    ]


def _counters(request: Request) -> IngestCounters | None:
    """The metrics of the Teller this app serves, or None when the dashboard runs without one."""
    teller = getattr(request.app.state, "teller", None)
    return getattr(teller, "metrics", None)


def build_ingest_router(web: Web) -> APIRouter:
    """GET /admin/ingest, for admins only."""
    router = APIRouter(include_in_schema=False)
    Admin = Annotated[User, Depends(web.admin)]

    @router.get("/admin/ingest")
    def ingest(request: Request, user: Admin) -> Response:
        counters = _counters(request)
        totals = counters.totals() if counters is not None else {}
        received, rows = shares(int(totals.get("accepted", 0)), dict(totals.get("dropped", {})))
        context = web.page_context(request, user)
        return html(web.env, "admin_ingest.html", 200, **context, received=received, rows=rows)

    return router
