"""Progress of a dashboard import (schemas/0022_import_progress.sql), written by the process that runs it
and read by whichever process a poll reaches."""

import secrets
import threading
import time
from typing import Any

from storage.store import Store

# A progress row at most this often while bytes come in (a 64 kB read calls back; a row per read is
# thousands of inserts per import); a change of state is written at once.
WRITE_INTERVAL = 0.5
_COLUMNS = ("site", "job", "state", "done", "total", "row_count", "error", "status", "updated_at", "version")


class ImportProgress:
    """Jobs started by this process, written to the shared table; reads answer for every process's jobs."""

    def __init__(self, store: Store, clock: Any = time.time) -> None:
        self.store, self.clock = store, clock
        self.lock = threading.Lock()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.written: dict[str, float] = {}

    def start(self, site: str, total: int) -> str:
        """A new running job of a site; its id."""
        job = secrets.token_urlsafe(12)
        with self.lock:
            self.jobs[job] = {"site": site, "state": "running", "done": 0, "total": total, "error": "", "rows": 0}
        self._write(job, force=True)
        return job

    def update(self, job: str, **changes: Any) -> None:
        """Change a job of this process; written now when its state changes, else at most every WRITE_INTERVAL."""
        with self.lock:
            self.jobs[job].update(changes)
        self._write(job, force="state" in changes)

    def _write(self, job: str, force: bool) -> None:
        """Insert the job's current row (the newest version wins); a finished job leaves this process."""
        now = self.clock()
        with self.lock:
            found = self.jobs[job]
            if not force and now - self.written.get(job, 0.0) < WRITE_INTERVAL:
                return
            self.written[job] = now
            row = [
                found["site"], job, found["state"], found["done"], found["total"], found["rows"],
                found["error"][:2000], found.get("status", 0), int(now), time.time_ns(),
            ]  # fmt: skip
            if found["state"] != "running":
                del self.jobs[job], self.written[job]
        self.store.insert("import_progress", list(_COLUMNS), [[value] for value in row])

    def get(self, site: str, job: str) -> dict[str, Any] | None:
        """A job's newest state (of any process), or None when the site has no such job."""
        rows = self.store.query(
            "SELECT argMax(state, version), argMax(done, version), argMax(total, version), "
            "argMax(error, version), argMax(row_count, version), argMax(status, version) "
            "FROM import_progress WHERE site = %(site)s AND job = %(job)s GROUP BY job",
            {"site": site, "job": job},
        )
        if not rows:
            return None
        state, done, total, error, row_count, status = rows[0]
        found = {"state": state, "done": int(done), "total": int(total), "error": error, "rows": int(row_count)}
        if state == "failed":
            found["status"] = int(status)
        return found
