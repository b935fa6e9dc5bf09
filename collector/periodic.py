"""A daemon thread that runs one action every N seconds until stopped, logging (not raising) failures."""

import logging
import threading
from collections.abc import Callable


class Periodic:
    """Runs action every interval seconds (first after one interval, or at once with run_first)."""

    def __init__(
        self,
        name: str,
        interval: float,
        action: Callable[[], object],
        errors: tuple[type[BaseException], ...] = (Exception,),
        run_first: bool = False,
    ) -> None:
        self.name = name
        self.interval = interval
        self.action = action
        self.errors = errors
        self.run_first = run_first
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._log = logging.getLogger(f"teller.{name}")

    def _run_once(self) -> None:
        """Run the action; a failure is logged and retried at the next tick."""
        try:
            self.action()
        except self.errors as error:
            self._log.warning("%s failed: %s", self.name, error)

    def _loop(self) -> None:
        if self.run_first:
            self._run_once()
        while not self._stop.wait(self.interval):
            self._run_once()

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self._loop, name=f"teller-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and wait for a running action to finish."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=timeout)
