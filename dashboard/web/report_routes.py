"""E-mail reports in the dashboard: admins manage a site's subscriptions; anyone with a signed link unsubscribes."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from dashboard.translatable import N_
from dashboard.unsubscribe import SECRET_NAME, token_valid
from dashboard.web.context import Denied, Web
from dashboard.web.i18n import _
from dashboard.web.render import html
from storage.dashboard_secrets import dashboard_secret
from storage.report_subscriptions import KINDS, add_subscription, list_subscriptions, remove_subscription
from storage.users import User

KIND_LABELS = {"weekly": N_("Weekly report"), "monthly": N_("Monthly report"), "spike": N_("Traffic spike alert")}


def build_report_router(web: Web) -> APIRouter:
    """Routes under /sites/<domain>/reports (admins) and /reports/unsubscribe (signed links)."""
    router = APIRouter(include_in_schema=False)
    Admin = Annotated[User, Depends(web.admin)]
    FormAdmin = Annotated[User, Depends(web.form_admin)]

    def reports_page(request: Request, user: User, domain: str, error: str = "", status: int = 200) -> Response:
        site = web.site(domain)
        return html(
            web.env,
            "reports.html",
            status,
            **web.page_context(request, user),
            site=site,
            subscriptions=list_subscriptions(web.store, site.domain),
            kinds=[(kind, KIND_LABELS[kind]) for kind in KINDS],
            kind_labels=KIND_LABELS,
            error=error,
        )

    @router.get("/sites/{domain}/reports")
    def reports(request: Request, domain: str, user: Admin) -> Response:
        return reports_page(request, user, domain)

    @router.post("/sites/{domain}/reports")
    def subscribe(
        request: Request,
        domain: str,
        user: FormAdmin,
        kind: Annotated[str, Form(max_length=20)] = "weekly",
        address: Annotated[str, Form(max_length=320)] = "",
        threshold: Annotated[int, Form(ge=0, le=1_000_000_000)] = 0,
        every_hours: Annotated[int, Form(ge=0, le=744)] = 24,
    ) -> Response:
        site = web.site(domain)
        try:
            add_subscription(web.store, site.domain, kind, address, threshold, every_hours, user.email)
        except ValueError as error:
            return reports_page(request, user, domain, str(error), 400)
        return RedirectResponse(f"/sites/{site.domain}/reports", status_code=303)

    @router.post("/sites/{domain}/reports/remove")
    def unsubscribe_admin(
        request: Request,
        domain: str,
        user: FormAdmin,
        kind: Annotated[str, Form(max_length=20)] = "",
        address: Annotated[str, Form(max_length=320)] = "",
    ) -> Response:
        site = web.site(domain)
        remove_subscription(web.store, site.domain, kind, address)
        return RedirectResponse(f"/sites/{site.domain}/reports", status_code=303)

    def checked(site: str, kind: str, address: str, token: str) -> None:
        if len(site) > 300 or len(address) > 320 or kind not in KINDS:
            raise Denied(400, _("This unsubscribe link is not valid."))
        if not token_valid(dashboard_secret(web.store, SECRET_NAME), site, kind, address, token):
            raise Denied(400, _("This unsubscribe link is not valid."))

    @router.get("/reports/unsubscribe")
    def unsubscribe_page(
        request: Request, site: str = "", kind: str = "", address: str = "", token: str = ""
    ) -> Response:
        # A page with a button, not an unsubscribe on GET: mail scanners open links.
        checked(site, kind, address, token)
        return html(
            web.env,
            "unsubscribe.html",
            **web.page_context(request, None),
            site=site,
            kind=kind,
            kind_label=KIND_LABELS[kind],
            address=address,
            token=token,
            done=False,
        )

    @router.post("/reports/unsubscribe")
    def unsubscribe(
        request: Request,
        site: Annotated[str, Form(max_length=300)] = "",
        kind: Annotated[str, Form(max_length=20)] = "",
        address: Annotated[str, Form(max_length=320)] = "",
        token: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        # Also the target of one-click unsubscribes (RFC 8058), which post to the link itself: the fields
        # may come in its query. The signed token is the only credential.
        query = request.query_params
        site, kind = site or query.get("site", ""), kind or query.get("kind", "")
        address, token = address or query.get("address", ""), token or query.get("token", "")
        checked(site, kind, address, token)
        remove_subscription(web.store, site, kind, address)
        return html(
            web.env,
            "unsubscribe.html",
            **web.page_context(request, None),
            site=site,
            kind=kind,
            kind_label=KIND_LABELS[kind],
            address=address,
            token=token,
            done=True,
        )

    return router
