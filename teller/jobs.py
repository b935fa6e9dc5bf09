"""Every background task of a serving process in one table: name, interval, action; started and stopped here."""

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger("teller.jobs")


@dataclass(frozen=True)
class Job:
    """An action run every interval seconds (first after one interval, or at start with run_first)."""

    name: str
    interval: float
    action: Callable[[], object]
    run_first: bool = False


class Jobs:
    """Runs each job in a daemon thread of its own; a failed run is logged and retried at the next tick."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        self.table = {job.name: job for job in jobs}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def run(self, name: str) -> object:
        """Run one job now in the calling thread and return what its action returned (errors propagate)."""
        return self.table[name].action()

    def _run_logged(self, job: Job) -> None:
        try:
            job.action()
        except Exception as error:  # a job must outlive any one failed run, whatever the cause
            log.warning("%s failed: %s", job.name, error)

    def _loop(self, job: Job) -> None:
        if job.run_first:
            self._run_logged(job)
        while not self._stop.wait(job.interval):
            self._run_logged(job)

    def start(self) -> None:
        """Start one thread per job."""
        self._stop.clear()
        for job in self.table.values():
            thread = threading.Thread(target=self._loop, args=(job,), name=f"teller-{job.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every thread, waiting for running actions to finish."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()
