"""The ids Umami and Matomo trackers call a site by (schemas/0018), mapped to Teller's site domains."""

from storage.store import Store
from storage.versioned import VersionedTable

TRACKER_IDS = VersionedTable("tracker_ids", key="kind, tracker_id")
KINDS = ("umami", "matomo")
MAX_TRACKER_ID = 100


def set_tracker_id(store: Store, kind: str, tracker_id: str, site: str) -> None:
    """Map a tracker's id to a site ("" removes the mapping); ValueError for an unknown kind or a bad id."""
    if kind not in KINDS:
        raise ValueError(f"unknown tracker {kind!r}; known: {', '.join(KINDS)}")
    tracker_id = tracker_id.strip().lower()
    if not tracker_id or len(tracker_id) > MAX_TRACKER_ID or not tracker_id.isprintable():
        raise ValueError(f"not a valid {kind} id: {tracker_id!r}")
    TRACKER_IDS.insert(store, kind=kind, tracker_id=tracker_id, site=site)


def tracker_ids(store: Store) -> dict[tuple[str, str], str]:
    """{(kind, tracker id): site} of every live mapping."""
    rows = store.query(
        "SELECT kind, tracker_id, argMax(site, version) AS site FROM tracker_ids GROUP BY kind, tracker_id"
    )
    return {(str(kind), str(tracker_id)): site for kind, tracker_id, site in rows if site}
