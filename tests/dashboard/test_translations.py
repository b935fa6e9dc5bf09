"""Every text of the dashboard in bokmål, numbers and dates in the reader's notation, and the choice of language."""

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from harness import Harness
from web_login import ORIGIN, form_token, user_client

from dashboard.web import formatting, i18n

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "dashboard" / "locale" / "nb" / "LC_MESSAGES" / "messages.po"
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _extract(tmp_path: Path) -> list:
    """The messages `pybabel extract` finds in the dashboard's code and templates now."""
    template = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "dashboard/locale/babel.cfg", "-k", "N_"]
        + ["--no-location", "-o", str(template), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with template.open("rb") as source:
        return [message for message in read_po(source) if message.id]


def test_every_extracted_text_is_translated_in_bokmal(tmp_path: Path) -> None:
    extracted = _extract(tmp_path)
    assert len(extracted) > 150  # the extraction found the templates and the code, not an empty tree
    with CATALOGUE.open("rb") as source:
        catalogue = read_po(source, locale="nb")
    untranslated = []
    for message in extracted:
        found = catalogue.get(message.id)
        strings = found.string if found is not None else ""
        forms = strings if isinstance(strings, tuple) else (strings,)
        if found is None or found.fuzzy or not all(forms):
            untranslated.append(message.id)
            continue
        wanted = set(_PLACEHOLDER.findall(str(message.id)))
        assert all(set(_PLACEHOLDER.findall(form)) <= wanted for form in forms), message.id
    assert not untranslated, "untranslated in nb (run `make translations`, then translate):\n" + "\n".join(
        map(str, untranslated)
    )


@pytest.mark.parametrize(
    ("language", "number", "rate", "day", "duration"),
    [("nb", "1\xa0346", "45,7\xa0%", "27. okt.", "3 min 05 s"), ("en", "1,346", "45.7%", "Oct 27", "3m 05s")],
)
def test_numbers_and_dates_follow_the_language(language: str, number: str, rate: str, day: str, duration: str) -> None:
    i18n.activate(language)
    try:
        assert formatting.count(1346) == number
        assert formatting.metric("bounce_rate", 45.7) == rate
        assert formatting.day(dt.date(2026, 10, 27)) == day
        assert formatting.metric("visit_duration", 185) == duration
    finally:
        i18n.activate("en")


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("nb-NO,nb;q=0.9,en;q=0.8", "nb"),
        ("no", "nb"),
        ("nn-NO", "nb"),
        ("en-GB,nb;q=0.5", "en"),
        ("de-DE,nb;q=0.3", "nb"),
        ("de-DE", "en"),
        ("", "en"),
        ("nb;q=bogus,en;q=0.1", "en"),
    ],
)
def test_accept_language_picks_the_best_offered(header: str, language: str) -> None:
    assert i18n.from_accept_language(header) == language


def test_pages_follow_accept_language_then_the_users_choice(harness: Harness) -> None:
    client = user_client(harness, "admin@example.com", "admin")  # with no user every page leads to /setup
    anonymous = harness.client()
    login = anonymous.get("/login", headers={"Accept-Language": "nb-NO,nb;q=0.9"})
    assert '<html lang="nb">' in login.text and "<h1>Logg inn</h1>" in login.text
    assert "Log in" not in anonymous.get("/login?lang=nb").text
    assert "<h1>Log in</h1>" in anonymous.get("/login", headers={"Accept-Language": "en-US"}).text

    sites = client.get("/sites", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in sites.text
    switched = client.post(
        "/language",
        data={"csrf": form_token(sites.text), "language": "nb", "next": "/admin/users"},
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/admin/users"
    # The saved choice wins over the browser's header, on every page, until it is changed again.
    users = client.get("/admin/users", headers={"Accept-Language": "en"})
    assert '<html lang="nb">' in users.text and "<h1>Brukere</h1>" in users.text
    missing = client.get("/sites/nowhere.example", headers={"Accept-Language": "en"})
    assert missing.status_code == 404 and "Det finnes ikke noe nettsted nowhere.example." in missing.text
    refused = client.post(
        "/language", data={"csrf": form_token(users.text), "language": "xx"}, headers={"Origin": ORIGIN}
    )
    assert refused.status_code == 400
    # A form from another site cannot change it.
    foreign = client.post(
        "/language",
        data={"csrf": form_token(users.text), "language": "en"},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert "<h1>Brukere</h1>" in client.get("/admin/users").text
