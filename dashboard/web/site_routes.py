"""The site list and each site's dashboard, exports, realtime count, install snippet and privacy text."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, Response

from dashboard.panels import (
    FILTER_KEYS,
    FILTER_LABELS,
    KPI_LABELS,
    KPI_METRICS,
    METRIC_LABELS,
    PANELS,
    PANELS_BY_NAME,
    PROP_FILTER,
    PanelResult,
    available_kpis,
    property_keys,
    realtime_visitors,
    run_kpis,
    run_panel,
    run_properties,
    run_timeseries,
    suggest_values,
)
from dashboard.periods import CUSTOM, PERIODS, previous_period
from dashboard.query import QueryError
from dashboard.web import export
from dashboard.web.chart import bucket_label, interval_label, render_chart
from dashboard.web.context import Denied, Web
from dashboard.web.filter_params import MAX_VALUE_LENGTH, MAX_VALUES, OPERATORS, condition_from_api
from dashboard.web.formatting import LOWER_IS_BETTER, change, date_range
from dashboard.web.i18n import _
from dashboard.web.labels import display_value
from dashboard.web.privacy import LANGUAGES, PrivacyFacts, privacy_sections, privacy_text, public_host
from dashboard.web.render import html
from dashboard.web.security import content_security_policy
from dashboard.web.view_state import PROP_KEY, ViewState, parse_state
from storage.imported import imported_days
from storage.segments import list_segments
from storage.sites import Site
from storage.store import StoreError
from storage.users import User

PANEL_ROWS = 9


def _csv(text: str, filename: str) -> Response:
    """A CSV download."""
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _file_stem(state: ViewState) -> str:
    """site_first_last, for download names."""
    period = state.view.period
    return f"{state.view.site}_{period.first.isoformat()}_{period.last.isoformat()}"


def dashboard_page(web: Web, request: Request, site: Site, base: str, user: User | None, shared: bool) -> Response:
    """The dashboard of a site (for a user at /sites/<domain>, read-only at /share/<token>)."""
    has_imports = imported_days(web.store, site.domain) is not None
    state = parse_state(request.query_params, site, web.today(site), base, has_imports)
    view = state.view
    store = web.store
    try:
        available = available_kpis(view)
        metric = state.metric if state.metric in available else (available[0] if available else "visits")
        kpis = run_kpis(store, view)
        previous = previous_period(view.period) if state.compare else None
        before = run_kpis(store, view, previous) if previous else {}
        series = run_timeseries(store, view, metric) if metric in available else []
        series_before = run_timeseries(store, view, metric, previous) if previous and metric in available else None
        panels = [run_panel(store, panel, view, PANEL_ROWS, web.settings.search_min_count) for panel in PANELS]
        realtime = realtime_visitors(store, site.domain, web.clock())
        keys = property_keys(store, view)
        chosen = state.params.get(PROP_KEY)
        prop_key = chosen if chosen in keys else (keys[0] if keys else None)
        prop_result = run_properties(store, view, prop_key, PANEL_ROWS) if prop_key else None
        segments = [] if shared else list_segments(store, site.domain)
    except QueryError as problem:
        raise Denied(400, f"These filters cannot be shown: {problem}") from None
    except StoreError:
        raise Denied(503, _("The database could not answer; try again shortly.")) from None
    cards = []
    for name in KPI_METRICS:
        delta = change(kpis[name], before.get(name)) if previous else None
        cards.append(
            {
                "metric": name,
                "label": KPI_LABELS[name],
                "value": kpis[name],
                "before": before.get(name),
                "delta": delta,
                "good": None if delta in (None, 0) else (delta < 0) == (name in LOWER_IS_BETTER),
                "url": state.url(metric=None if name == "visitors" else name),
                "selected": name == metric,
                "available": name in available,
            }
        )
    min_count = web.settings.search_min_count
    tables = [
        {**_table_rows(result, state, min_count), "export": state.url(f"/export/{result.panel.name}.csv")}
        for result in panels
    ]
    metric_label = METRIC_LABELS.get(metric, metric)
    chart = render_chart(series, series_before, metric, _(metric_label), view.period.interval)
    period = view.period
    # A refused custom range shows the default period with the reason, answered as the 400 it is.
    return html(
        web.env,
        "dashboard.html",
        400 if state.error else 200,
        **web.page_context(request, user),
        site=site,
        sites=[s.domain for s in web.visible_sites(user)] if user else sorted(web.sites()),
        shared=shared,
        state=state,
        view=view,
        periods=[(value, label, state.period_url(value)) for value, (label, _) in PERIODS.items()],
        previous=previous,
        cards=cards,
        metric=metric,
        metric_label=metric_label,
        period_label=date_range(period.first, period.last) if period.value == CUSTOM else _(period.label),
        period_dates=date_range(period.first, period.last),
        previous_dates=date_range(previous.first, previous.last) if previous else "",
        interval_label=interval_label(period.interval),
        chart=chart,
        series=[(bucket_label(bucket, view.period.interval), bucket, value) for bucket, value in series],
        tables=tables,
        realtime=realtime,
        compare_url=state.url(compare=None if not state.compare else "off"),
        has_imports=has_imports,
        imports_url=state.url(imports=None if not view.imports else "off"),
        clear_url=state.clear_url(),
        metric_labels=METRIC_LABELS,
        zip_url=state.url("/export.zip"),
        filter_keys=[(key, label) for key, label in FILTER_LABELS.items() if key in FILTER_KEYS],
        operators=list(OPERATORS.items()),
        segments=[
            {
                "segment": segment,
                "url": state.filtered_url(_segment_filters(segment.filters)),
                "may_delete": bool(user) and (user.is_admin or user.email == segment.created_by),
            }
            for segment in segments
        ],
        properties={
            "key_names": keys,
            "selected": prop_key,
            "table": _table_rows(prop_result, state, min_count) if prop_result else None,
            "hidden": state.hidden_fields(PROP_KEY),
        },
    )


def _segment_filters(saved: list) -> list:
    """A saved segment's filters that this version of the dashboard understands."""
    from_api = (condition_from_api(item) for item in saved)
    return [condition for condition in from_api if condition is not None]


def filter_redirect(web: Web, request: Request, site: Site, base: str) -> Response:
    """The filter dialog's answer: the same view with one more filter, as a link to share (303)."""
    # imports=off passes through; whether the site has imports matters only to the page it leads to.
    keep_imports_off = request.query_params.get("imports") == "off"
    state = parse_state(request.query_params, site, web.today(site), base, keep_imports_off)
    key = request.query_params.get("fd", "")
    operator = request.query_params.get("fo", "is")
    values = [v.strip() for v in request.query_params.getlist("fv") if v.strip()]
    if key not in FILTER_KEYS:
        raise Denied(400, "choose a dimension to filter by")
    if operator not in OPERATORS:
        raise Denied(400, f"the operator must be one of {', '.join(OPERATORS)}")
    if not values:
        raise Denied(400, "enter at least one value")
    if len(values) > MAX_VALUES or any(len(value) > MAX_VALUE_LENGTH for value in values):
        raise Denied(400, f"at most {MAX_VALUES} values of at most {MAX_VALUE_LENGTH} characters")
    target = state.with_condition((operator, key, tuple(dict.fromkeys(values))))
    return Response(status_code=303, headers={"Location": target, "Cache-Control": "no-store"})


def suggestions_response(web: Web, request: Request, site: Site) -> Response:
    """{"values": [{"value", "visitors"}]}: a dimension's top values in the view's period, for the dialog."""
    state = valid_state(web, request, site)
    key = request.query_params.get("key", "")
    search = request.query_params.get("q", "")
    if key not in FILTER_KEYS:
        raise Denied(400, f"unknown filter key {key[:100]!r}")
    if len(search) > MAX_VALUE_LENGTH:
        raise Denied(400, f"the search is at most {MAX_VALUE_LENGTH} characters")
    try:
        values = suggest_values(web.store, state.view, key, search)
    except QueryError as problem:
        raise Denied(400, str(problem)) from None
    except StoreError:
        raise Denied(503, "the database could not answer") from None
    body = orjson.dumps({"key": key, "dimension": FILTER_KEYS[key], "values": values})
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


def _table_rows(result: PanelResult, state: ViewState, min_count: int) -> dict[str, Any]:
    """A panel's rows as the template shows them: label, metrics, bar length and the link that filters."""
    top = max((float(row[1][0] or 0) for row in result.rows), default=0.0)
    key = result.panel.filter_key
    rows = [
        {
            "value": value,
            "label": display_value(result.panel.dimension, value, result.panel.empty_label, min_count),
            "metrics": metrics,
            "share": round(100 * float(metrics[0] or 0) / top, 1) if top else 0,
            "url": _row_url(state, result, key, value),
        }
        for value, metrics in result.rows
    ]
    return {"result": result, "rows": rows}


def _row_url(state: ViewState, result: PanelResult, key: str | None, value: Any) -> str | None:
    """The link of a panel row: the view filtered by its value (a property value adds to other properties)."""
    if value is None:
        return None
    if key == PROP_FILTER:
        return state.property_url(result.panel.dimension.split(":", 2)[2], str(value))
    return state.filter_url(key, value)


def realtime_response(web: Web, site: Site) -> Response:
    """{"visitors": n}: visitors in the last five minutes."""
    try:
        count = realtime_visitors(web.store, site.domain, web.clock())
    except StoreError:
        raise Denied(503, _("The database could not answer; try again shortly.")) from None
    body = orjson.dumps({"visitors": count})
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


def valid_state(web: Web, request: Request, site: Site) -> ViewState:
    """The view a download asks for; a refused range is a 400, never a file of another period."""
    has_imports = imported_days(web.store, site.domain) is not None
    state = parse_state(request.query_params, site, web.today(site), "", has_imports)
    if state.error:
        raise Denied(400, state.error)
    return state


def export_response(web: Web, request: Request, site: Site, name: str) -> Response:
    """One panel's CSV (or kpis / timeseries) for the view in the URL."""
    state = valid_state(web, request, site)
    try:
        if name == "kpis":
            text = export.kpis_csv(web.store, state.view)
        elif name == "timeseries":
            text = export.timeseries_csv(web.store, state.view)
        elif name in PANELS_BY_NAME:
            text = export.panel_csv(web.store, PANELS_BY_NAME[name], state.view, web.settings.search_min_count)
        else:
            raise Denied(404, _("There is no panel %(name)s.", name=name))
    except StoreError:
        raise Denied(503, _("The database could not answer; try again shortly.")) from None
    return _csv(text, f"{_file_stem(state)}_{name}.csv")


def zip_response(web: Web, request: Request, site: Site) -> Response:
    """Every panel's CSV, the KPIs and the time series of the view, in one zip."""
    state = valid_state(web, request, site)
    try:
        body = export.period_zip(web.store, state.view, web.settings.search_min_count)
    except StoreError:
        raise Denied(503, _("The database could not answer; try again shortly.")) from None
    return Response(
        body,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{_file_stem(state)}.zip"', "Cache-Control": "no-store"},
    )


def privacy_facts(web: Web, request: Request, site: Site) -> PrivacyFacts:
    """The configuration the privacy text describes."""
    settings = web.settings
    return PrivacyFacts(
        site=site,
        events_days=settings.retention_events_days,
        rollup_months=settings.retention_rollup_months,
        search_months=settings.retention_search_months,
        search_min_count=settings.search_min_count,
        stats_host=public_host(web.base_url(request)),
        controller_name=settings.controller_name,
        controller_email=settings.controller_email,
        request_days=settings.privacy_request_days,
    )


def build_site_router(web: Web) -> APIRouter:
    """Routes under /sites for logged-in users."""
    router = APIRouter(include_in_schema=False)
    Reader = Annotated[User, Depends(web.reader)]

    @router.get("/sites")
    def sites(request: Request, user: Reader) -> Response:
        try:
            rows = [(site, realtime_visitors(web.store, site.domain, web.clock())) for site in web.visible_sites(user)]
        except StoreError:
            raise Denied(503, _("The database could not answer; try again shortly.")) from None
        rows.sort(key=lambda row: row[0].domain)
        return html(web.env, "sites.html", **web.page_context(request, user), rows=rows)

    @router.get("/sites/{domain}")
    def dashboard(request: Request, domain: str, user: Reader) -> Response:
        return dashboard_page(web, request, web.user_site(user, domain), f"/sites/{domain}", user, shared=False)

    @router.get("/sites/{domain}/realtime")
    def realtime(domain: str, user: Reader) -> Response:
        return realtime_response(web, web.user_site(user, domain))

    @router.get("/sites/{domain}/filter")
    def add_filter(request: Request, domain: str, user: Reader) -> Response:
        return filter_redirect(web, request, web.site(domain), f"/sites/{domain}")

    @router.get("/sites/{domain}/suggestions")
    def suggestions(request: Request, domain: str, user: Reader) -> Response:
        return suggestions_response(web, request, web.site(domain))

    @router.get("/sites/{domain}/export/{name}.csv")
    def export_csv(request: Request, domain: str, name: str, user: Reader) -> Response:
        return export_response(web, request, web.user_site(user, domain), name)

    @router.get("/sites/{domain}/export.zip")
    def export_zip(request: Request, domain: str, user: Reader) -> Response:
        return zip_response(web, request, web.user_site(user, domain))

    @router.get("/sites/{domain}/snippet")
    def snippet(request: Request, domain: str, user: Reader) -> Response:
        site = web.user_site(user, domain)
        base = web.base_url(request)
        code = f'<script defer data-domain="{site.domain}" src="{base}/js/script.js"></script>'
        return html(web.env, "snippet.html", **web.page_context(request, user), site=site, code=code, base=base)

    @router.get("/sites/{domain}/privacy")
    def privacy(request: Request, domain: str, user: Reader) -> Response:
        site = web.user_site(user, domain)
        facts = privacy_facts(web, request, site)
        texts = [
            {"lang": lang, "name": name, "sections": privacy_sections(facts, lang), "plain": privacy_text(facts, lang)}
            for lang, name in LANGUAGES.items()
        ]
        return html(web.env, "privacy.html", **web.page_context(request, user), site=site, texts=texts)

    return router


def build_share_router(web: Web) -> APIRouter:
    """Read-only routes under /share/<token>: no login, no cookie, one site."""
    router = APIRouter(include_in_schema=False)

    @router.get("/share/{token}")
    def shared_dashboard(request: Request, token: str) -> Response:
        response = dashboard_page(web, request, web.shared_site(token), f"/share/{token}", None, shared=True)
        origins = web.access.share(token)[1]
        if origins:
            # This link's page alone may be framed, and only by the origins its admin listed.
            response.headers["Content-Security-Policy"] = content_security_policy(origins)
        return response

    @router.get("/share/{token}/realtime")
    def shared_realtime(token: str) -> Response:
        return realtime_response(web, web.shared_site(token))

    @router.get("/share/{token}/filter")
    def shared_filter(request: Request, token: str) -> Response:
        return filter_redirect(web, request, web.shared_site(token), f"/share/{token}")

    @router.get("/share/{token}/suggestions")
    def shared_suggestions(request: Request, token: str) -> Response:
        return suggestions_response(web, request, web.shared_site(token))

    @router.get("/share/{token}/export/{name}.csv")
    def shared_csv(request: Request, token: str, name: str) -> Response:
        return export_response(web, request, web.shared_site(token), name)

    @router.get("/share/{token}/export.zip")
    def shared_zip(request: Request, token: str) -> Response:
        return zip_response(web, request, web.shared_site(token))

    return router
