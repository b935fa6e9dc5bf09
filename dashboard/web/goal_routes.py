"""Goals and funnels in the dashboard: admins define them per site, every user sees each funnel's steps."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from dashboard.funnels import run_funnel
from dashboard.query import parse_query
from dashboard.web.context import Denied, Web
from dashboard.web.i18n import _
from dashboard.web.render import html
from dashboard.web.view_state import parse_state
from storage.goals import (
    KINDS,
    MAX_STEPS,
    GoalError,
    add_funnel,
    add_goal,
    list_funnels,
    list_goals,
    make_funnel,
    make_goal,
    remove_funnel,
    remove_goal,
)
from storage.sites import Site
from storage.store import StoreError
from storage.users import User

Text = Annotated[str, Form(max_length=500)]


def build_goal_router(web: Web) -> APIRouter:
    """Routes under /sites/<domain>/goals (admins) and /sites/<domain>/funnels (every user)."""
    router = APIRouter(include_in_schema=False)
    Admin = Annotated[User, Depends(web.admin)]
    FormAdmin = Annotated[User, Depends(web.form_admin)]
    Reader = Annotated[User, Depends(web.reader)]

    def goals_page(request: Request, user: User, domain: str, error: str = "", status: int = 200) -> Response:
        site = web.site(domain)
        goals, funnels = list_goals(web.store, site.domain), list_funnels(web.store, site.domain)
        context = web.page_context(request, user)
        return html(
            web.env,
            "admin_goals.html",
            status,
            **context,
            site=site,
            goals=goals,
            funnels=funnels,
            kinds=KINDS,
            max_steps=MAX_STEPS,
            error=error,
        )

    @router.get("/sites/{domain}/goals")
    def goals(request: Request, domain: str, user: Admin) -> Response:
        return goals_page(request, user, domain)

    @router.post("/sites/{domain}/goals")
    def add(
        request: Request,
        domain: str,
        user: FormAdmin,
        kind: Annotated[str, Form(max_length=20)] = "pageview",
        pattern: Text = "",
        event_name: Text = "",
        prop_key: Text = "",
        prop_value: Text = "",
        depth: Annotated[str, Form(max_length=3)] = "",
        display_name: Text = "",
    ) -> Response:
        site = web.site(domain)
        fields = {"pattern": pattern, "event_name": event_name, "prop_key": prop_key, "prop_value": prop_value}
        try:
            add_goal(web.store, make_goal(site.domain, kind, depth=depth, display_name=display_name, **fields))
        except GoalError as error:
            return goals_page(request, user, domain, str(error), 400)
        return RedirectResponse(f"/sites/{site.domain}/goals", status_code=303)

    @router.post("/sites/{domain}/goals/remove")
    def remove(request: Request, domain: str, user: FormAdmin, goal_id: Text = "") -> Response:
        site = web.site(domain)
        remove_goal(web.store, site.domain, goal_id)
        return RedirectResponse(f"/sites/{site.domain}/goals", status_code=303)

    @router.post("/sites/{domain}/funnels/add")
    async def add_funnel_form(request: Request, domain: str, user: FormAdmin) -> Response:
        site = web.site(domain)
        form = await request.form()
        name = str(form.get("name") or "")[:500]
        steps = [str(step) for step in form.getlist("step")[: MAX_STEPS + 1] if step]
        try:
            add_funnel(web.store, make_funnel(web.store, site.domain, name, steps))
        except GoalError as error:
            return goals_page(request, user, domain, str(error), 400)
        return RedirectResponse(f"/sites/{site.domain}/goals", status_code=303)

    @router.post("/sites/{domain}/funnels/remove")
    def remove_funnel_form(request: Request, domain: str, user: FormAdmin, funnel_id: Text = "") -> Response:
        site = web.site(domain)
        remove_funnel(web.store, site.domain, funnel_id)
        return RedirectResponse(f"/sites/{site.domain}/goals", status_code=303)

    @router.get("/sites/{domain}/funnels")
    def funnels(request: Request, domain: str, user: Reader) -> Response:
        site = web.site(domain)
        return funnels_page(web, request, site, f"/sites/{site.domain}", user)

    @router.get("/share/{token}/funnels")
    def shared_funnels(request: Request, token: str) -> Response:
        return funnels_page(web, request, web.shared_site(token), f"/share/{token}", None)

    return router


def funnels_page(web: Web, request: Request, site: Site, base: str, user: User | None) -> Response:
    """Each funnel's steps over the period and filters of the URL; user None: a share link's read-only view."""
    state = parse_state(request.query_params, site, web.today(site), f"{base}/funnels")
    view = state.view
    try:
        defined = list_funnels(web.store, site.domain)
        chosen = request.query_params.get("funnel")
        funnel = next((f for f in defined if f.name == chosen), defined[0] if defined else None)
        steps = []
        if funnel is not None:
            body = {"site_id": site.domain, "metrics": ["visitors"], "date_range": view.period.date_range}
            if view.filters or view.conditions:
                body["filters"] = view.api_filters()
            query = parse_query(body, {site.domain: site.timezone}, lambda _: web.today(site))
            steps = run_funnel(web.store, query, funnel, list_goals(web.store, site.domain))
    except StoreError:
        raise Denied(503, _("The database could not answer; try again shortly.")) from None
    except LookupError as error:
        raise Denied(409, str(error)) from None
    return html(
        web.env,
        "funnels.html",
        **web.page_context(request, user),
        site=site,
        state=state,
        view=view,
        funnels=defined,
        funnel=funnel,
        steps=steps,
        hidden=state.hidden_fields("funnel"),
        back=state.url().replace(f"{base}/funnels", base, 1),
        shared=user is None,
    )
