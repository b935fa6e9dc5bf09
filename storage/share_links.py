"""Read-only share links to one site's dashboard: only a SHA-256 of each link's token is stored."""

import hashlib
import secrets
import time
from dataclasses import dataclass

from storage.store import Store
from storage.versioned import VersionedTable, newest

SHARE_LINKS = VersionedTable("share_links", key="token_hash")


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
    SHARE_LINKS.insert(
        store,
        token_hash=hash_token(token),
        site=site,
        label=label,
        created_by=created_by,
        created_at=int(time.time()),
        revoked=0,
    )
    return token


def revoke_share_link(store: Store, token_hash: str) -> None:
    """Revoke a link by its hash."""
    SHARE_LINKS.insert(
        store, token_hash=token_hash, site="", label="", created_by="", created_at=int(time.time()), revoked=1
    )


def list_share_links(store: Store, site: str) -> list[ShareLink]:
    """Live links of a site, oldest first."""
    sql = SHARE_LINKS.latest(
        "site",
        "label",
        "created_by",
        "toString(min(created_at))",
        having=f"{newest('site')} = %(site)s AND {newest('revoked')} = 0",
        order_by="min(created_at), token_hash",
    )
    return [ShareLink(h, s, label, by, created) for h, s, label, by, created in store.query(sql, {"site": site})]


def site_of_token(store: Store, token: str) -> str | None:
    """The site a live token opens, or None."""
    rows = store.query(SHARE_LINKS.latest("site", "revoked", where="token_hash = %(h)s"), {"h": hash_token(token)})
    return rows[0][1] if rows and not rows[0][2] else None
