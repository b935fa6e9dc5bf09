"""Dropping whole partitions: how retention and the short-lived state tables shed old rows on both engines."""

from storage.store import Store


def drop_partitions_before(store: Store, table: str, first_kept: str) -> list[str]:
    """Drop every active partition of table whose id sorts before first_kept; return the ids dropped."""
    rows = store.query(
        "SELECT DISTINCT partition_id FROM system.parts WHERE database = currentDatabase() "
        "AND table = %(t)s AND active AND partition_id < %(p)s",
        {"t": table, "p": first_kept},
    )
    for (partition_id,) in rows:
        # DROP PARTITION is synchronous on both engines; ALTER ... DELETE is an asynchronous mutation on 18.16.
        store.execute(f"ALTER TABLE {table} DROP PARTITION ID %(id)s", {"id": partition_id})
    return [str(partition_id) for (partition_id,) in rows]
