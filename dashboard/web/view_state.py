"""The dashboard's state in its URL: period, comparison, chart metric and filters, and links that change it."""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from dashboard.panels import FILTER_KEYS, FILTER_LABELS, KPI_METRICS, View
from dashboard.periods import CUSTOM, DEFAULT_PERIOD, PERIODS, parse_period
from dashboard.query import QueryError
from dashboard.web.i18n import LANGUAGES, _
from storage.sites import Site

MAX_FILTER_VALUE = 2000


@dataclass
class ViewState:
    """A parsed dashboard URL and the base path its links start with."""

    base: str
    view: View
    metric: str
    compare: bool
    params: dict[str, str] = field(default_factory=dict)
    error: str = ""

    def url(self, path: str = "", **changes: str | None) -> str:
        """A link to base+path with the current parameters, some changed (None removes one)."""
        params = dict(self.params)
        for key, value in changes.items():
            key = key.rstrip("_")
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        query = urlencode(params)
        return f"{self.base}{path}" + (f"?{query}" if query else "")

    def period_url(self, value: str) -> str:
        """The same view over another named period."""
        return self.url(period=None if value == DEFAULT_PERIOD else value, from_=None, to=None)

    def filter_url(self, key: str | None, value: Any) -> str | None:
        """The view filtered by one more value (replacing a filter on the same key)."""
        if key is None or value is None:
            return None
        return self.url(**{key: str(value)})

    def chips(self) -> list[dict[str, str]]:
        """The active filters, each with a link that removes it."""
        return [
            {"key": key, "label": FILTER_LABELS[key], "value": value, "remove": self.url(**{key: None})}
            for key, value in self.view.filters
        ]

    def hidden_fields(self, *skip: str) -> list[tuple[str, str]]:
        """Current parameters as hidden form fields, except the ones the form sets itself."""
        return [(key, value) for key, value in self.params.items() if key not in skip]


def parse_state(query: QueryParams, site: Site, today: Any, base: str, has_imports: bool = False) -> ViewState:
    """The view a dashboard URL asks for; an invalid custom range falls back to the default with an error.
    Imported statistics are added when the site has imports, unless the URL says imports=off."""
    params: dict[str, str] = {}
    error = ""
    value = query.get("period") or DEFAULT_PERIOD
    try:
        period = parse_period(value, query.get("from"), query.get("to"), today)
        if value in PERIODS and value != DEFAULT_PERIOD:
            params["period"] = value
        elif value == CUSTOM:
            params.update(period=CUSTOM, **{"from": period.first.isoformat(), "to": period.last.isoformat()})
    except QueryError as problem:
        period = parse_period(DEFAULT_PERIOD, None, None, today)
        error = _("Custom range: %(reason)s", reason=str(problem))
    filters = []
    for key in FILTER_KEYS:
        chosen = query.get(key)
        if chosen is not None and len(chosen) <= MAX_FILTER_VALUE:
            filters.append((key, chosen))
            params[key] = chosen
    metric = query.get("metric") or "visitors"
    if metric not in KPI_METRICS:
        metric = "visitors"
    if metric != "visitors":
        params["metric"] = metric
    compare = query.get("compare") != "off"
    if not compare:
        params["compare"] = "off"
    imports = has_imports and query.get("imports") != "off"
    if has_imports and not imports:
        params["imports"] = "off"
    # A visitor of a share link chose a language by URL (there is no cookie): its links keep it.
    if query.get("lang") in LANGUAGES:
        params["lang"] = query["lang"]
    view = View(site.domain, site.timezone, period, tuple(filters), imports)
    return ViewState(base, view, metric, compare, params, error)
