"""Dashboard users: e-mail, argon2id password hash and role, stored in ClickHouse."""

import re
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage.local_changes import LocalChanges
from storage.store import Store
from storage.versioned import VersionedTable

USERS = VersionedTable("users", key="email")
# Every write of a user row (password, role, removal, creation) by e-mail, for this process's session cache.
USER_CHANGES = LocalChanges()
ROLES = ("admin", "viewer")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]+$")
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("no user has this password")


@dataclass(frozen=True)
class User:
    """A dashboard user."""

    email: str
    role: str
    password_hash: str = ""
    version: int = 0  # of the newest row: a session is valid only while it is the one it was issued for

    @property
    def is_admin(self) -> bool:
        """True for admins, who manage sites, users, API keys and share links."""
        return self.role == "admin"


def normalise_email(email: str) -> str:
    """Trimmed, lower-cased e-mail address; raise ValueError if it does not look like one."""
    value = email.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError(f"not an e-mail address: {email!r}")
    return value


def check_password(password: str) -> None:
    """Raise ValueError for a password that is too short or too long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")


def _write(store: Store, email: str, password_hash: str, role: str, deleted: bool = False) -> None:
    """Insert a new version of a user row, which ends the sessions issued for the older ones."""
    USERS.insert(
        store, email=email, password_hash=password_hash, role=role, created_at=int(time.time()), deleted=int(deleted)
    )
    USER_CHANGES.announce(email)


def get_user(store: Store, email: str) -> User | None:
    """The live user with this e-mail, or None."""
    address = email.strip().lower()
    sql = USERS.latest("role", "password_hash", "deleted", "max(version)", where="email = %(e)s")
    rows = store.query(sql, {"e": address})
    if not rows or rows[0][3]:
        return None
    return User(address, rows[0][1], rows[0][2], int(rows[0][4]))


def list_users(store: Store) -> list[User]:
    """Every live user, by e-mail."""
    rows = store.query(USERS.latest("role", "deleted", order_by="email"))
    return [User(email, role) for email, role, deleted in rows if not deleted]


def add_user(store: Store, email: str, password: str, role: str) -> User:
    """Create a user; raise ValueError if the e-mail exists or the role or password is invalid."""
    address = normalise_email(email)
    if role not in ROLES:
        raise ValueError(f"the role must be one of {', '.join(ROLES)}")
    check_password(password)
    if get_user(store, address) is not None:
        raise ValueError(f"{address} already exists")
    _write(store, address, _hasher.hash(password), role)
    return User(address, role)


def set_password(store: Store, email: str, password: str) -> None:
    """Replace a password (which ends the user's sessions); raise ValueError for an unknown user or a weak one."""
    user = get_user(store, email)
    if user is None:
        raise ValueError(f"no user {email!r}")
    check_password(password)
    _write(store, user.email, _hasher.hash(password), user.role)


def set_role(store: Store, email: str, role: str) -> None:
    """Change a user's role (which ends their sessions); raise ValueError for an unknown user or role."""
    user = get_user(store, email)
    if user is None:
        raise ValueError(f"no user {email!r}")
    if role not in ROLES:
        raise ValueError(f"the role must be one of {', '.join(ROLES)}")
    if role != user.role:
        _write(store, user.email, user.password_hash, role)


def remove_user(store: Store, email: str) -> None:
    """Delete a user (which ends their sessions)."""
    user = get_user(store, email)
    if user is None:
        raise ValueError(f"no user {email!r}")
    _write(store, user.email, "", user.role, deleted=True)


def authenticate(store: Store, email: str, password: str) -> User | None:
    """The user whose e-mail and password match, or None; always spends one argon2 verification."""
    try:
        user = get_user(store, normalise_email(email))
    except ValueError:
        user = None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return None
    return user
