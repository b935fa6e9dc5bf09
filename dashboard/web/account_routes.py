"""Each user's own account: password, two-factor login with recovery codes, and accepting an invitation."""

from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup

from dashboard.web.auth_routes import set_session_cookie
from dashboard.web.context import Denied, Web
from dashboard.web.i18n import _
from dashboard.web.render import html
from dashboard.web.security import same_origin
from storage.invitations import close_invitation, find_invitation
from storage.store import StoreError
from storage.two_factor import (
    disable_two_factor,
    enable_two_factor,
    new_recovery_codes,
    new_secret,
    provisioning_uri,
    spend_code,
)
from storage.users import User, add_user, check_password, get_user, password_matches, set_password


def qr_svg(text: str) -> Markup:
    """An inline SVG QR code of text, drawn here (no image service sees the secret)."""
    return Markup(segno.make(text, error="m").svg_inline(scale=4, border=2, dark="#111", light="#fff"))


def build_account_router(web: Web) -> APIRouter:
    """/account and its forms for every logged-in user; /invite/<token> for whoever holds the link."""
    router = APIRouter(include_in_schema=False)
    Reader = Annotated[User, Depends(web.reader)]
    FormReader = Annotated[User, Depends(web.form_reader)]

    def page(request: Request, user: User, status: int = 200, session_id: str = "", **context: object) -> Response:
        context.setdefault("required", web.two_factor_required() and not user.has_two_factor)
        common = web.page_context(request, user)
        if session_id:  # the page's forms belong to the session that replaced the request's
            common["csrf"] = web.access.csrf_token(session_id)
        return html(web.env, "account.html", status, **common, **context)

    def new_session(request: Request, user: User) -> str:
        """Move this browser to a session of the user's new version (every other session has ended); its id."""
        old = web.session_id(request)
        if old:
            web.access.log_out(old)
        fresh = get_user(web.store, user.email)
        return web.access.log_in(fresh) if fresh is not None else ""

    def renewed(request: Request, user: User, response: Response) -> Response:
        """The response, with the cookie of a new session for the user's new version."""
        session_id = new_session(request, user)
        if session_id:
            set_session_cookie(web, request, response, session_id)
        return response

    @router.get("/account")
    def account(request: Request, user: Reader) -> Response:
        return page(request, user)

    @router.post("/account/password")
    def change_password(
        request: Request,
        user: FormReader,
        current: Annotated[str, Form(max_length=1024)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        repeat: Annotated[str, Form(max_length=1024)] = "",
    ) -> Response:
        if not password_matches(user, current):
            return page(request, user, 400, password_error=_("The current password is not right."))
        if password != repeat:
            return page(request, user, 400, password_error=_("The two new passwords differ."))
        try:
            set_password(web.store, user.email, password)
        except ValueError as error:
            return page(request, user, 400, password_error=str(error).capitalize() + ".")
        return renewed(request, user, RedirectResponse("/account?changed=password", status_code=303))

    @router.post("/account/two-factor/start")
    def start_two_factor(request: Request, user: FormReader) -> Response:
        secret = new_secret()
        return page(request, user, secret=secret, qr=qr_svg(provisioning_uri(secret, user.email)))

    @router.post("/account/two-factor/confirm")
    def confirm_two_factor(
        request: Request,
        user: FormReader,
        secret: Annotated[str, Form(max_length=64)] = "",
        code: Annotated[str, Form(max_length=20)] = "",
    ) -> Response:
        # The confirming code is spent too: it cannot then log in as well.
        if not spend_code(web.store, user.email, secret, code):
            qr = qr_svg(provisioning_uri(secret, user.email)) if secret else ""
            return page(
                request,
                user,
                400,
                secret=secret,
                qr=qr,
                two_factor_error=_("That code is not right; try the next one."),
            )
        codes = new_recovery_codes()
        enable_two_factor(web.store, user, secret, codes)
        session_id = new_session(request, user)
        fresh = get_user(web.store, user.email) or user
        response = page(request, fresh, session_id=session_id, recovery_codes=codes, required=False)
        if session_id:
            set_session_cookie(web, request, response, session_id)
        return response

    @router.post("/account/two-factor/disable")
    def turn_off_two_factor(
        request: Request, user: FormReader, current: Annotated[str, Form(max_length=1024)] = ""
    ) -> Response:
        if web.two_factor_required():
            return page(request, user, 400, two_factor_error=_("An admin requires two-factor login for everyone."))
        if not password_matches(user, current):
            return page(request, user, 400, two_factor_error=_("The password is not right."))
        disable_two_factor(web.store, user)
        return renewed(request, user, RedirectResponse("/account?changed=two-factor", status_code=303))

    def invite_page(request: Request, token: str, error: str = "", status: int = 200) -> Response:
        invitation = find_invitation(web.store, token)
        if invitation is None:
            raise Denied(404, _("this invitation does not exist, was used, or has expired"))
        existing = get_user(web.store, invitation.email) is not None
        return html(
            web.env,
            "invite.html",
            status,
            **web.page_context(request, None),
            invitation=invitation,
            existing=existing,
            form_token=web.access.login_token(),
            error=error,
        )

    @router.get("/invite/{token}")
    def invite(request: Request, token: str) -> Response:
        return invite_page(request, token)

    @router.post("/invite/{token}")
    def accept(
        request: Request,
        token: str,
        password: Annotated[str, Form(max_length=1024)] = "",
        repeat: Annotated[str, Form(max_length=1024)] = "",
        form_token: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        if not same_origin(request.headers, web.settings.public_url, request.url.scheme) or not (
            web.access.login_token_valid(form_token)
        ):
            return invite_page(request, token, _("The form has expired; please try again."), 403)
        invitation = find_invitation(web.store, token)
        if invitation is None:
            raise Denied(404, _("this invitation does not exist, was used, or has expired"))
        if password != repeat:
            return invite_page(request, token, _("The two passwords differ."), 400)
        try:
            check_password(password)
            if get_user(web.store, invitation.email) is None:
                add_user(web.store, invitation.email, password, invitation.role, invitation.site_access)
            else:
                set_password(web.store, invitation.email, password)  # a reset link: ends the old sessions
            close_invitation(web.store, invitation)
        except ValueError as error:
            return invite_page(request, token, str(error).capitalize() + ".", 400)
        except StoreError:
            return invite_page(request, token, _("The database is not reachable; try again shortly."), 503)
        user = get_user(web.store, invitation.email)
        response = RedirectResponse("/sites", status_code=303)
        if user is not None:
            set_session_cookie(web, request, response, web.access.log_in(user))
        return response

    return router
