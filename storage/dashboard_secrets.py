"""Random secrets of the dashboard, generated on first use and shared by every process through ClickHouse."""

import secrets
import time

from storage.store import Store


def dashboard_secret(store: Store, name: str) -> bytes:
    """The secret called name, created if missing; when processes race, the smallest value wins everywhere."""
    query = "SELECT min(value), count() FROM dashboard_secrets WHERE name = %(n)s"
    rows = store.query(query, {"n": name})
    if not rows or not rows[0][1]:
        store.insert(
            "dashboard_secrets", ["name", "value", "created_at"], [[name], [secrets.token_hex(32)], [int(time.time())]]
        )
        rows = store.query(query, {"n": name})
    return bytes.fromhex(rows[0][0])
