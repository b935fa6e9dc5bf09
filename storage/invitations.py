"""Invitations to the dashboard: a one-time link whose token is stored only as a SHA-256."""

import hashlib
import secrets
import time
from dataclasses import dataclass

from storage.store import Store
from storage.users import ALL_SITES, ROLES, get_user, normalise_email
from storage.versioned import VersionedTable

INVITATIONS = VersionedTable("invitations", key="token_hash")
INVITATION_SECONDS = 7 * 86_400


@dataclass(frozen=True)
class Invitation:
    """Who is invited, with which role and sites, by whom, until when."""

    token_hash: str
    email: str
    role: str
    site_access: str
    created_by: str
    expires_at: int


def hash_invitation(token: str) -> str:
    """Hex SHA-256 of an invitation token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_invitation(
    store: Store,
    email: str,
    role: str,
    created_by: str,
    site_access: str = ALL_SITES,
    now: float | None = None,
    reset: bool = False,
) -> str:
    """Store an invitation (or, with reset, a link for an existing user's new password); return its token."""
    address = normalise_email(email)
    if role not in ROLES:
        raise ValueError(f"the role must be one of {', '.join(ROLES)}")
    if (get_user(store, address) is not None) != reset:
        raise ValueError(f"{address} already has an account" if not reset else f"no user {address}")
    token = secrets.token_urlsafe(32)
    created = int(time.time() if now is None else now)
    INVITATIONS.insert(
        store,
        token_hash=hash_invitation(token),
        email=address,
        role=role,
        site_access=site_access,
        created_by=created_by,
        created_at=created,
        expires_at=created + INVITATION_SECONDS,
        used=0,
    )
    return token


def _rows(store: Store, where: str, params: dict) -> list[Invitation]:
    """Live (unused, unexpired) invitations matching where."""
    columns = ("email", "role", "site_access", "created_by", "toUInt32(argMax(expires_at, version))", "used")
    sql = INVITATIONS.latest(*columns, where=where, order_by="token_hash")
    now = time.time()
    return [
        Invitation(str(h), email, role, access, by, int(expires))
        for h, email, role, access, by, expires, used in store.query(sql, params)
        if not used and int(expires) > now
    ]


def find_invitation(store: Store, token: str) -> Invitation | None:
    """The live invitation a token opens, or None."""
    if not token or len(token) > 200:
        return None
    found = _rows(store, "token_hash = %(h)s", {"h": hash_invitation(token)})
    return found[0] if found else None


def list_invitations(store: Store) -> list[Invitation]:
    """Every live invitation."""
    return _rows(store, "1 = 1", {})


def close_invitation(store: Store, invitation: Invitation) -> None:
    """Mark an invitation used (accepted or withdrawn): its link opens nothing any more."""
    now = int(time.time())
    INVITATIONS.insert(
        store,
        token_hash=invitation.token_hash,
        email=invitation.email,
        role=invitation.role,
        site_access=invitation.site_access,
        created_by=invitation.created_by,
        created_at=now,
        expires_at=invitation.expires_at,
        used=1,
    )
