"""Admin forms for people: invitations, password reset links, per-site access, two-factor for everyone."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from dashboard.web.context import Web
from dashboard.web.i18n import _, current
from dashboard.web.invite_email import send_link_mail
from dashboard.web.render import html
from storage.invitations import close_invitation, create_invitation, list_invitations
from storage.user_languages import language_of
from storage.users import ALL_SITES, ROLES, User, get_user, list_users, update_user

MAX_SITES_PER_USER = 1_000


def site_access_of(web: Web, everything: str, sites: list[str]) -> str:
    """The site_access value of a form: "*" or the chosen registered domains."""
    if everything == "1":
        return ALL_SITES
    known = web.sites()
    return ",".join(sorted({site for site in sites[:MAX_SITES_PER_USER] if site in known}))


def users_page(
    web: Web,
    request: Request,
    user: User,
    error: str = "",
    status: int = 200,
    link: str = "",
    link_for: str = "",
    mail_state: str = "",
) -> Response:
    """/admin/users: users, their sites, open invitations, and the switch for two-factor login."""
    return html(
        web.env,
        "admin_users.html",
        status,
        **web.page_context(request, user),
        users=list_users(web.store),
        roles=ROLES,
        error=error,
        invitations=list_invitations(web.store),
        site_names=sorted(web.sites()),
        two_factor_required=web.two_factor_required(),
        link=link,
        link_for=link_for,
        mail_state=mail_state,
    )


def build_people_router(web: Web) -> APIRouter:
    """Routes under /admin/invitations and /admin/users/..., for admins only."""
    router = APIRouter(include_in_schema=False)
    FormAdmin = Annotated[User, Depends(web.form_admin)]

    @router.post("/admin/invitations")
    def invite(
        request: Request,
        user: FormAdmin,
        email: Annotated[str, Form(max_length=320)] = "",
        role: Annotated[str, Form(max_length=20)] = "viewer",
        all_sites: Annotated[str, Form(max_length=1)] = "",
        sites: Annotated[list[str] | None, Form(max_length=300)] = None,
    ) -> Response:
        access = site_access_of(web, all_sites if role == "viewer" else "1", sites or [])
        try:
            token = create_invitation(web.store, email, role, user.email, access)
        except ValueError as error:
            return users_page(web, request, user, str(error), 400)
        # Shown once (only its hash is stored), and e-mailed in the admin's language where SMTP is configured.
        link = f"{web.base_url(request)}/invite/{token}"
        invitee = email.strip().lower()
        sent = send_link_mail(web.send_mail, web.mail_env, link, invitee, user.email, role, False, current())
        return users_page(web, request, user, link=link, link_for=invitee, mail_state=sent)

    @router.post("/admin/invitations/withdraw")
    def withdraw(request: Request, user: FormAdmin, token_hash: Annotated[str, Form(max_length=64)] = "") -> Response:
        for invitation in list_invitations(web.store):
            if invitation.token_hash == token_hash:
                close_invitation(web.store, invitation)
        return RedirectResponse("/admin/users", status_code=303)

    @router.post("/admin/users/reset")
    def reset(request: Request, user: FormAdmin, email: Annotated[str, Form(max_length=320)] = "") -> Response:
        account = get_user(web.store, email)
        if account is None:
            return users_page(web, request, user, _("There is no user %(value)s", value=email), 400)
        token = create_invitation(web.store, account.email, account.role, user.email, account.site_access, reset=True)
        link = f"{web.base_url(request)}/invite/{token}"
        # In the language the user chose, else the admin's.
        language = language_of(web.store, account.email) or current()
        sent = send_link_mail(
            web.send_mail, web.mail_env, link, account.email, user.email, account.role, True, language
        )
        return users_page(web, request, user, link=link, link_for=account.email, mail_state=sent)

    @router.post("/admin/users/sites")
    def set_sites(
        request: Request,
        user: FormAdmin,
        email: Annotated[str, Form(max_length=320)] = "",
        all_sites: Annotated[str, Form(max_length=1)] = "",
        sites: Annotated[list[str] | None, Form(max_length=300)] = None,
    ) -> Response:
        account = get_user(web.store, email)
        if account is None:
            return users_page(web, request, user, _("There is no user %(value)s", value=email), 400)
        access = site_access_of(web, all_sites, sites or [])
        if access != account.site_access:
            update_user(web.store, account, site_access=access)
        return RedirectResponse("/admin/users", status_code=303)

    @router.post("/admin/users/two-factor")
    def require_two_factor(
        request: Request, user: FormAdmin, required: Annotated[str, Form(max_length=1)] = ""
    ) -> Response:
        web.set_two_factor_required(required == "1")
        return RedirectResponse("/admin/users", status_code=303)

    return router
