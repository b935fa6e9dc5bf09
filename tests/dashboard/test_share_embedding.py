"""A share link may be framed by the origins its admin listed, and nothing else of the dashboard may be framed."""

import re

import pytest
from harness import Harness
from web_login import csrf_of, post_form, user_client

from storage.share_links import parse_origins

SITE = "framed.test"


def _link(created: str) -> str:
    match = re.search(r"http://testserver(/share/[A-Za-z0-9_-]+)", created)
    assert match, created
    return match.group(1)


def test_only_the_listed_origins_may_frame_only_that_link(harness: Harness) -> None:
    harness.add_site(SITE)
    admin = user_client(harness, "admin@example.com", "admin")
    token = csrf_of(admin)
    origins = "https://intranet.example.com  https://board.example.org:8443/"
    created = post_form(admin, f"/sites/{SITE}/share", {"label": "board", "embed_origins": origins}, token)
    assert created.status_code == 200 and "&lt;iframe src=&#34;http://testserver/share/" in created.text
    framable = _link(created.text)
    plain = _link(post_form(admin, f"/sites/{SITE}/share", {"label": "plain"}, token).text)

    stranger = harness.client("8.8.8.8")
    page = stranger.get(framable)
    assert page.status_code == 200
    assert (
        "frame-ancestors https://intranet.example.com https://board.example.org:8443;"
        in page.headers["content-security-policy"]
    )
    assert "x-frame-options" not in page.headers
    # The rest of the policy is the dashboard's.
    assert "default-src 'none'" in page.headers["content-security-policy"]
    # Its exports, realtime count and every other link and page keep refusing frames.
    for response in (
        stranger.get(f"{framable}/export/pages.csv"),
        stranger.get(f"{framable}/realtime"),
        stranger.get(plain),
        stranger.get("/login"),
        admin.get(f"/sites/{SITE}"),
    ):
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
    listed = admin.get(f"/sites/{SITE}/share").text
    assert "https://intranet.example.com, https://board.example.org:8443" in listed


NOT_ORIGINS = [
    "intranet.example.com",
    "https://example.com/path",
    "javascript:alert(1)",
    "https://example.com; script-src *",
    "https://*.example.com",
    " ".join(f"https://s{i}.example.com" for i in range(11)),
]


@pytest.mark.parametrize("origins", NOT_ORIGINS)
def test_anything_but_an_origin_is_refused(origins: str) -> None:
    with pytest.raises(ValueError):
        parse_origins(origins)


def test_the_form_refuses_what_is_not_an_origin(harness: Harness) -> None:
    harness.add_site(SITE)
    admin = user_client(harness, "admin@example.com", "admin")
    for origins in NOT_ORIGINS:
        refused = post_form(admin, f"/sites/{SITE}/share", {"embed_origins": origins}, csrf_of(admin))
        assert refused.status_code == 400 and "scheme://host[:port]" in refused.text, origins
        assert 'id="new-link"' not in refused.text
    assert harness.store.query("SELECT count() FROM share_links") == [(0,)]


def test_origins_are_normalised() -> None:
    assert parse_origins("HTTPS://Intranet.Example.com/ https://intranet.example.com,http://a.test:8080") == (
        "https://intranet.example.com",
        "http://a.test:8080",
    )
    assert parse_origins("") == ()
