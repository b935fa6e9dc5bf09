"""The first run: create the first admin with the setup token, add a site, and verify its installation."""

import threading
from typing import Annotated
from zoneinfo import available_timezones

import orjson
from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from dashboard.translatable import N_
from dashboard.web.auth_routes import set_session_cookie
from dashboard.web.context import Denied, Web
from dashboard.web.i18n import _
from dashboard.web.ingest_routes import MEANINGS
from dashboard.web.render import html
from dashboard.web.security import same_origin
from storage.ingest_drops import drops_since, first_event_since
from storage.setup_tokens import finish_setup, setup_token_valid
from storage.sites import add_site
from storage.store import StoreError
from storage.users import User, add_user, check_password, get_user

# What to do about each drop reason on the installation check.
ADVICE = {
    "unknown_site": N_("The data-domain of the script tag names a site Teller does not know. Check its spelling."),
    "bot": N_(
        "The browser looked like a robot (headless, automated or a crawler). Open the page in an ordinary browser."
    ),
    "do_not_track": N_(
        "The browser sends Do-Not-Track or Global Privacy Control and the site honours it. "
        "Try a browser without it, or turn the setting off for this site with `teller sites dnt`."
    ),
    "prefetch": N_("The page was only prefetched by the browser. Open it for real."),
    "invalid_url": N_("The page address could not be read."),
    "referrer_spam": N_("The referrer is on the spam list."),
    "no_salt": N_("Teller was starting up. Load the page again."),
}
# The verification looks this far back before the page was opened, so an event sent a moment earlier counts.
LOOK_BACK_SECONDS = 120
TIMEZONES = sorted(available_timezones())
_first_admin = threading.Lock()


def verification(web: Web, domain: str, since: int) -> dict:
    """What the installation check shows: received, dropped (with the reason) or still waiting."""
    event = first_event_since(web.store, domain, since)
    if event is not None:
        at, name, path = event
        return {"state": "received", "at": at, "event": name, "path": path}
    drops = drops_since(web.store, since, domain)
    if drops:
        _site, reason, at = drops[0]
        # In the reader's language, as the page around them.
        meaning = _(MEANINGS[reason]) if reason in MEANINGS else reason
        advice = _(ADVICE[reason]) if reason in ADVICE else ""
        return {"state": "dropped", "reason": reason, "meaning": meaning, "advice": advice, "at": at}
    others = [site for site, reason, _ in drops_since(web.store, since) if reason == "unknown_site" and site != domain]
    return {"state": "waiting", "unknown_sites": others[:5]}


def build_setup_router(web: Web) -> APIRouter:
    """GET/POST /setup (first run only), /setup/site, and each site's /verify page and its status."""
    router = APIRouter(include_in_schema=False)
    Admin = Annotated[User, Depends(web.admin)]
    FormAdmin = Annotated[User, Depends(web.form_admin)]
    Reader = Annotated[User, Depends(web.reader)]

    def setup_page(request: Request, error: str = "", status: int = 200, email: str = "") -> Response:
        if not web.setup_needed():
            raise Denied(404, _("Teller is set up; log in instead"))
        context = web.page_context(request, None)
        return html(web.env, "setup.html", status, **context, token=web.access.login_token(), error=error, email=email)

    @router.get("/setup")
    def setup_form(request: Request) -> Response:
        return setup_page(request)

    @router.post("/setup")
    def setup(
        request: Request,
        setup_token: Annotated[str, Form(max_length=100)] = "",
        email: Annotated[str, Form(max_length=320)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        repeat: Annotated[str, Form(max_length=1024)] = "",
        token: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        if not same_origin(request.headers, web.settings.public_url, request.url.scheme) or not (
            web.access.login_token_valid(token)
        ):
            return setup_page(request, _("The form has expired; please try again."), 403, email)
        prefix = request.client.host if request.client else "0.0.0.0"
        try:
            # Guessing the token is throttled like guessing a password.
            reservation = web.throttle.reserve("setup", prefix)
            if reservation.retry_after:
                return setup_page(request, _("Too many wrong setup tokens. Try again later."), 429, email)
            with _first_admin:
                if not setup_token_valid(web.store, setup_token, web.clock()):
                    return setup_page(request, _("That is not the setup token `teller serve` printed."), 401, email)
                if password != repeat:
                    return setup_page(request, _("The two passwords differ."), 400, email)
                try:
                    check_password(password)
                    user = add_user(web.store, email, password, "admin")
                except ValueError as error:
                    return setup_page(request, str(error).capitalize() + ".", 400, email)
                finish_setup(web.store)
                web.forget_setup()
            web.throttle.succeeded(reservation)
            session_id = web.access.log_in(get_user(web.store, user.email) or user)
        except StoreError:
            return setup_page(request, _("The database is not reachable; try again shortly."), 503, email)
        response = RedirectResponse("/setup/site", status_code=303)
        set_session_cookie(web, request, response, session_id)
        return response

    def site_page(request: Request, user: User, error: str = "", status: int = 200, domain: str = "") -> Response:
        return html(
            web.env,
            "setup_site.html",
            status,
            **web.page_context(request, user),
            error=error,
            domain=domain,
            timezones=TIMEZONES,
            default_timezone=getattr(web.settings, "timezone", "UTC"),
        )

    @router.get("/setup/site")
    def site_form(request: Request, user: Admin) -> Response:
        return site_page(request, user)

    @router.post("/setup/site")
    def add(
        request: Request,
        user: FormAdmin,
        domain: Annotated[str, Form(max_length=300)] = "",
        timezone: Annotated[str, Form(max_length=100)] = "UTC",
    ) -> Response:
        try:
            site = add_site(web.store, domain, timezone or "UTC")
        except ValueError as error:
            return site_page(request, user, str(error), 400, domain)
        web.refresh_sites()
        return RedirectResponse(f"/sites/{site.domain}/verify", status_code=303)

    @router.get("/sites/{domain}/verify")
    def verify(request: Request, domain: str, user: Reader) -> Response:
        site = web.user_site(user, domain)
        base = web.base_url(request)
        code = f'<script defer data-domain="{site.domain}" src="{base}/js/script.js"></script>'
        since = int(web.clock()) - LOOK_BACK_SECONDS
        return html(
            web.env, "verify.html", **web.page_context(request, user), site=site, code=code, base=base, since=since
        )

    @router.get("/sites/{domain}/verify/status")
    def verify_status(domain: str, user: Reader, since: int = 0) -> Response:
        site = web.user_site(user, domain)
        since = max(0, min(since, int(web.clock())))
        try:
            body = verification(web, site.domain, since)
        except StoreError:
            raise Denied(503, _("the database could not answer")) from None
        return Response(orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"})

    return router
