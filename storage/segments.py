"""Saved segments: a named set of dashboard filters of one site, shared by the site's users."""

import secrets
import time
from dataclasses import dataclass

import orjson

from storage.store import Store
from storage.versioned import VersionedTable, newest

SEGMENTS = VersionedTable("segments", key="id")
MAX_NAME = 100
MAX_FILTERS_JSON = 20_000
MAX_SEGMENTS_PER_SITE = 200


@dataclass(frozen=True)
class Segment:
    """A live segment; filters are [operator, filter key, [values]] lists."""

    id: str
    site: str
    name: str
    filters: list[list]
    created_by: str
    created_at: str


def list_segments(store: Store, site: str) -> list[Segment]:
    """Live segments of a site, by name."""
    sql = SEGMENTS.latest(
        "site",
        "name",
        "filters",
        "created_by",
        "toString(min(created_at))",
        having=f"{newest('site')} = %(site)s AND {newest('deleted')} = 0",
        order_by=f"lower({newest('name')}), id",
    )
    return [
        Segment(id_, s, name, orjson.loads(filters), by, created)
        for id_, s, name, filters, by, created in store.query(sql, {"site": site})
    ]


def create_segment(store: Store, site: str, name: str, filters: list[list], created_by: str) -> Segment:
    """Store a new segment; ValueError for an empty name, no filters or too many segments."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise ValueError(f"a segment needs a name of 1 to {MAX_NAME} characters")
    if not filters:
        raise ValueError("a segment needs at least one filter")
    encoded = orjson.dumps(filters).decode()
    if len(encoded) > MAX_FILTERS_JSON:
        raise ValueError("the filters of a segment are too long")
    if len(list_segments(store, site)) >= MAX_SEGMENTS_PER_SITE:
        raise ValueError(f"a site has at most {MAX_SEGMENTS_PER_SITE} segments")
    segment_id = secrets.token_hex(12)
    now = int(time.time())
    SEGMENTS.insert(
        store,
        id=segment_id,
        site=site,
        name=name,
        filters=encoded,
        created_by=created_by,
        created_at=now,
        deleted=0,
    )
    return Segment(segment_id, site, name, filters, created_by, str(now))


def delete_segment(store: Store, segment: Segment) -> None:
    """Delete a segment for everyone."""
    SEGMENTS.insert(
        store,
        id=segment.id,
        site=segment.site,
        name=segment.name,
        filters="[]",
        created_by=segment.created_by,
        created_at=int(time.time()),
        deleted=1,
    )
