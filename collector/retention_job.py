"""Runs retention inside `teller serve` on a timer (salts are handled by the shared-state refresh)."""

import logging

from collector.periodic import Periodic
from collector.storage.retention import Policy, apply_retention
from collector.storage.store import Store, StoreError

log = logging.getLogger("teller.retention")


class RetentionJob:
    """Applies the retention policy at start and then every interval seconds."""

    def __init__(self, store: Store, policy: Policy, interval: float) -> None:
        self.store = store
        self.policy = policy
        self._periodic = Periodic("retention", interval, self.run_once, run_first=True)

    def run_once(self) -> dict[str, int]:
        """Apply the policy now; a failure is logged and retried at the next tick."""
        try:
            removed = apply_retention(self.store, self.policy)
        except StoreError as error:
            log.warning("retention run failed: %s", error)
            return {}
        if removed:
            log.info("retention removed %s", ", ".join(f"{n} rows from {t}" for t, n in removed.items()))
        return removed

    def start(self) -> None:
        """Start the thread; the first run happens right away."""
        self._periodic.start()

    def stop(self) -> None:
        """Stop the thread."""
        self._periodic.stop()
