"""Apply schemas/NNNN_*.sql in order and record each applied file in schema_migrations."""

import re
import time
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from storage.store import Store

# Package data of the `schemas` package, so a plain wheel install finds the files with no copying.
SCHEMAS_DIR = Path(str(files("schemas")))
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_COMMENT = re.compile(r"^\s*--.*$", re.MULTILINE)


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    path: Path

    def statements(self) -> list[str]:
        """The file's statements, split on semicolons at line ends, comments removed."""
        text = _COMMENT.sub("", self.path.read_text(encoding="utf-8"))
        return [part.strip() for part in re.split(r";\s*$", text, flags=re.MULTILINE) if part.strip()]


def available_migrations(schemas_dir: Path = SCHEMAS_DIR) -> list[Migration]:
    """Every migration file, in version order; a malformed name or a repeated version is an error."""
    migrations: dict[int, Migration] = {}
    for path in sorted(schemas_dir.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name must look like 0001_name.sql: {path.name}")
        version = int(match.group(1))
        if version in migrations:
            raise ValueError(f"two migrations share version {version}")
        migrations[version] = Migration(version, match.group(2), path)
    return [migrations[v] for v in sorted(migrations)]


def applied_versions(store: Store) -> set[int]:
    """Versions recorded as applied."""
    store.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime) "
        "ENGINE = MergeTree ORDER BY version"
    )
    return {int(row[0]) for row in store.query("SELECT version FROM schema_migrations")}


def migrate(store: Store, schemas_dir: Path = SCHEMAS_DIR) -> list[Migration]:
    """Apply every migration not yet applied, in order; return the ones applied now."""
    if getattr(store, "cluster", ""):  # a ServerStore in cluster mode
        from storage.cluster import migrate_cluster

        return migrate_cluster(store, schemas_dir)  # type: ignore[arg-type]
    done = applied_versions(store)
    applied = []
    for migration in available_migrations(schemas_dir):
        if migration.version in done:
            continue
        for statement in migration.statements():
            store.execute(statement)
        store.insert(
            "schema_migrations",
            ["version", "name", "applied_at"],
            [[migration.version], [migration.name], [int(time.time())]],
        )
        applied.append(migration)
    return applied


def pending_migrations(store: Store, schemas_dir: Path = SCHEMAS_DIR) -> list[Migration]:
    """Migrations not yet applied."""
    done = applied_versions(store)
    return [m for m in available_migrations(schemas_dir) if m.version not in done]
