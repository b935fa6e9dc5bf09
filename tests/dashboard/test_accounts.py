"""Accounts on both engines: invitations, password change and reset, TOTP with recovery codes, per-site access."""

import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pyotp
import pytest
from harness import Harness
from smtp_server import SmtpServer
from web_login import ORIGIN, PASSWORD, csrf_of, form_token, login, post_form, user_client

from storage.store import Store
from storage.user_languages import set_language
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


@pytest.fixture
def mailing(store: Store, tmp_path: Path) -> Iterator[tuple[Harness, SmtpServer]]:
    """A started app that sends through a real SMTP server (aiosmtpd, login required)."""
    with SmtpServer() as smtp:
        mailing_harness = Harness(store, tmp_path, **smtp.settings())
        mailing_harness.start()
        yield mailing_harness, smtp
        mailing_harness.stop()


def _texts(message: EmailMessage) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def test_invitation_and_reset_links_are_mailed_in_the_readers_language(mailing: tuple[Harness, SmtpServer]) -> None:
    harness, smtp = mailing
    admin = user_client(harness, "admin@example.com")
    shown = post_form(
        admin, "/admin/invitations?lang=nb", {"email": "Ny@Example.com", "role": "viewer", "all_sites": "1"}
    )
    assert shown.status_code == 200 and 'id="mail-state">En e-post med denne engangslenken' in shown.text
    recipients, invitation = smtp.inbox.messages[-1]
    assert recipients == ["ny@example.com"] and invitation["To"] == "ny@example.com"
    # No saved choice for the invitee yet: the admin's language of the moment.
    assert invitation["Subject"] == "admin@example.com inviterte deg til Teller"
    text, html = _texts(invitation)
    link = "http://testserver" + _link(shown.text)
    assert link in text and f'href="{link}"' in html
    assert "inviterte ny@example.com til Teller som leser" in text and '<html lang="nb">' in html
    assert _accept(harness.client("198.51.100.60"), _link(shown.text)).status_code == 303

    # A reset goes out in the language the user chose, whatever the admin reads.
    user_client(harness, "engelsk@example.com", "viewer")
    set_language(harness.store, "engelsk@example.com", "en")
    reset = post_form(admin, "/admin/users/reset?lang=nb", {"email": "engelsk@example.com"})
    assert "<h1>Brukere</h1>" in reset.text
    recipients, message = smtp.inbox.messages[-1]
    assert recipients == ["engelsk@example.com"] and message["Subject"] == "Choose a new password for Teller"
    text, html = _texts(message)
    assert "http://testserver" + _link(reset.text) in text and "new password for engelsk@example.com" in text
    assert "works once, for 7 days" in html and '<html lang="en">' in html
    assert len(smtp.inbox.messages) == 2


def test_a_refused_mail_still_shows_the_link(store: Store, tmp_path: Path) -> None:
    with SmtpServer() as smtp:
        # The server refuses the login, so nothing is delivered.
        harness = Harness(store, tmp_path, **{**smtp.settings(), "smtp_password": "not the password"})
        harness.start()
        try:
            admin = user_client(harness, "admin@example.com")
            data = {"email": "x@example.com", "role": "viewer", "all_sites": "1"}
            shown = post_form(admin, "/admin/invitations", data)
            assert shown.status_code == 200 and "could not be sent" in shown.text
            assert smtp.inbox.messages == []
            assert _accept(harness.client("198.51.100.61"), _link(shown.text)).status_code == 303
        finally:
            harness.stop()


def test_without_smtp_the_page_says_no_mail_was_sent(harness: Harness) -> None:
    admin = user_client(harness, "admin@example.com")
    shown = post_form(admin, "/admin/invitations", {"email": "y@example.com", "role": "viewer", "all_sites": "1"})
    assert "only when TELLER_SMTP_HOST is set" in shown.text


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


def _next_code(secret: str) -> str:
    """The code of the time step after this one, which the server still accepts."""
    return pyotp.TOTP(secret).at(time.time() + 30)


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
    # The confirming code was spent; the next step's is within the window (the clocks may differ by a step).
    assert _code_step(fresh, pending, pyotp.TOTP(secret).now()).status_code == 401
    code = _next_code(secret)
    assert _code_step(fresh, pending, code).status_code == 303
    assert fresh.get("/sites").status_code == 200
    # A recovery code works once.
    lost = harness.client("198.51.100.52")
    pending = form_token(_password_step(lost, "two@example.com").text, "pending")
    assert _code_step(lost, pending, codes[0].upper()).status_code == 303
    again = harness.client("198.51.100.53")
    pending = form_token(_password_step(again, "two@example.com").text, "pending")
    assert _code_step(again, pending, codes[0]).status_code == 401


def test_a_used_totp_code_is_refused_within_its_window(harness: Harness) -> None:
    client = user_client(harness, "replay@example.com", "viewer")
    secret, _codes = _enable_totp(client)
    code = _next_code(secret)
    first = harness.client("198.51.100.54")
    pending = form_token(_password_step(first, "replay@example.com").text, "pending")
    assert _code_step(first, pending, code).status_code == 303
    # Seen over someone's shoulder, or sent twice: the same code, still inside its window, opens nothing now,
    # and neither does the older code of the current step.
    for ip, replayed in (("198.51.100.55", code), ("198.51.100.56", pyotp.TOTP(secret).now())):
        other = harness.client(ip)
        pending = form_token(_password_step(other, "replay@example.com").text, "pending")
        assert pyotp.TOTP(secret).verify(replayed, valid_window=1)  # pyotp alone would take it
        refused = _code_step(other, pending, replayed)
        assert refused.status_code == 401 and "set-cookie" not in refused.headers


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
