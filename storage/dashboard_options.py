"""Dashboard-wide switches shared by every process: the first run's end, two-factor login for everyone."""

from storage.store import Store
from storage.versioned import VersionedTable

OPTIONS = VersionedTable("dashboard_options", key="name")
SETUP_DONE = "setup_done"
REQUIRE_TWO_FACTOR = "require_two_factor"


def get_option(store: Store, name: str) -> str:
    """The option's newest value, or "" when it was never set."""
    rows = store.query(OPTIONS.latest("value", where="name = %(n)s"), {"n": name})
    return str(rows[0][1]) if rows else ""


def set_option(store: Store, name: str, value: str) -> None:
    """Write a new value of an option."""
    OPTIONS.insert(store, name=name, value=value)
