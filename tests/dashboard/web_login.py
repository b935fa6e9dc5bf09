"""Log in to the dashboard of a Harness app, as a browser does: fetch the form, post it from the same origin."""

import re

from fastapi.testclient import TestClient
from harness import Harness

from storage.users import add_user

ORIGIN = "http://testserver"
PASSWORD = "correct horse battery"


def form_token(html: str, name: str = "csrf") -> str:
    """The value of a hidden input in a page."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} field in the page"
    return match.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD, origin: str = ORIGIN) -> None:
    """Log a client in through the login form."""
    page = client.get("/login")
    token = form_token(page.text, "token")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "token": token, "next": "/sites"},
        headers={"Origin": origin},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def user_client(harness: Harness, email: str, role: str = "admin", ip: str = "195.159.103.82") -> TestClient:
    """A client logged in as a new user with the role."""
    add_user(harness.store, email, PASSWORD, role)
    client = harness.client(ip)
    login(client, email)
    return client


def csrf_of(client: TestClient, path: str = "/sites") -> str:
    """The session's CSRF token, read from a page."""
    return form_token(client.get(path).text)


def post_form(client: TestClient, path: str, data: dict, csrf: str | None = None) -> object:
    """POST a form with the session's CSRF token from the same origin."""
    token = csrf_of(client) if csrf is None else csrf
    return client.post(path, data={"csrf": token, **data}, headers={"Origin": ORIGIN}, follow_redirects=False)
