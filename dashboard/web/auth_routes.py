"""Login and logout: e-mail and password against argon2 hashes, throttled, ending in a session cookie."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from dashboard.web.access import COOKIE_NAME
from dashboard.web.context import Denied, Web, safe_next
from dashboard.web.i18n import LANGUAGES, _, ngettext
from dashboard.web.render import html
from dashboard.web.security import same_origin
from storage.store import StoreError
from storage.two_factor import spend_code, use_recovery_code
from storage.user_languages import set_language
from storage.users import User, authenticate, get_user


def set_session_cookie(web: Web, request: Request, response: Response, session_id: str) -> None:
    """Give the browser a session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS)."""
    response.set_cookie(
        COOKIE_NAME,
        session_id,
        max_age=web.settings.session_days * 86_400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=web.secure_cookies(request),
    )


def build_auth_router(web: Web) -> APIRouter:
    """GET/POST /login, POST /logout, POST /language and / (to the sites or the login page)."""
    router = APIRouter(include_in_schema=False)

    def login_page(request: Request, target: str, error: str = "", status: int = 200, email: str = "") -> Response:
        return html(
            web.env,
            "login.html",
            status,
            **web.page_context(request, None),
            token=web.access.login_token(),
            next=safe_next(target),
            error=error,
            email=email,
        )

    def refused(request: Request, target: str, email: str, wait: int) -> Response:
        minutes = max(1, round(wait / 60))
        message = ngettext(
            "Too many failed attempts. Try again in a minute.",
            "Too many failed attempts. Try again in %(num)s minutes.",
            minutes,
        ) % {"num": minutes}
        response = login_page(request, target, message, 429, email)
        response.headers["Retry-After"] = str(wait)
        return response

    @router.get("/")
    def home(request: Request) -> Response:
        if web.user(request):
            return RedirectResponse("/sites", status_code=303)
        return RedirectResponse("/setup" if web.setup_needed() else "/login", status_code=303)

    @router.get("/login")
    def login_form(request: Request, next: str = "/sites") -> Response:  # noqa: A002
        if web.user(request):
            return RedirectResponse(safe_next(next), status_code=303)
        if web.setup_needed():
            return RedirectResponse("/setup", status_code=303)
        return login_page(request, next)

    def code_page(request: Request, user: User, target: str, error: str = "", status: int = 200) -> Response:
        return html(
            web.env,
            "login_code.html",
            status,
            **web.page_context(request, None),
            pending=web.access.two_factor_token(user),
            next=safe_next(target),
            error=error,
        )

    def logged_in(request: Request, user: User, target: str) -> Response:
        response = RedirectResponse(safe_next(target), status_code=303)
        set_session_cookie(web, request, response, web.access.log_in(user))
        return response

    @router.post("/login/code")
    def login_code(
        request: Request,
        pending: Annotated[str, Form(max_length=400)] = "",
        code: Annotated[str, Form(max_length=64)] = "",
        next: Annotated[str, Form(max_length=2000)] = "/sites",  # noqa: A002
    ) -> Response:
        user = web.access.two_factor_user(pending)
        if not same_origin(request.headers, web.settings.public_url, request.url.scheme) or user is None:
            return login_page(request, next, _("The form has expired; please log in again."), 403)
        prefix = request.client.host if request.client else "0.0.0.0"
        try:
            reservation = web.throttle.reserve(user.email, prefix)
            if reservation.retry_after:
                return refused(request, next, user.email, reservation.retry_after)
            spent = spend_code(web.store, user.email, user.totp_secret, code)
            if not spent and not use_recovery_code(web.store, user, code):
                return code_page(request, user, next, _("That code is not right."), 401)
            web.throttle.succeeded(reservation)
            fresh = get_user(web.store, user.email)  # a spent recovery code made a new version
            if fresh is None:
                return login_page(request, next, _("The form has expired; please log in again."), 403)
            return logged_in(request, fresh, next)
        except StoreError:
            return login_page(request, next, _("The database is not reachable; try again shortly."), 503)

    @router.post("/login")
    def login(
        request: Request,
        email: Annotated[str, Form(max_length=320)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        token: Annotated[str, Form(max_length=200)] = "",
        next: Annotated[str, Form(max_length=2000)] = "/sites",  # noqa: A002
    ) -> Response:
        if not same_origin(
            request.headers, web.settings.public_url, request.url.scheme
        ) or not web.access.login_token_valid(token):
            return login_page(request, next, _("The form has expired; please try again."), 403, email)
        prefix = request.client.host if request.client else "0.0.0.0"
        try:
            # Reserved before the password is checked, so parallel guesses cannot all pass the check.
            reservation = web.throttle.reserve(email, prefix)
            if reservation.retry_after:
                return refused(request, next, email, reservation.retry_after)
            user: User | None = authenticate(web.store, email, password)
            if user is None:
                return login_page(request, next, _("Wrong e-mail address or password."), 401, email)
            if user.has_two_factor:
                # The attempt counts until the second factor passes too, so codes are guessed no faster.
                return code_page(request, user, next)
            web.throttle.succeeded(reservation)
            return logged_in(request, user, next)
        except StoreError:
            return login_page(request, next, _("The database is not reachable; try again shortly."), 503, email)

    @router.post("/logout")
    def logout(request: Request, user: Annotated[User, Depends(web.form_reader)]) -> Response:
        web.access.log_out(web.session_id(request) or "")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=web.secure_cookies(request))
        return response

    @router.post("/language")
    def language(
        request: Request,
        user: Annotated[User, Depends(web.form_reader)],
        language: Annotated[str, Form(max_length=16)] = "",
        next: Annotated[str, Form(max_length=2000)] = "/sites",  # noqa: A002
    ) -> Response:
        if language not in LANGUAGES:
            raise Denied(400, _("Unknown language."))
        set_language(web.store, user.email, language)
        return RedirectResponse(safe_next(next), status_code=303)

    return router
