"""Deletes on every host: ALTER TABLE ... DELETE, and waiting until the mutations are applied."""

import time

from storage.store import Store, StoreError
from storage.topology import on_each_host

# Mutations finish in well under a second on both engines for test-sized tables; a big table may take
# minutes on 18.16, which applies them in the background.
MUTATION_TIMEOUT = 600.0


def wait_for_mutations(store: Store, timeout: float = MUTATION_TIMEOUT) -> None:
    """Wait until every ALTER ... DELETE of this database is applied, on every host."""

    def pending(target: Store, suffix: str) -> int:
        sql = "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0"
        return int(target.query(sql)[0][0])

    deadline = time.monotonic() + timeout
    while sum(on_each_host(store, pending)):
        if time.monotonic() > deadline:
            raise StoreError("deletes (mutations) did not finish in time; they go on in the background")
        time.sleep(0.05)


def delete_rows(store: Store, table: str, where: str, params: dict) -> None:
    """ALTER TABLE ... DELETE on the table (its local tables on every host of a cluster)."""
    on_each_host(
        store, lambda target, suffix: target.execute(f"ALTER TABLE {table}{suffix} DELETE WHERE {where}", params)
    )
