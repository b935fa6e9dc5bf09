"""Opens the engine a deployment names: a ClickHouse server (alone or in a cluster), or embedded chdb."""

from pathlib import Path

from storage.server import ServerStore
from storage.store import Store, StoreError


def open_store(clickhouse_url: str, cluster: str, data_dir: Path) -> Store:
    """A server store when a URL is given, else the embedded engine in data_dir."""
    if clickhouse_url:
        return ServerStore(clickhouse_url, cluster)
    if cluster:
        raise StoreError("TELLER_CLICKHOUSE_CLUSTER needs TELLER_CLICKHOUSE_URL (a server of the cluster)")
    try:
        # Imported here: chdb is an optional dependency that a server-engine install does not have.
        from storage.embedded import EmbeddedStore
    except ImportError:
        raise StoreError(
            "the embedded engine needs the chdb package (pip install 'teller[embedded]'), "
            "or set TELLER_CLICKHOUSE_URL to use a ClickHouse server"
        ) from None
    return EmbeddedStore(data_dir)
