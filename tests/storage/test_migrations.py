"""The migration runner applies numbered files once, in order, on both engines."""

from pathlib import Path

import pytest

from storage.migrations import applied_versions, available_migrations, migrate, pending_migrations
from storage.store import Store


def test_all_applied_and_rerun_is_a_no_op(store: Store) -> None:
    versions = [m.version for m in available_migrations()]
    assert versions == sorted(versions) and versions[0] == 1
    assert applied_versions(store) == set(versions)
    assert migrate(store) == []
    assert pending_migrations(store) == []
    assert store.query("SELECT count() FROM schema_migrations")[0][0] == len(versions)


def test_new_file_is_applied_in_order(store: Store, tmp_path: Path) -> None:
    for migration in available_migrations():
        (tmp_path / migration.path.name).write_text(migration.path.read_text())
    (tmp_path / "9001_extra.sql").write_text(
        "-- a comment; with a semicolon\nCREATE TABLE IF NOT EXISTS extra (a UInt8) ENGINE = MergeTree ORDER BY a;\n"
        "INSERT INTO extra (a) SELECT 7;\n"
    )
    applied = migrate(store, tmp_path)
    assert [m.version for m in applied] == [9001]
    assert store.query("SELECT a FROM extra") == [(7,)]
    assert migrate(store, tmp_path) == []


def test_malformed_file_names_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "1_bad.sql").write_text("SELECT 1")
    with pytest.raises(ValueError, match="0001_name.sql"):
        available_migrations(tmp_path)


def test_no_ip_or_ttl_in_schema_files() -> None:
    for migration in available_migrations():
        text = migration.path.read_text().lower()
        assert " ttl " not in text and "datetime64" not in text, migration.path.name
