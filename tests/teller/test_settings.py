"""Settings: typed, read from TELLER_* variables, and every one documented."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from teller.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`TELLER_{name.upper()}`" not in text]
    assert missing == [], f"add these settings to docs/settings.md: {missing}"


def test_documented_settings_exist() -> None:
    text = DOCS.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `TELLER_")]
    documented = {row.split("`")[1].removeprefix("TELLER_") for row in rows}
    assert documented <= {name.upper() for name in Settings.model_fields}


def test_environment_is_read_with_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELLER_FLUSH_ROWS", "500")
    monkeypatch.setenv("TELLER_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    monkeypatch.setenv("TELLER_CLICKHOUSE_URL", "clickhouse://u:p@db:9000/teller")
    settings = Settings()
    assert settings.flush_rows == 500
    assert settings.trusted_proxies == ["127.0.0.1", "10.0.0.0/8"]
    assert not settings.embedded


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELLER_PORT", "99999")
    with pytest.raises(ValidationError):
        Settings()
