"""Regression tests from a penetration test: dates at the edges, origins, spreadsheet formulas, 500 pages."""

import csv
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from harness import Harness
from web_login import ORIGIN, PASSWORD, csrf_of, login, post_form, user_client

from dashboard.web.export import to_csv
from storage.store import Store
from storage.users import add_user

SITE = "hardening.test"
EXTREME_RANGES = [("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-02"), ("0001-01-01", "2026-11-20")]


@pytest.mark.parametrize(("first", "last"), EXTREME_RANGES)
def test_extreme_dates_are_refused_by_the_stats_api(harness: Harness, first: str, last: str) -> None:
    harness.add_site(SITE)
    response = harness.query({"site_id": SITE, "metrics": ["visitors"], "date_range": [first, last]})
    assert response.status_code == 400
    assert "between 1990-01-01 and 2099-12-31" in response.json()["error"]


@pytest.mark.parametrize(("first", "last"), EXTREME_RANGES)
def test_extreme_dates_are_refused_by_the_dashboard_exports_and_share_links(
    harness: Harness, first: str, last: str
) -> None:
    harness.add_site(SITE)
    admin = user_client(harness, "admin@example.com", "admin")
    query = f"?period=custom&from={first}&to={last}"
    page = admin.get(f"/sites/{SITE}{query}")
    assert page.status_code == 400 and "between 1990-01-01 and 2099-12-31" in page.text
    assert "content-security-policy" in page.headers
    for export in ("/export/pages.csv", "/export/kpis.csv", "/export.zip"):
        response = admin.get(f"/sites/{SITE}{export}{query}")
        assert response.status_code == 400, export
        assert "between 1990-01-01" in response.json()["error"]
    created = post_form(admin, f"/sites/{SITE}/share", {"label": "board"}, csrf_of(admin))
    link = re.search(r"http://testserver(/share/[A-Za-z0-9_-]+)", created.text).group(1)
    stranger = harness.client("8.8.8.8")
    assert stranger.get(f"{link}{query}").status_code == 400
    assert stranger.get(f"{link}/export.zip{query}").status_code == 400


def test_an_unexpected_error_is_a_500_page_with_the_security_headers(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.add_site(SITE)
    admin = user_client(harness, "admin@example.com", "admin")

    def broken(*args: object, **kwargs: object) -> None:
        raise OverflowError("date value out of range")

    monkeypatch.setattr("dashboard.web.site_routes.run_kpis", broken)
    monkeypatch.setattr("dashboard.web.export.run_kpis", broken)
    monkeypatch.setattr("dashboard.stats_api.run_query", broken)
    page = admin.get(f"/sites/{SITE}")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text and "Traceback" not in page.text and "Overflow" not in page.text
    download = admin.get(f"/sites/{SITE}/export/kpis.csv")
    api = harness.query({"site_id": SITE, "metrics": ["visitors"], "date_range": "day"})
    for response in (page, download, api):
        assert response.status_code == 500
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert download.json() == api.json() == {"error": "internal error: the server could not answer this request"}


def _origin_harness(store: Store, tmp_path: Path, public_url: str) -> Harness:
    harness = Harness(store, tmp_path, public_url=public_url)
    harness.start()
    harness.add_site(SITE)
    return harness


@pytest.mark.parametrize(
    ("public_url", "origin", "host", "allowed"),
    [
        # With a public URL, only its exact scheme and host pass, whatever the Host header says.
        ("https://stats.example.com", "https://stats.example.com", "stats.example.com", True),
        ("https://stats.example.com", "http://stats.example.com", "stats.example.com", False),
        ("https://stats.example.com", "http://evil.example", "evil.example", False),
        ("https://stats.example.com", "https://stats.example.com:8443", "stats.example.com", False),
        ("https://stats.example.com", "https://stats.example.com:443", "stats.example.com", True),
        # Without one, the request's own scheme (http in these tests) and Host.
        ("", ORIGIN, "testserver", True),
        ("", "https://testserver", "testserver", False),
        ("", "http://evil.example", "testserver", False),
    ],
)
def test_origin_check_compares_scheme_and_host(
    store: Store, tmp_path: Path, public_url: str, origin: str, host: str, allowed: bool
) -> None:
    harness = _origin_harness(store, tmp_path, public_url)
    try:
        base = public_url or ORIGIN
        admin = TestClient(harness.app, base_url=base, client=("195.159.103.82", 50_000))
        add_user(harness.store, "admin@example.com", PASSWORD, "admin")
        login(admin, "admin@example.com", origin=base)
        token = csrf_of(admin)
        response = admin.post(
            "/admin/sites",
            data={"csrf": token, "domain": "new.test", "timezone": "UTC"},
            headers={"Origin": origin, "Host": host},
            follow_redirects=False,
        )
        assert (response.status_code == 303) is allowed, response.status_code
    finally:
        harness.stop()


@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        " =1+1",
        "\u00a0=1+1",
        "\u200b=1+1",
        "\ufeff+1",
        "\u3000@SUM(A1)",
        "\uff1d1+1",
        " \uff0b1",
        "\uff0d1",
        "\uff20x",
        "\t=1",
        "\n=1",
        "\u2028-1",
    ],
)
def test_csv_formula_edge_cases_are_prefixed(cell: str) -> None:
    assert list(csv.reader(io.StringIO(to_csv(["a"], [[cell]])))) == [["a"], [f"'{cell}"]]


@pytest.mark.parametrize("cell", ["/pricing", "plain", "Øst", " spaced words", "1=1", "\u00a0/path"])
def test_csv_ordinary_cells_stay_as_they_are(cell: str) -> None:
    assert list(csv.reader(io.StringIO(to_csv(["a"], [[cell]])))) == [["a"], [cell]]
