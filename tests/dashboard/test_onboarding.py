"""The first run on both engines: setup token, first admin, first site, and the installation check."""

import html
import json
import re

from harness import Harness
from privacy import ip_forms, table_hits
from web_login import ORIGIN, PASSWORD, form_token, post_form

from storage.setup_tokens import issue_setup_token
from storage.users import get_user, list_users

SITE = "first.test"
VISITOR_IP = "203.0.113.77"
HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36"


def _setup(client, token: str, email: str = "owner@example.com", password: str = PASSWORD, repeat: str | None = None):
    """Post the setup form as a browser does."""
    page = client.get("/setup")
    if page.status_code == 404:  # setup is over: a form token from the login page
        page = client.get("/login")
    return client.post(
        "/setup",
        data={
            "setup_token": token,
            "email": email,
            "password": password,
            "repeat": password if repeat is None else repeat,
            "token": form_token(page.text, "token"),
        },
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )


def _all_values(harness: Harness) -> str:
    """Every value of every table of the database, as one string."""
    tables = [row[0] for row in harness.store.query("SHOW TABLES")]
    return "\n".join(str(row) for table in tables for row in harness.store.query(f"SELECT * FROM {table}"))


def test_without_users_every_page_leads_to_setup(harness: Harness) -> None:
    harness.add_site(SITE)
    client = harness.client()
    for path in ("/", "/login", "/sites", f"/sites/{SITE}", "/admin/users", "/account"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/setup", path
    page = client.get("/setup")
    assert page.status_code == 200 and "Create the first admin account" in page.text


def test_the_setup_token_creates_one_admin_then_setup_is_gone(harness: Harness) -> None:
    token = issue_setup_token(harness.store)
    assert token not in _all_values(harness)  # only its hash is stored
    client = harness.client()
    assert _setup(client, "0000-0000-0000-0000").status_code == 401
    assert _setup(client, token, repeat="something else entirely").status_code == 400
    assert _setup(client, token, password="short").status_code == 400
    assert list_users(harness.store) == []
    created = _setup(client, token)
    assert created.status_code == 303 and created.headers["location"] == "/setup/site"
    admin = get_user(harness.store, "owner@example.com")
    assert admin is not None and admin.is_admin
    assert client.get("/sites").status_code == 200  # logged in by the setup
    # Gone for good: the page, the same token, a new token, another browser.
    stranger = harness.client("198.51.100.7")
    assert stranger.get("/setup").status_code == 404
    assert stranger.get("/login").status_code == 200
    assert _setup(stranger, token, email="second@example.com").status_code in (403, 404)
    assert get_user(harness.store, "second@example.com") is None
    assert len(list_users(harness.store)) == 1


def _first_run(harness: Harness):
    """A client that went through setup and added SITE; and the verify page's status URL."""
    client = harness.client()
    assert _setup(client, issue_setup_token(harness.store)).status_code == 303
    added = post_form(client, "/setup/site", {"domain": SITE, "timezone": "Europe/Oslo"}, csrf=_csrf(client))
    assert added.status_code == 303 and added.headers["location"] == f"/sites/{SITE}/verify"
    page = client.get(f"/sites/{SITE}/verify")
    assert page.status_code == 200 and f'data-domain="{SITE}"' in html.unescape(page.text) and "copy" in page.text
    status_url = re.search(r'data-url="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    return client, status_url


def _csrf(client) -> str:
    return form_token(client.get("/setup/site").text)


def test_verification_waits_then_tells_a_drop_and_its_reason_then_the_first_pageview(harness: Harness) -> None:
    client, status_url = _first_run(harness)
    assert client.get(status_url).json()["state"] == "waiting"
    # A headless browser is dropped as a bot: the check names the reason.
    dropped = harness.pageview(SITE, "/", user_agent=HEADLESS)
    assert dropped.headers["x-teller-dropped"] == "bot"
    harness.teller.drop_log.flush()
    answer = client.get(status_url).json()
    assert answer["state"] == "dropped" and answer["reason"] == "bot" and answer["advice"]
    # In the reader's language, as the page's own messages for verify.js are.
    norsk = client.get(status_url + "&lang=nb").json()
    assert norsk["advice"].startswith("Nettleseren så ut som en robot") and norsk["meaning"] != answer["meaning"]
    page = client.get(f"/sites/{SITE}/verify?lang=nb").text
    texts = json.loads(re.search(r'<script type="application/json" id="verify-texts">(.+?)</script>', page, re.S)[1])
    assert texts["received"] == "Mottatt: en {event} av {path} kl. {time}. Teller er installert på {site}."
    # A typo in data-domain: the check says which unregistered domain sent events.
    assert harness.pageview("frist.test", "/").headers["x-teller-dropped"] == "unknown_site"
    harness.teller.drop_log.flush()
    # The first real pageview.
    assert "x-teller-dropped" not in harness.pageview(SITE, "/welcome").headers
    harness.flush()
    answer = client.get(status_url).json()
    assert answer["state"] == "received" and answer["path"] == "/welcome" and answer["event"] == "pageview"


def test_an_unregistered_domain_is_named_while_waiting(harness: Harness) -> None:
    client, status_url = _first_run(harness)
    harness.pageview("www.frist.test", "/")
    harness.teller.drop_log.flush()
    answer = client.get(status_url).json()
    assert answer["state"] == "waiting" and answer["unknown_sites"] == ["frist.test"]


def test_drop_records_hold_only_site_reason_and_time(harness: Harness) -> None:
    _first_run(harness)
    for _ in range(50):
        harness.pageview(SITE, "/", user_agent=HEADLESS, ip=VISITOR_IP)
    harness.post_event({"n": "pageview", "u": "https://other.test/", "d": "other.test"}, ip=VISITOR_IP)
    harness.teller.drop_log.flush()
    rows = [tuple(row) for row in harness.store.query("SELECT site, reason FROM ingest_drops ORDER BY site")]
    assert rows == [("first.test", "bot"), ("other.test", "unknown_site")]  # sampled: one row per 10 s
    assert [
        c
        for (c,) in harness.store.query(
            "SELECT name FROM system.columns WHERE table = 'ingest_drops' AND database = currentDatabase()"
        )
    ] == ["site", "reason", "ts"]
    assert table_hits(harness.store, ip_forms(VISITOR_IP)) == []
