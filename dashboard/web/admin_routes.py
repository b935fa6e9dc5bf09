"""Admin pages: sites, users, API keys and share links; every change is a CSRF-checked form post."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from dashboard.web.context import Web
from dashboard.web.form_errors import form_error
from dashboard.web.i18n import _
from dashboard.web.people_routes import users_page as people_page
from dashboard.web.render import html
from storage.api_keys import create_api_key, list_api_keys, live_key_hashes, revoke_api_key
from storage.share_links import create_share_link, list_share_links, parse_origins, revoke_share_link
from storage.sites import add_site, remove_site
from storage.users import User, add_user, remove_user, set_role


def build_admin_router(web: Web) -> APIRouter:
    """Routes under /admin and /sites/<domain>/share, for admins only."""
    router = APIRouter(include_in_schema=False)
    Admin = Annotated[User, Depends(web.admin)]
    FormAdmin = Annotated[User, Depends(web.form_admin)]

    def page(request: Request, user: User, template: str, status: int = 200, **context: object) -> Response:
        return html(web.env, template, status, **web.page_context(request, user), **context)

    def sites_page(request: Request, user: User, error: str = "", status: int = 200) -> Response:
        sites = sorted(web.sites().values(), key=lambda site: site.domain)
        return page(request, user, "admin_sites.html", status, sites=sites, error=error)

    @router.get("/admin/sites")
    def sites(request: Request, user: Admin) -> Response:
        return sites_page(request, user)

    @router.post("/admin/sites")
    def add(
        request: Request,
        user: FormAdmin,
        domain: Annotated[str, Form(max_length=300)] = "",
        timezone: Annotated[str, Form(max_length=100)] = "UTC",
    ) -> Response:
        try:
            add_site(web.store, domain, timezone or "UTC")
        except ValueError as error:
            return sites_page(request, user, form_error(error), 400)
        web.refresh_sites()
        return RedirectResponse("/admin/sites", status_code=303)

    @router.post("/admin/sites/remove")
    def remove(request: Request, user: FormAdmin, domain: Annotated[str, Form(max_length=300)] = "") -> Response:
        web.site(domain)
        remove_site(web.store, domain)
        web.refresh_sites()
        return RedirectResponse("/admin/sites", status_code=303)

    def users_page(request: Request, user: User, error: str = "", status: int = 200) -> Response:
        return people_page(web, request, user, error, status)

    @router.get("/admin/users")
    def users(request: Request, user: Admin) -> Response:
        return users_page(request, user)

    @router.post("/admin/users")
    def create_user(
        request: Request,
        user: FormAdmin,
        email: Annotated[str, Form(max_length=320)] = "",
        role: Annotated[str, Form(max_length=20)] = "viewer",
        password: Annotated[str, Form(max_length=1024)] = "",
    ) -> Response:
        try:
            add_user(web.store, email, password, role)
        except ValueError as error:
            return users_page(request, user, form_error(error), 400)
        return RedirectResponse("/admin/users", status_code=303)

    @router.post("/admin/users/role")
    def change_role(
        request: Request,
        user: FormAdmin,
        email: Annotated[str, Form(max_length=320)] = "",
        role: Annotated[str, Form(max_length=20)] = "",
    ) -> Response:
        if email == user.email and role != "admin":
            return users_page(request, user, _("You cannot take away your own admin role."), 400)
        try:
            set_role(web.store, email, role)
        except ValueError as error:
            return users_page(request, user, form_error(error), 400)
        return RedirectResponse("/admin/users", status_code=303)

    @router.post("/admin/users/remove")
    def delete_user(request: Request, user: FormAdmin, email: Annotated[str, Form(max_length=320)] = "") -> Response:
        if email == user.email:
            return users_page(request, user, _("You cannot remove yourself."), 400)
        try:
            remove_user(web.store, email)
        except ValueError as error:
            return users_page(request, user, form_error(error), 400)
        return RedirectResponse("/admin/users", status_code=303)

    def keys_page(request: Request, user: User, new_key: str = "", name: str = "") -> Response:
        return page(request, user, "admin_keys.html", keys=list_api_keys(web.store), new_key=new_key, name=name)

    @router.get("/admin/api-keys")
    def keys(request: Request, user: Admin) -> Response:
        return keys_page(request, user)

    @router.post("/admin/api-keys")
    def create_key(request: Request, user: FormAdmin, name: Annotated[str, Form(max_length=100)] = "") -> Response:
        key = create_api_key(web.store, name.strip() or "dashboard")
        return keys_page(request, user, key, name.strip() or "dashboard")

    @router.post("/admin/api-keys/revoke")
    def revoke_key(request: Request, user: FormAdmin, prefix: Annotated[str, Form(max_length=64)] = "") -> Response:
        matches = [h for h in live_key_hashes(web.store) if prefix and h.startswith(prefix)]
        if len(matches) == 1:
            revoke_api_key(web.store, matches[0])
        return RedirectResponse("/admin/api-keys", status_code=303)

    def share_page(
        request: Request, user: User, domain: str, new_link: str = "", error: str = "", status: int = 200, **extra: str
    ) -> Response:
        site = web.site(domain)
        links = list_share_links(web.store, site.domain)
        return page(
            request, user, "share_links.html", status, site=site, links=links, new_link=new_link, error=error, **extra
        )

    @router.get("/sites/{domain}/share")
    def share_links(request: Request, domain: str, user: Admin) -> Response:
        return share_page(request, user, domain)

    @router.post("/sites/{domain}/share")
    def create_link(
        request: Request,
        domain: str,
        user: FormAdmin,
        label: Annotated[str, Form(max_length=100)] = "",
        embed_origins: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        site = web.site(domain)
        try:
            origins = parse_origins(embed_origins)
        except ValueError:
            message = _("Embedding origins are written scheme://host[:port], such as https://www.example.com.")
            return share_page(request, user, domain, error=message, status=400)
        token = create_share_link(web.store, site.domain, label.strip(), user.email, origins)
        url = f"{web.base_url(request)}/share/{token}"
        embed = f'<iframe src="{url}" title="{site.domain}" width="100%" height="900" loading="lazy"></iframe>'
        return share_page(request, user, domain, url, new_embed=embed if origins else "")

    @router.post("/sites/{domain}/share/revoke")
    def revoke_link(
        request: Request, domain: str, user: FormAdmin, token_hash: Annotated[str, Form(max_length=64)] = ""
    ) -> Response:
        site = web.site(domain)
        if any(link.token_hash == token_hash for link in list_share_links(web.store, site.domain)):
            revoke_share_link(web.store, token_hash)
            web.access.forget_share(token_hash)
        return RedirectResponse(f"/sites/{site.domain}/share", status_code=303)

    return router
