"""E-mail addresses and long digit runs never reach a stored page path."""

import pytest

from storage.path_scrub import scrub_path


@pytest.mark.parametrize(
    ("path", "stored"),
    [
        ("/users/ola.nordmann@example.com", "/users/[email]"),
        ("/users/ola.nordmann%40example.com/edit", "/users/[email]/edit"),
        ("/reset#/?email=kari@example.no", "/reset#/?email=[email]"),
        ("/kunde/01019912345", "/kunde/[number]"),
        ("/call/4798765432", "/call/[number]"),
        ("/blog/2026/11/30/post-123456", "/blog/2026/11/30/post-123456"),
        ("/", "/"),
    ],
)
def test_scrub_path(path: str, stored: str) -> None:
    assert scrub_path(path) == stored


def test_the_pipeline_stores_the_scrubbed_path(harness) -> None:
    harness.add_site("example.org")
    assert harness.pageview("example.org", "/users/ola.nordmann@example.com").status_code == 202
    harness.flush()
    assert harness.store.query("SELECT pathname FROM events")[0][0] == "/users/[email]"
