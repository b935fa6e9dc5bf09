"""An exclusive lock on a directory, held by one process for as long as it keeps the file descriptor open."""

import fcntl
import os
from pathlib import Path


def lock_dir(directory: Path, file_name: str) -> int | None:
    """Create directory if missing and flock directory/file_name without waiting; the descriptor, or None if taken."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / file_name, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
