"""Deployment files: the Dockerfile lints clean, the compose file is valid, a plain install is complete."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile_lints_clean() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run([str(hadolint), str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_unprivileged_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("FROM ") >= 2  # multi-stage
    assert "USER 10001" in text and "HEALTHCHECK" in text and "/healthz" in text
    assert 'ENTRYPOINT ["teller"]' in text and 'CMD ["serve"]' in text


def test_compose_file_wires_teller_to_clickhouse() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    teller = services["teller"]
    url = teller["environment"]["TELLER_CLICKHOUSE_URL"]
    clickhouse_env = services["clickhouse"]["environment"]
    assert url == (
        f"clickhouse://{clickhouse_env['CLICKHOUSE_USER']}:{clickhouse_env['CLICKHOUSE_PASSWORD']}"
        f"@clickhouse:9000/{clickhouse_env['CLICKHOUSE_DB']}"
    )
    assert teller["depends_on"]["clickhouse"]["condition"] == "service_healthy"
    named = set(compose["volumes"])
    used = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert used == named  # data only in named volumes
    from teller.settings import Settings

    for key in teller["environment"]:
        assert key.removeprefix("TELLER_").lower() in Settings.model_fields, key


def test_a_plain_install_carries_schemas_and_assets(tmp_path: Path) -> None:
    """What the image's build stage does: a non-editable install carries the schemas as package data."""
    target = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    probe = (
        "from storage.migration_files import available_migrations, SCHEMAS_DIR;"
        "import collector, dashboard, teller, pathlib;"
        f"assert str(SCHEMAS_DIR).startswith({str(target)!r}), SCHEMAS_DIR;"
        "print(len(available_migrations()));"
        "files = [p for base in (collector.__path__[0], dashboard.__path__[0], teller.__path__[0])"
        " for p in pathlib.Path(base).rglob('*') if p.suffix in ('.js', '.html', '.css', '.tsv')];"
        "print(len(files))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    migrations, assets = (int(line) for line in ran.stdout.split())
    assert migrations == len(list((ROOT / "schemas").glob("*.sql")))
    expected_assets = [
        p
        for base in ("collector", "dashboard", "teller")
        for p in (ROOT / base).rglob("*")
        if p.suffix in (".js", ".html", ".css", ".tsv") and "__pycache__" not in p.parts
    ]
    assert assets == len(expected_assets)
