"""What every dashboard route needs: the store, sites, access checks and templates; guards as dependencies."""

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Form, Request
from jinja2 import Environment

from dashboard.email_report import report_environment
from dashboard.web.access import COOKIE_NAME, Access
from dashboard.web.config import DashboardSettings, SendMail
from dashboard.web.i18n import LANGUAGES, _, current
from dashboard.web.render import StaticFiles
from dashboard.web.security import is_https, same_origin
from dashboard.web.throttle import LoginThrottle
from storage.dashboard_options import REQUIRE_TWO_FACTOR, get_option, set_option
from storage.setup_tokens import setup_open
from storage.sites import Site
from storage.store import Store
from storage.users import User


class Denied(Exception):
    """The request may not go on: 401 (no login), 403 (not allowed) or 404 (no such thing)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Redirect(Exception):
    """The request goes elsewhere first (the first run's setup, or enrolling in two-factor login)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


# Pages a user who must first turn on two-factor login may still open.
TWO_FACTOR_ENROL_PATHS = ("/account", "/logout")
# How long this process trusts its last answer to "is the first run still open?" and "is 2FA required?".
OPTION_SECONDS = 2.0


@dataclass
class Web:
    """Shared by the dashboard routes of one process."""

    store: Store
    settings: DashboardSettings
    access: Access
    throttle: LoginThrottle
    env: Environment
    static: StaticFiles
    sites: Callable[[], Mapping[str, Site]]
    refresh_sites: Callable[[], None]
    clock: Callable[[], float] = time.time
    # Delivers invitation and reset links; None without SMTP. mail_env renders those e-mails.
    send_mail: SendMail | None = None
    mail_env: Environment = field(default_factory=report_environment)
    # (monotonic time, answer) of the last look-ups; setup, once closed, stays closed.
    _setup: tuple[float, bool] = (-1e9, True)
    _two_factor: tuple[float, bool] = (-1e9, False)

    def setup_needed(self) -> bool:
        """True while no user exists and the first run's setup has not finished."""
        checked, answer = self._setup
        if answer and time.monotonic() - checked > OPTION_SECONDS:
            answer = setup_open(self.store)
            self._setup = (time.monotonic(), answer)
        return answer

    def forget_setup(self) -> None:
        """The first admin exists: setup is closed in this process at once."""
        self._setup = (time.monotonic(), False)

    def two_factor_required(self) -> bool:
        """True when an admin requires two-factor login for every user."""
        checked, answer = self._two_factor
        if time.monotonic() - checked > OPTION_SECONDS:
            answer = get_option(self.store, REQUIRE_TWO_FACTOR) == "1"
            self._two_factor = (time.monotonic(), answer)
        return answer

    def set_two_factor_required(self, required: bool) -> None:
        """Store the switch and use it in this process at once."""
        set_option(self.store, REQUIRE_TWO_FACTOR, "1" if required else "0")
        self._two_factor = (time.monotonic(), required)

    def session_id(self, request: Request) -> str | None:
        """The session cookie's value."""
        return request.cookies.get(COOKIE_NAME)

    def user(self, request: Request) -> User | None:
        """The logged-in user, or None."""
        return self.access.user_of(self.session_id(request))

    def reader(self, request: Request) -> User:
        """Dependency: any logged-in user."""
        user = self.user(request)
        if user is None:
            if self.setup_needed():
                raise Redirect("/setup")
            raise Denied(401, _("Log in first."))
        if (
            not user.has_two_factor
            and not request.url.path.startswith(TWO_FACTOR_ENROL_PATHS)
            and self.two_factor_required()
        ):
            raise Redirect("/account?required=1")
        return user

    def admin(self, request: Request) -> User:
        """Dependency: a logged-in admin."""
        user = self.reader(request)
        if not user.is_admin:
            raise Denied(403, _("Only admins may do this."))
        return user

    def check_form(self, request: Request, csrf: str) -> None:
        """Refuse a form post from another origin or without the session's token."""
        session_id = self.session_id(request) or ""
        if not same_origin(request.headers, self.settings.public_url, request.url.scheme):
            raise Denied(403, _("The form was not sent from this site."))
        if not self.access.csrf_valid(session_id, csrf):
            raise Denied(403, _("The form has expired; reload the page and try again."))

    def form_reader(self, request: Request, csrf: Annotated[str, Form()] = "") -> User:
        """Dependency of form posts: a logged-in user, a same-origin request and a valid CSRF token."""
        user = self.reader(request)
        self.check_form(request, csrf)
        return user

    def form_admin(self, request: Request, csrf: Annotated[str, Form()] = "") -> User:
        """Dependency of admin form posts."""
        user = self.admin(request)
        self.check_form(request, csrf)
        return user

    def site(self, domain: str) -> Site:
        """A registered site, or 404."""
        site = self.sites().get(domain)
        if site is None:
            raise Denied(404, _("There is no site %(domain)s.", domain=domain))
        return site

    def user_site(self, user: User, domain: str) -> Site:
        """A registered site the user may see, or 404 (a site they were not given looks like no site)."""
        site = self.sites().get(domain)
        if site is None or not user.may_see(site.domain):
            raise Denied(404, _("There is no site %(domain)s.", domain=domain))
        return site

    def visible_sites(self, user: User) -> list[Site]:
        """The sites a user may see, by domain."""
        return sorted((s for s in self.sites().values() if user.may_see(s.domain)), key=lambda s: s.domain)

    def shared_site(self, token: str) -> Site:
        """The site a live share link opens, or 404 (a revoked link looks like one that never existed)."""
        domain = self.access.site_of_share(token)
        site = self.sites().get(domain) if domain else None
        if site is None:
            raise Denied(404, _("This link does not exist or was revoked."))
        return site

    def today(self, site: Site) -> dt.date:
        """The site's local date now."""
        return dt.datetime.fromtimestamp(self.clock(), ZoneInfo(site.timezone)).date()

    def base_url(self, request: Request) -> str:
        """Where Teller is reached: TELLER_PUBLIC_URL, else the request's own scheme and host."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"

    def secure_cookies(self, request: Request) -> bool:
        """True when the session cookie must be Secure."""
        return is_https(request.scope, self.settings.public_url)

    def page_context(self, request: Request, user: User | None) -> dict:
        """Template variables every page uses."""
        session_id = self.session_id(request)
        return {
            "user": user,
            "csrf": self.access.csrf_token(session_id) if user and session_id else "",
            "path": request.url.path,
            "here": local_url(request),
            "language_links": [(code, name, language_url(request, code)) for code, name in LANGUAGES.items()],
            "lang": current(),
        }


def local_url(request: Request) -> str:
    """This request's path and query, for coming back to it."""
    return request.url.path + ("?" + request.url.query if request.url.query else "")


def language_url(request: Request, language: str) -> str:
    """This page in another language, for readers without a saved choice (the choice lives in the URL)."""
    params = [(key, value) for key, value in request.query_params.multi_items() if key != "lang"]
    return request.url.path + "?" + urlencode([*params, ("lang", language)])


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else becomes /sites."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/sites"
    parts = urlsplit(target)
    return parts.path + ("?" + parts.query if parts.query else "") if not parts.netloc else "/sites"


def login_url(request: Request) -> str:
    """The login page, coming back to this request's page afterwards."""
    return "/login?next=" + quote(local_url(request), safe="")
