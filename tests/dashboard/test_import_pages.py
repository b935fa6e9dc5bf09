"""The imports page: an admin uploads a Plausible export, follows its progress, toggles it, deletes it, downloads."""

import io
import time
import zipfile

from fastapi.testclient import TestClient
from harness import Harness
from privacy import file_hits, ip_forms, table_hits
from web_login import ORIGIN, csrf_of, post_form, user_client

from storage.imported import list_imports
from teller.app import create_app

SITE = "imports.test"
VISITORS = '"date","visitors","pageviews","bounces","visits","visit_duration"\n"2026-11-19",7,21,3,9,450\n'
SOURCES = (
    '"date","source","referrer","utm_source","utm_medium","utm_campaign","utm_content","utm_term",'
    '"pageviews","visitors","visits","visit_duration","bounces"\n'
    '"2026-11-19","Google","","","","","","",12,4,5,300,1\n'
)


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _upload(client: TestClient, body: bytes, csrf: str) -> object:
    headers = {"Origin": ORIGIN, "X-CSRF-Token": csrf, "Content-Type": "application/zip", "X-File-Name": "p.zip"}
    return client.post(f"/sites/{SITE}/imports", content=body, headers=headers)


def _finished(client: TestClient, url: str) -> dict:
    for _ in range(200):
        state = client.get(url).json()
        if state["state"] != "running":
            return state
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def test_upload_progress_toggle_delete_and_download(harness: Harness) -> None:
    harness.add_site(SITE)
    admin = user_client(harness, "admin@imports.test")
    page = admin.get(f"/sites/{SITE}/imports")
    assert page.status_code == 200 and 'id="import-form"' in page.text
    csrf = csrf_of(admin, f"/sites/{SITE}/imports")
    started = _upload(
        admin, _zip({"imported_visitors_20261119_20261119.csv": VISITORS, "imported_sources.csv": SOURCES}), csrf
    )
    assert started.status_code == 202, started.text
    state = _finished(admin, started.json()["progress"])
    assert state == {"state": "done", "done": state["total"], "total": state["total"], "error": "", "rows": 2}
    assert state["total"] == len(VISITORS) + len(SOURCES)
    [record] = list_imports(harness.store, SITE)
    assert str(record.import_id) in admin.get(f"/sites/{SITE}/imports").text
    dashboard = admin.get(f"/sites/{SITE}?period=custom&from=2026-11-19&to=2026-11-19")
    assert "Including imported data" in dashboard.text and "imports=off" in dashboard.text
    assert ">7<" in dashboard.text.replace(" ", "")  # the visitors card counts the imported visitors
    off = admin.get(f"/sites/{SITE}?period=custom&from=2026-11-19&to=2026-11-19&imports=off")
    assert "Include imported data" in off.text and ">7<" not in off.text.replace(" ", "")
    download = admin.get(f"/sites/{SITE}/plausible-export.zip")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert len(archive.namelist()) == 10
    deleted = post_form(admin, f"/sites/{SITE}/imports/delete", {"import_id": str(record.import_id)}, csrf)
    assert deleted.status_code == 303
    assert list_imports(harness.store, SITE) == []
    assert "Include imported data" not in admin.get(f"/sites/{SITE}").text


def test_refusals_are_json_with_a_reason(harness: Harness) -> None:
    harness.add_site(SITE)
    admin = user_client(harness, "admin@imports.test")
    csrf = csrf_of(admin, f"/sites/{SITE}/imports")
    broken = _upload(admin, b"not a zip", csrf)
    assert broken.status_code == 202
    state = _finished(admin, broken.json()["progress"])
    assert state["state"] == "failed" and "not a zip file" in state["error"] and state["status"] == 400
    assert _upload(admin, b"", csrf).status_code == 400
    assert _upload(admin, b"PK", "wrong token").status_code == 403
    too_big = admin.post(
        f"/sites/{SITE}/imports",
        content=b"x",
        headers={"Origin": ORIGIN, "X-CSRF-Token": csrf, "Content-Length": str(1 << 40)},
    )
    assert too_big.status_code == 413 and "larger than" in too_big.json()["error"]
    assert admin.get(f"/sites/{SITE}/imports/progress/nope").status_code == 404
    viewer = user_client(harness, "viewer@imports.test", role="viewer")
    assert viewer.get(f"/sites/{SITE}/imports").status_code == 403
    assert viewer.get(f"/sites/{SITE}/plausible-export.zip").status_code == 403
    assert list_imports(harness.store, SITE) == []


def test_an_upload_keeps_no_full_address(harness: Harness, tmp_path) -> None:  # noqa: ANN001
    ip = "195.159.103.82"
    harness.add_site(SITE)
    admin = user_client(harness, "admin@imports.test", ip=ip)
    csrf = csrf_of(admin, f"/sites/{SITE}/imports")
    files = {"imported_visitors_20261119_20261119.csv": VISITORS, "imported_sources.csv": SOURCES}
    started = _upload(admin, _zip(files), csrf)
    assert _finished(admin, started.json()["progress"])["state"] == "done"
    assert admin.get(f"/sites/{SITE}/plausible-export.zip").status_code == 200
    needles = ip_forms(ip)
    assert table_hits(harness.store, needles) == []
    assert file_hits(harness.settings.data_dir, needles) == []
    assert file_hits(tmp_path, needles) == []


def test_progress_shows_in_another_serving_process(harness: Harness) -> None:
    harness.add_site(SITE)
    admin = user_client(harness, "admin@imports.test")
    csrf = csrf_of(admin, f"/sites/{SITE}/imports")
    # A second app over the same database with its own memory, as a second worker process is.
    second = create_app(harness.settings, store=harness.store, clock=lambda: harness.now)
    second.state.teller.state.refresh()  # the sites, as its own start would load them
    other = TestClient(second, client=("195.159.103.82", 50_001), raise_server_exceptions=False)
    other.cookies.update(admin.cookies)
    rows = 400_000
    body = _zip({"imported_visitors_20261119_20261119.csv": VISITORS + '"2026-11-19",1,1,0,1,0\n' * rows})
    started = _upload(admin, body, csrf)
    assert started.status_code == 202, started.text
    seen = []
    for _ in range(2000):
        state = other.get(started.json()["progress"])
        assert state.status_code == 200, (state.status_code, state.text[:200])
        seen.append(state.json())
        if seen[-1]["state"] != "running":
            break
        time.sleep(0.02)
    final = seen[-1]
    assert final == {"state": "done", "done": final["total"], "total": final["total"], "error": "", "rows": rows + 1}
    assert any(0 < state["done"] < state["total"] for state in seen if state["state"] == "running"), seen[:3]
    assert other.get(f"/sites/{SITE}/imports/progress/nope").status_code == 404
