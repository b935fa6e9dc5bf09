"""The numbered migration files, schemas/NNNN_name.sql, read from the installed `schemas` package."""

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

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
