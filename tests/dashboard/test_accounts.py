"""Accounts on both engines: invitations, password change and reset, TOTP with recovery codes, per-site access."""

import re

import pyotp
from harness import Harness
from web_login import ORIGIN, PASSWORD, csrf_of, form_token, login, post_form, user_client

from storage.users import get_user, update_user

SITES = ("a.test", "b.test")
NEW_PASSWORD = "a completely new passphrase"


def _link(page: str) -> str:
    """The one-time link shown on the users page."""
    return re.search(r'id="invite-link">http://testserver(/invite/[^<]+)<', page).group(1)


def _accept(client, path: str, password: str = NEW_PASSWORD):
    page = client.get(path)
    assert page.status_code == 200, page.text
    data = {"password": password, "repeat": password, "form_token": form_token(page.text, "form_token")}
    return client.post(path, data=data, headers={"Origin": ORIGIN}, follow_redirects=False)


def test_an_invited_viewer_sets_a_password_and_sees_only_the_given_site(harness: Harness) -> None:
    for site in SITES:
        harness.add_site(site)
    admin = user_client(harness, "admin@example.com")
    shown = post_form(admin, "/admin/invitations", {"email": "Guest@Example.com", "role": "viewer", "sites": "a.test"})
    assert shown.status_code == 200
    link = _link(shown.text)
    assert link.split("/")[-1] not in str(harness.store.query("SELECT * FROM invitations"))  # only a hash
    guest = harness.client("198.51.100.20")
    accepted = _accept(guest, link)
    assert accepted.status_code == 303 and accepted.headers["location"] == "/sites"
    user = get_user(harness.store, "guest@example.com")
    assert user is not None and user.role == "viewer" and user.site_access == "a.test"
    assert guest.get(link).status_code == 404  # one time only
    listing = guest.get("/sites").text
    assert "a.test" in listing and "b.test" not in listing
    allowed = ["/sites/a.test", "/sites/a.test/realtime", "/sites/a.test/export/pages.csv", "/sites/a.test/export.zip"]
    for path in allowed + ["/sites/a.test/snippet", "/sites/a.test/privacy", "/sites/a.test/verify"]:
        assert guest.get(path).status_code == 200, path
        assert guest.get(path.replace("a.test", "b.test")).status_code == 404, path
    assert guest.get("/sites/b.test/verify/status").status_code == 404
    # The admin widens the access; the viewer's session ends with the change and a new login sees both.
    assert post_form(admin, "/admin/users/sites", {"email": "guest@example.com", "all_sites": "1"}).status_code == 303
    assert guest.get("/sites", follow_redirects=False).status_code == 303
    login(guest, "guest@example.com", NEW_PASSWORD)
    assert guest.get("/sites/b.test").status_code == 200


def test_a_password_change_keeps_this_session_and_ends_the_others(harness: Harness) -> None:
    harness.add_site("a.test")
    here = user_client(harness, "me@example.com", "viewer")
    there = harness.client("198.51.100.30")
    login(there, "me@example.com")
    wrong = post_form(
        here, "/account/password", {"current": "not it at all", "password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    )
    assert wrong.status_code == 400
    changed = post_form(
        here, "/account/password", {"current": PASSWORD, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    )
    assert changed.status_code == 303
    assert here.get("/sites").status_code == 200
    assert there.get("/sites", follow_redirects=False).status_code == 303
    login(there, "me@example.com", NEW_PASSWORD)


def test_an_admin_reset_link_sets_a_new_password(harness: Harness) -> None:
    admin = user_client(harness, "admin@example.com")
    user_client(harness, "forgot@example.com", "viewer")
    shown = post_form(admin, "/admin/users/reset", {"email": "forgot@example.com"})
    link = _link(shown.text)
    assert _accept(harness.client("198.51.100.40"), link).status_code == 303
    login(harness.client("198.51.100.41"), "forgot@example.com", NEW_PASSWORD)
    assert get_user(harness.store, "forgot@example.com").role == "viewer"


def _enable_totp(client) -> tuple[str, list[str]]:
    """Turn on two-factor login through the account page; the secret and the recovery codes."""
    started = post_form(client, "/account/two-factor/start", {}, csrf=csrf_of(client, "/account"))
    assert "<svg" in started.text  # the QR code, drawn here
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', started.text).group(1)
    csrf = form_token(started.text)
    assert (
        post_form(client, "/account/two-factor/confirm", {"secret": secret, "code": "000000"}, csrf).status_code == 400
    )
    confirmed = post_form(
        client, "/account/two-factor/confirm", {"secret": secret, "code": pyotp.TOTP(secret).now()}, csrf
    )
    assert confirmed.status_code == 200
    codes = re.findall(r"\b[0-9a-f]{5}-[0-9a-f]{5}\b", confirmed.text)
    assert len(codes) == 10
    return secret, codes


def _password_step(client, email: str):
    page = client.get("/login")
    data = {"email": email, "password": PASSWORD, "token": form_token(page.text, "token"), "next": "/sites"}
    return client.post("/login", data=data, headers={"Origin": ORIGIN}, follow_redirects=False)


def _code_step(client, pending: str, code: str):
    data = {"pending": pending, "code": code, "next": "/sites"}
    return client.post("/login/code", data=data, headers={"Origin": ORIGIN}, follow_redirects=False)


def test_totp_login_takes_a_code_or_a_recovery_code_once(harness: Harness) -> None:
    client = user_client(harness, "two@example.com", "viewer")
    other = harness.client("198.51.100.50")
    login(other, "two@example.com")
    secret, codes = _enable_totp(client)
    assert client.get("/account").status_code == 200  # this session goes on
    assert other.get("/sites", follow_redirects=False).status_code == 303  # the other one ended
    stored = get_user(harness.store, "two@example.com")
    assert all(code not in stored.recovery_hashes for code in codes)
    fresh = harness.client("198.51.100.51")
    step = _password_step(fresh, "two@example.com")
    assert step.status_code == 200 and "set-cookie" not in step.headers  # no session before the code
    pending = form_token(step.text, "pending")
    assert _code_step(fresh, pending, "123456").status_code == 401
    assert _code_step(fresh, pending, pyotp.TOTP(secret).now()).status_code == 303
    assert fresh.get("/sites").status_code == 200
    # A recovery code works once.
    lost = harness.client("198.51.100.52")
    pending = form_token(_password_step(lost, "two@example.com").text, "pending")
    assert _code_step(lost, pending, codes[0].upper()).status_code == 303
    again = harness.client("198.51.100.53")
    pending = form_token(_password_step(again, "two@example.com").text, "pending")
    assert _code_step(again, pending, codes[0]).status_code == 401


def test_an_admin_can_require_two_factor_login_for_everyone(harness: Harness) -> None:
    harness.add_site("a.test")
    admin = user_client(harness, "admin@example.com")
    viewer = user_client(harness, "viewer@example.com", "viewer")
    assert post_form(admin, "/admin/users/two-factor", {"required": "1"}).status_code == 303
    for client in (admin, viewer):
        moved = client.get("/sites/a.test", follow_redirects=False)
        assert moved.status_code == 303 and moved.headers["location"].startswith("/account")
    _enable_totp(viewer)
    assert viewer.get("/sites/a.test").status_code == 200


def test_a_removed_second_factor_secret_is_not_needed_to_log_in(harness: Harness) -> None:
    client = user_client(harness, "off@example.com", "viewer")
    _enable_totp(client)
    update_user(harness.store, get_user(harness.store, "off@example.com"), totp_secret="", recovery_hashes="")
    login(harness.client("198.51.100.60"), "off@example.com")
