"""`npm install` of a test directory's package.json, once even when test processes run side by side."""

import fcntl
import shutil
import subprocess
from pathlib import Path

import pytest


def npm_install(directory: Path, installed: Path, reason: str) -> None:
    """Install directory's npm packages unless installed exists; fail the test with reason when npm is missing."""
    with open(directory / ".npm-install.lock", "w") as lock:
        # Parallel test processes (pytest -n) would otherwise write the same node_modules at once.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed.exists():
            return
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"npm is missing: {reason}", pytrace=False)
        subprocess.run(
            [npm, "install", "--ignore-scripts", "--no-audit", "--no-fund", "--no-package-lock"],
            cwd=directory,
            check=True,
            capture_output=True,
            timeout=300,
        )
