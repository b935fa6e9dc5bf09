"""Dashboard login sessions: a random id in the cookie, only its SHA-256 in ClickHouse."""

import hashlib
import secrets
import time
from dataclasses import dataclass

from storage.store import Store
from storage.versioned import VersionedTable, newest

SESSIONS = VersionedTable("dashboard_sessions", key="id_hash")


@dataclass(frozen=True)
class SessionRow:
    """A live session: whose it is, until when, and the version of the user row it was issued for."""

    email: str
    expires_at: int
    user_version: int = 0


def hash_session_id(session_id: str) -> str:
    """Hex SHA-256 of a session id; ids are 256-bit random, so a fast hash is enough."""
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def create_session(store: Store, email: str, lifetime: int, now: float | None = None, user_version: int = 0) -> str:
    """Store a new session for a version of a user row; return its id (the cookie value), which is not stored."""
    session_id = secrets.token_urlsafe(32)
    created = int(time.time() if now is None else now)
    SESSIONS.insert(
        store,
        id_hash=hash_session_id(session_id),
        email=email,
        created_at=created,
        expires_at=created + lifetime,
        revoked=0,
        user_version=user_version,
    )
    return session_id


def revoke_session(store: Store, session_id: str) -> None:
    """End a session (logout)."""
    now = int(time.time())
    SESSIONS.insert(store, id_hash=hash_session_id(session_id), email="", created_at=now, expires_at=now, revoked=1)


def find_session(store: Store, session_id: str, now: float | None = None) -> SessionRow | None:
    """The live, unexpired session with this id, or None."""
    expires = f"toUInt32({newest('expires_at')})"
    sql = SESSIONS.latest("email", expires, "revoked", "user_version", where="id_hash = %(h)s")
    rows = store.query(sql, {"h": hash_session_id(session_id)})
    if not rows or rows[0][3] or int(rows[0][2]) <= (time.time() if now is None else now):
        return None
    return SessionRow(rows[0][1], int(rows[0][2]), int(rows[0][4]))
