"""Read-only share links to one site's dashboard: only a SHA-256 of each link's token is stored."""

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from storage.store import Store
from storage.versioned import VersionedTable, newest

SHARE_LINKS = VersionedTable("share_links", key="token_hash")
EMBEDS = VersionedTable("share_link_embeds", key="token_hash")
MAX_EMBED_ORIGINS = 10
# scheme://host[:port], nothing else: the value goes into a Content-Security-Policy header as it is.
_ORIGIN = re.compile(r"^https?://[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?(?::[0-9]{1,5})?$")


@dataclass(frozen=True)
class ShareLink:
    """A live share link, known by its hash (the token itself is shown once)."""

    token_hash: str
    site: str
    label: str
    created_by: str
    created_at: str
    embed_origins: tuple[str, ...] = ()


def hash_token(token: str) -> str:
    """Hex SHA-256 of a share token; tokens are 256-bit random, so a fast hash is enough."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def parse_origins(text: str) -> tuple[str, ...]:
    """Origins from a space- or comma-separated list; raise ValueError for anything that is not one."""
    origins = []
    for part in text.replace(",", " ").split():
        origin = part.strip().lower().rstrip("/")
        if not _ORIGIN.match(origin):
            raise ValueError(f"not an origin (scheme://host[:port]): {part!r}")
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_EMBED_ORIGINS:
        raise ValueError(f"at most {MAX_EMBED_ORIGINS} origins")
    return tuple(origins)


def create_share_link(store: Store, site: str, label: str, created_by: str, embed_origins: tuple[str, ...] = ()) -> str:
    """Store a new link to site (framable on embed_origins) and return its token, which is not stored."""
    token = secrets.token_urlsafe(32)
    if embed_origins:
        EMBEDS.insert(store, token_hash=hash_token(token), origins=" ".join(embed_origins))
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
    rows = store.query(sql, {"site": site})
    embeds = _embeds(store, [row[0] for row in rows])
    return [ShareLink(h, s, label, by, created, embeds.get(h, ())) for h, s, label, by, created in rows]


def _embeds(store: Store, token_hashes: list[str]) -> dict[str, tuple[str, ...]]:
    """The embedding origins of some links, by token hash."""
    if not token_hashes:
        return {}
    rows = store.query(EMBEDS.latest("origins", where="token_hash IN %(h)s"), {"h": tuple(token_hashes)})
    return {token_hash: tuple(origins.split()) for token_hash, origins in rows}


def embed_origins_of(store: Store, token: str) -> tuple[str, ...]:
    """The origins that may frame a link, by its token (none for a link without a row)."""
    return _embeds(store, [hash_token(token)]).get(hash_token(token), ())


def site_of_token(store: Store, token: str) -> str | None:
    """The site a live token opens, or None."""
    rows = store.query(SHARE_LINKS.latest("site", "revoked", where="token_hash = %(h)s"), {"h": hash_token(token)})
    return rows[0][1] if rows and not rows[0][2] else None
