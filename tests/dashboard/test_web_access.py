"""Access to the dashboard: logins, roles, CSRF, share links, throttling, cookies and security headers."""

import re

import pytest
from harness import Harness
from web_login import ORIGIN, PASSWORD, csrf_of, form_token, login, post_form, user_client

from dashboard.web.access import COOKIE_NAME
from storage.users import add_user

SITE = "access.test"
# Routes anyone may call: the tracker's endpoints, the snippet, the health check, static assets, login.
# Setup, invitations and the second login step take their own tokens (tests/dashboard/test_onboarding.py,
# test_accounts.py).
PUBLIC = {"/api/event", "/api/events", "/js/script.js", "/healthz", "/readyz", "/static/{name}", "/login", "/"}
PUBLIC |= {"/setup", "/invite/{token}", "/login/code"}
# Other trackers' ingest paths, and the unsubscribe link a report e-mail carries (signed, no login).
PUBLIC |= {"/api/send", "/matomo.php", "/piwik.php", "/reports/unsubscribe"}

# GETs a script or a download makes answer 401 instead of redirecting to the login page.
JSON_OR_FILES = (".csv", ".zip", "/realtime", "/suggestions")


def _flat(routes: list) -> list:
    """Routes with included routers opened up (newer FastAPI keeps them as one entry each)."""
    flat = []
    for route in routes:
        included = getattr(route, "original_router", None)
        flat += _flat(included.routes) if included is not None else [route]
    return flat


def _routes(harness: Harness) -> list[tuple[str, str]]:
    """(method, concrete path) of every route of the app."""
    found = []
    for route in _flat(harness.app.routes):
        path = getattr(route, "path", "")
        if path in PUBLIC or path.startswith(("/openapi", "/docs", "/redoc", "/metrics")):
            continue
        concrete = path.replace("{domain}", SITE).replace("{token}", "nope").replace("{name}", "pages")
        for method in sorted(getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}):
            found.append((method, concrete))
    return found


def test_every_route_needs_a_login_or_key(harness: Harness) -> None:
    harness.add_site(SITE)
    add_user(harness.store, "someone@example.com", PASSWORD, "admin")  # else every page leads to /setup
    client = harness.client()
    routes = _routes(harness)
    assert ("GET", f"/sites/{SITE}") in routes and ("POST", "/admin/users") in routes
    for method, path in routes:
        response = client.request(method, path, follow_redirects=False)
        if path.startswith("/share/"):
            assert response.status_code == 404, (method, path)
        elif method == "GET" and not path.startswith("/api/") and not path.endswith(JSON_OR_FILES):
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/login?next="), path
        else:
            assert response.status_code in (401, 403), (method, path, response.status_code)
        assert "set-cookie" not in response.headers


def test_login_sets_a_strict_session_cookie_and_logout_ends_it(harness: Harness) -> None:
    harness.add_site(SITE)
    add_user(harness.store, "editor@example.com", PASSWORD, "viewer")
    client = harness.client()
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": "Editor@Example.com", "password": PASSWORD, "token": form_token(page.text, "token")},
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/sites"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; see test_secure_cookie_behind_https
    assert client.get(f"/sites/{SITE}").status_code == 200
    session = client.cookies[COOKIE_NAME]
    # Only a hash of the session id is stored.
    stored = harness.store.query("SELECT count() FROM dashboard_sessions WHERE id_hash = %(s)s", {"s": session})
    assert stored == [(0,)]
    assert post_form(client, "/logout", {}).status_code == 303
    client.cookies.set(COOKIE_NAME, session)
    assert client.get(f"/sites/{SITE}", follow_redirects=False).status_code == 303


def test_wrong_password_and_unknown_user_look_alike(harness: Harness) -> None:
    add_user(harness.store, "editor@example.com", PASSWORD, "viewer")
    client = harness.client()
    answers = []
    for email, password in (("editor@example.com", "wrong password!"), ("nobody@example.com", PASSWORD)):
        token = form_token(client.get("/login").text, "token")
        response = client.post(
            "/login", data={"email": email, "password": password, "token": token}, headers={"Origin": ORIGIN}
        )
        answers.append((response.status_code, "Wrong e-mail address or password" in response.text))
    assert answers == [(401, True), (401, True)]
    assert COOKIE_NAME not in client.cookies


def test_secure_cookie_behind_https(store, tmp_path) -> None:  # noqa: ANN001
    harness = Harness(store, tmp_path, public_url="https://stats.example.com")
    harness.start()
    try:
        add_user(harness.store, "editor@example.com", PASSWORD, "viewer")
        client = harness.client()
        token = form_token(client.get("/login").text, "token")
        response = client.post(
            "/login",
            data={"email": "editor@example.com", "password": PASSWORD, "token": token},
            headers={"Origin": "https://stats.example.com"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"]
        assert response.headers["strict-transport-security"].startswith("max-age=")
    finally:
        harness.stop()


def test_login_is_throttled_per_account_and_per_network(harness: Harness) -> None:
    add_user(harness.store, "editor@example.com", PASSWORD, "viewer")
    client = harness.client("195.159.103.82")

    def attempt(client, email: str, password: str) -> int:  # noqa: ANN001
        token = form_token(client.get("/login").text, "token")
        data = {"email": email, "password": password, "token": token}
        return client.post("/login", data=data, headers={"Origin": ORIGIN}, follow_redirects=False).status_code

    assert [attempt(client, "editor@example.com", "wrong password!") for _ in range(5)] == [401] * 5
    # That network has used up its guesses for the account, even with the right password; the owner
    # elsewhere is not locked out (tests/dashboard/test_login_security.py has the rest of the policy).
    assert attempt(client, "editor@example.com", PASSWORD) == 429
    assert attempt(harness.client("8.8.8.8"), "editor@example.com", PASSWORD) == 303
    # One network trying many accounts is stopped too (addresses in the same /24 share a budget).
    neighbour = harness.client("85.214.132.10")
    codes = [attempt(neighbour, f"guess{i}@example.com", "wrong password!") for i in range(20)]
    assert codes == [401] * 20
    assert attempt(harness.client("85.214.132.99"), "other@example.com", "wrong password!") == 429
    # The throttle table holds neither addresses nor e-mail addresses.
    keys = " ".join(row[0] for row in harness.store.query("SELECT key FROM login_attempts"))
    assert "85.214" not in keys and "example.com" not in keys


def test_a_viewer_cannot_reach_admin_actions(harness: Harness) -> None:
    harness.add_site(SITE)
    viewer = user_client(harness, "viewer@example.com", "viewer")
    token = csrf_of(viewer)
    for path in ("/admin/sites", "/admin/users", "/admin/api-keys", f"/sites/{SITE}/share"):
        assert viewer.get(path).status_code == 403, path
    posts = {
        "/admin/sites": {"domain": "evil.test", "timezone": "UTC"},
        "/admin/sites/remove": {"domain": SITE},
        "/admin/users": {"email": "new@example.com", "role": "admin", "password": PASSWORD},
        "/admin/users/role": {"email": "viewer@example.com", "role": "admin"},
        "/admin/users/remove": {"email": "viewer@example.com"},
        "/admin/api-keys": {"name": "mine"},
        "/admin/api-keys/revoke": {"prefix": "a"},
        f"/sites/{SITE}/share": {"label": "x"},
        f"/sites/{SITE}/share/revoke": {"token_hash": "x"},
    }
    for path, data in posts.items():
        assert post_form(viewer, path, data, token).status_code == 403, path
    assert SITE in harness.teller.state.sites and "evil.test" not in harness.teller.state.sites
    assert harness.store.query("SELECT count() FROM users")[0][0] == 1
    # The viewer still reads dashboards and the nav shows no admin links.
    page = viewer.get(f"/sites/{SITE}")
    assert page.status_code == 200 and "/admin/users" not in page.text


def test_forms_without_csrf_token_or_from_elsewhere_are_refused(harness: Harness) -> None:
    harness.add_site(SITE)
    admin = user_client(harness, "admin@example.com", "admin")
    data = {"domain": "new.test", "timezone": "UTC"}
    assert admin.post("/admin/sites", data=data, headers={"Origin": ORIGIN}).status_code == 403
    assert admin.post("/admin/sites", data={**data, "csrf": "forged"}, headers={"Origin": ORIGIN}).status_code == 403
    token = csrf_of(admin)
    other = {"Origin": "https://evil.example"}
    assert admin.post("/admin/sites", data={**data, "csrf": token}, headers=other).status_code == 403
    cross_site = {"Origin": ORIGIN, "Sec-Fetch-Site": "cross-site"}
    assert admin.post("/admin/sites", data={**data, "csrf": token}, headers=cross_site).status_code == 403
    assert "new.test" not in harness.teller.state.sites
    assert post_form(admin, "/admin/sites", data, token).status_code == 303
    assert "new.test" in harness.teller.state.sites
    # The login form refuses posts from other origins too.
    login_token = form_token(harness.client().get("/login").text, "token")
    response = harness.client().post(
        "/login", data={"email": "admin@example.com", "password": PASSWORD, "token": login_token}, headers=other
    )
    assert response.status_code == 403


def test_admin_manages_sites_users_and_keys(harness: Harness) -> None:
    admin = user_client(harness, "admin@example.com", "admin")
    token = csrf_of(admin)
    new_site = {"domain": "www.New.test", "timezone": "Europe/Oslo"}
    assert post_form(admin, "/admin/sites", new_site, token).status_code == 303
    assert harness.teller.state.sites["new.test"].timezone == "Europe/Oslo"
    assert post_form(admin, "/admin/sites", {"domain": "bad domain", "timezone": "UTC"}, token).status_code == 400
    weak = {"email": "v@example.com", "role": "viewer", "password": "short"}
    response = post_form(admin, "/admin/users", weak, token)
    assert response.status_code == 400 and "at least 10" in response.text
    new_user = {"email": "v@example.com", "role": "viewer", "password": PASSWORD}
    assert post_form(admin, "/admin/users", new_user, token).status_code == 303
    viewer = harness.client("8.8.8.8")
    login(viewer, "v@example.com")
    assert viewer.get("/sites").status_code == 200
    # A removed user's session ends at once in the process that removed them.
    assert post_form(admin, "/admin/users/remove", {"email": "v@example.com"}, token).status_code == 303
    assert viewer.get("/sites", follow_redirects=False).status_code == 303
    assert post_form(admin, "/admin/users/remove", {"email": "admin@example.com"}, token).status_code == 400
    created = post_form(admin, "/admin/api-keys", {"name": "reports"}, token)
    key = re.search(r"(tlr_[A-Za-z0-9_-]+)", created.text).group(1)
    query = {"site_id": "new.test", "metrics": ["visitors"], "date_range": "day"}
    assert harness.query(query, key).status_code == 200
    prefix = re.search(r"<code>([0-9a-f]{12})</code>", admin.get("/admin/api-keys").text).group(1)
    assert post_form(admin, "/admin/api-keys/revoke", {"prefix": prefix}, token).status_code == 303
    assert harness.query(query, key).status_code == 401


def test_share_link_is_read_only_and_revocable(harness: Harness) -> None:
    harness.add_site(SITE)
    harness.add_site("other.test")
    admin = user_client(harness, "admin@example.com", "admin")
    token = csrf_of(admin)
    created = post_form(admin, f"/sites/{SITE}/share", {"label": "board"}, token)
    link = re.search(r"http://testserver(/share/[A-Za-z0-9_-]+)", created.text).group(1)
    stranger = harness.client("8.8.8.8")
    page = stranger.get(link)
    assert page.status_code == 200 and SITE in page.text and "set-cookie" not in page.headers
    assert "read-only" in page.text and "/admin/" not in page.text and 'action="/logout"' not in page.text
    assert stranger.get(f"{link}/export/pages.csv").status_code == 200
    assert stranger.get(f"{link}/realtime").json() == {"visitors": 0}
    # The link opens nothing else: no other site, no admin page, no POST.
    assert stranger.get("/sites/other.test", follow_redirects=False).status_code == 303
    assert stranger.get("/admin/users", follow_redirects=False).status_code == 303
    assert stranger.post(link, headers={"Origin": ORIGIN}).status_code == 405
    # Only a hash of the token is stored.
    raw = link.rsplit("/", 1)[1]
    assert harness.store.query("SELECT count() FROM share_links WHERE token_hash = %(t)s", {"t": raw}) == [(0,)]
    share_page = admin.get(f"/sites/{SITE}/share").text
    token_hash = re.search(r'name="token_hash" value="([0-9a-f]{64})"', share_page).group(1)
    assert post_form(admin, f"/sites/{SITE}/share/revoke", {"token_hash": token_hash}, token).status_code == 303
    assert stranger.get(link).status_code == 404
    assert stranger.get(f"{link}/export.zip").status_code == 404


@pytest.mark.parametrize("path", ["/login", f"/sites/{SITE}", "/admin/users"])
def test_security_headers(harness: Harness, path: str) -> None:
    harness.add_site(SITE)
    client = user_client(harness, "admin@example.com", "admin")
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"
    # No inline script or style for the policy to refuse.
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)
    assert "<style" not in response.text and " style=" not in response.text and "javascript:" not in response.text


def test_ingest_and_snippet_keep_their_headers_and_set_no_cookie(harness: Harness) -> None:
    harness.add_site(SITE)
    client = harness.client()
    event = harness.pageview(SITE, "/")
    snippet = client.get("/js/script.js")
    for response in (event, snippet):
        assert "set-cookie" not in response.headers
        assert "content-security-policy" not in response.headers
    assert snippet.headers["cross-origin-resource-policy"] == "cross-origin"
    assert event.headers["access-control-allow-origin"] == "*"
