"""The dashboard's state in its URL: period, comparison, chart metric and filters, and links that change it."""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from dashboard.panels import (
    FILTER_KEYS,
    FILTER_LABELS,
    KPI_METRICS,
    PROP_CONDITION_PREFIX,
    PROP_FILTER,
    Condition,
    View,
)
from dashboard.periods import CUSTOM, DEFAULT_PERIOD, PERIODS, parse_period
from dashboard.query import QueryError
from dashboard.registry import MAX_PROP_KEY
from dashboard.web.filter_params import MAX_CONDITIONS, decode_condition, describe, encode_condition, key_label
from dashboard.web.i18n import LANGUAGES, _
from storage.sites import Site

MAX_FILTER_VALUE = 2000
# The property key the Properties panel shows (a URL parameter that is not a filter).
PROP_KEY = "prop_key"


def valid_prop_filter(value: str) -> bool:
    """True for a prop filter value <key>=<value> with a key the API accepts."""
    key, equals, _ = value.partition("=")
    return bool(key) and bool(equals) and len(key) <= MAX_PROP_KEY


@dataclass
class ViewState:
    """A parsed dashboard URL and the base path its links start with."""

    base: str
    view: View
    metric: str
    compare: bool
    params: dict[str, str] = field(default_factory=dict)
    error: str = ""

    def url(self, path: str = "", conditions: tuple[Condition, ...] | None = None, **changes: str | None) -> str:
        """A link to base+path with the current parameters, some changed (None removes one).

        conditions replaces the dialog's filters (the `f` parameters) when given.
        """
        params = dict(self.params)
        for key, value in changes.items():
            key = key.rstrip("_")
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        chosen = self.view.conditions if conditions is None else conditions
        pairs = list(params.items()) + [("f", encode_condition(condition)) for condition in chosen]
        query = urlencode(pairs)
        return f"{self.base}{path}" + (f"?{query}" if query else "")

    def filtered_url(self, filters: list[Condition]) -> str:
        """This view with exactly these filters (a segment's): one-value "is" filters as key=value."""
        cleared: dict[str, str | None] = dict.fromkeys((key for key, _value in self.view.filters), None)
        conditions: list[Condition] = []
        for operator, key, values in filters:
            clickable = key in FILTER_KEYS or key == PROP_FILTER
            if operator == "is" and len(values) == 1 and clickable and cleared.get(key) is None:
                cleared[key] = values[0]
            else:
                conditions.append((operator, key, values))
        return self.url(conditions=tuple(conditions), **cleared)

    def with_condition(self, condition: Condition) -> str:
        """This view with one more filter from the dialog."""
        operator, key, values = condition
        if operator == "is" and len(values) == 1 and key in FILTER_KEYS:
            return self.url(**{key: values[0]})
        return self.url(conditions=(*self.view.conditions, condition))

    def property_url(self, key: str, value: str) -> str:
        """The view filtered by one custom property value too, replacing an "is" filter on the same key (other
        keys' filters stay: any number of properties at once)."""
        name = PROP_CONDITION_PREFIX + key
        kept = tuple(c for c in self.view.conditions if not (c[0] == "is" and c[1] == name))
        clicked = self.params.get(PROP_FILTER, "")
        replaced = {PROP_FILTER: None} if clicked.partition("=")[0] == key else {}
        return self.url(conditions=(*kept, ("is", name, (value,))), **replaced)

    def all_filters(self) -> list[Condition]:
        """Every filter of the view as (operator, key, values), as a segment stores them."""
        return [("is", key, (value,)) for key, value in self.view.filters] + list(self.view.conditions)

    def period_url(self, value: str) -> str:
        """The same view over another named period."""
        return self.url(period=None if value == DEFAULT_PERIOD else value, from_=None, to=None)

    def filter_url(self, key: str | None, value: Any) -> str | None:
        """The view filtered by one more value (replacing a filter on the same key)."""
        if key is None or value is None:
            return None
        return self.url(**{key: str(value)})

    def chips(self) -> list[dict[str, Any]]:
        """The active filters, each with its words and a link that removes it."""
        clicked = [
            {
                "key": key,
                "label": FILTER_LABELS[key],
                "value": value,
                "text": _("%(dimension)s is %(value)s", dimension=_(FILTER_LABELS[key]), value=value or _("(none)")),
                "remove": self.url(**{key: None}),
                "dialog": False,
            }
            for key, value in self.view.filters
        ]
        chosen = self.view.conditions
        dialog = [
            {
                "key": key,
                "label": key_label(key),
                "value": ", ".join(values),
                "text": describe((operator, key, values)),
                "remove": self.url(conditions=chosen[:index] + chosen[index + 1 :]),
                "dialog": True,
            }
            for index, (operator, key, values) in enumerate(chosen)
        ]
        return clicked + dialog

    def clear_url(self) -> str:
        """This view without any filter."""
        return self.url(conditions=(), **dict.fromkeys((key for key, _value in self.view.filters), None))

    def hidden_fields(self, *skip: str) -> list[tuple[str, str]]:
        """Current parameters as hidden form fields, except the ones the form sets itself."""
        fields = [(key, value) for key, value in self.params.items() if key not in skip]
        if "f" not in skip:
            fields += [("f", encode_condition(condition)) for condition in self.view.conditions]
        return fields


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
    for key in (*FILTER_KEYS, PROP_FILTER):
        chosen = query.get(key)
        if key == PROP_FILTER and chosen is not None and not valid_prop_filter(chosen):
            continue
        if chosen is not None and len(chosen) <= MAX_FILTER_VALUE:
            filters.append((key, chosen))
            params[key] = chosen
    conditions: list[Condition] = []
    for text in query.getlist("f")[:MAX_CONDITIONS]:
        condition = decode_condition(text)
        if condition is not None and condition not in conditions:
            conditions.append(condition)
    prop_key = query.get(PROP_KEY)
    if prop_key and len(prop_key) <= MAX_PROP_KEY:
        params[PROP_KEY] = prop_key
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
    view = View(site.domain, site.timezone, period, tuple(filters), imports, tuple(conditions))
    return ViewState(base, view, metric, compare, params, error)
