"""`teller import plausible`, `teller imports list|delete` and `teller export` as a user runs them, on both engines."""

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from plausible_fixture import export_zip

SITE = "lucky.numbers.com"


def teller(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `teller ARGS` in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "teller.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(params=["embedded", "server"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Environment of a fresh data dir, or of a fresh server database."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TELLER_")}
    if request.param == "embedded":
        return {**base, "TELLER_DATA_DIR": str(tmp_path / "data")}
    return {
        **base,
        "TELLER_DATA_DIR": str(tmp_path / "data"),
        "TELLER_CLICKHOUSE_URL": request.getfixturevalue("server_database"),
    }


def test_import_list_export_delete(env: dict[str, str], tmp_path: Path) -> None:
    archive = tmp_path / "lucky_numbers_com_20220106.zip"
    archive.write_bytes(export_zip())
    assert teller(["sites", "add", SITE], env).returncode == 0
    imported = teller(["import", "plausible", "--site", SITE, str(archive)], env)
    assert imported.returncode == 0, imported.stderr
    assert "importing lucky_numbers_com_20220106.zip" in imported.stderr  # the progress line
    assert "rows/s" in imported.stdout and "imported_visitors\t6" in imported.stdout
    again = teller(["import", "plausible", "--site", SITE, str(archive)], env)
    assert again.returncode == 0
    listed = teller(["imports", "list", "--site", SITE], env)
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 1
    import_id = listed.stdout.split("\t")[0]
    assert "2011-12-25..2022-01-06" in listed.stdout
    target = tmp_path / "out.zip"
    exported = teller(["export", "--site", SITE, "--output", str(target)], env)
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as zipped:
        assert len(zipped.namelist()) == 10
    deleted = teller(["imports", "delete", import_id, "--site", SITE], env)
    assert deleted.returncode == 0 and f"deleted import {import_id}" in deleted.stdout
    assert teller(["imports", "list", "--site", SITE], env).stdout == ""
    missing = teller(["imports", "delete", import_id, "--site", SITE], env)
    assert missing.returncode == 1 and "has no import" in missing.stderr
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    refused = teller(["import", "plausible", "--site", SITE, str(bad)], env)
    assert refused.returncode == 1 and "not a zip file" in refused.stderr
    unknown = teller(["import", "plausible", "--site", "nobody.test", str(archive)], env)
    assert unknown.returncode == 1 and "not a registered site" in unknown.stderr
