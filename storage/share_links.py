"""Read-only share links to one site's dashboard: only a SHA-256 of each link's token is stored."""

import hashlib
import secrets
import time
from dataclasses import dataclass

from storage.store import Store

_COLUMNS = ["token_hash", "site", "label", "created_by", "created_at", "revoked", "version"]


@dataclass(frozen=True)
class ShareLink:
    """A live share link, known by its hash (the token itself is shown once)."""

    token_hash: str
    site: str
    label: str
    created_by: str
    created_at: str


def hash_token(token: str) -> str:
    """Hex SHA-256 of a share token; tokens are 256-bit random, so a fast hash is enough."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_share_link(store: Store, site: str, label: str, created_by: str) -> str:
    """Store a new link to site and return its token, which is not stored."""
    token = secrets.token_urlsafe(32)
    store.insert(
        "share_links",
        _COLUMNS,
        [[hash_token(token)], [site], [label], [created_by], [int(time.time())], [0], [time.time_ns()]],
    )
    return token


def revoke_share_link(store: Store, token_hash: str) -> None:
    """Revoke a link by its hash."""
    store.insert("share_links", _COLUMNS, [[token_hash], [""], [""], [""], [int(time.time())], [1], [time.time_ns()]])


def list_share_links(store: Store, site: str) -> list[ShareLink]:
    """Live links of a site, oldest first."""
    rows = store.query(
        "SELECT token_hash, argMax(site, version) AS s, argMax(label, version), argMax(created_by, version), "
        "toString(min(created_at)), argMax(revoked, version) AS r FROM share_links GROUP BY token_hash "
        "HAVING s = %(site)s AND r = 0 ORDER BY min(created_at), token_hash",
        {"site": site},
    )
    return [ShareLink(h, s, label, by, created) for h, s, label, by, created, _ in rows]


def site_of_token(store: Store, token: str) -> str | None:
    """The site a live token opens, or None."""
    rows = store.query(
        "SELECT argMax(site, version), argMax(revoked, version) FROM share_links WHERE token_hash = %(h)s "
        "GROUP BY token_hash",
        {"h": hash_token(token)},
    )
    return rows[0][0] if rows and not rows[0][1] else None
