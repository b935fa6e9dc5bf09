"""Dashboard users: e-mail, argon2id password hash and role, stored in ClickHouse."""

import re
import time
from dataclasses import dataclass, replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage.local_changes import LocalChanges
from storage.store import Store
from storage.versioned import VersionedTable

USERS = VersionedTable("users", key="email")
# Every write of a user row (password, role, removal, creation) by e-mail, for this process's session cache.
USER_CHANGES = LocalChanges()
ROLES = ("admin", "viewer")
ALL_SITES = "*"
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
    site_access: str = ALL_SITES  # "*", or the comma-separated domains a viewer may see
    totp_secret: str = ""  # base32; "" while two-factor login is off
    recovery_hashes: str = ""  # comma-separated SHA-256 of the unused recovery codes

    @property
    def is_admin(self) -> bool:
        """True for admins, who manage sites, users, API keys and share links."""
        return self.role == "admin"

    @property
    def has_two_factor(self) -> bool:
        """True when logging in also takes a TOTP or recovery code."""
        return bool(self.totp_secret)

    def may_see(self, domain: str) -> bool:
        """True when the user may read this site's statistics: admins and unrestricted viewers see all."""
        return self.is_admin or self.site_access == ALL_SITES or domain in self.site_access.split(",")


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


def _write(store: Store, user: User, deleted: bool = False) -> None:
    """Insert a new version of a user row, which ends the sessions issued for the older ones."""
    USERS.insert(
        store,
        email=user.email,
        password_hash="" if deleted else user.password_hash,
        role=user.role,
        created_at=int(time.time()),
        deleted=int(deleted),
        site_access=user.site_access,
        totp_secret="" if deleted else user.totp_secret,
        recovery_hashes="" if deleted else user.recovery_hashes,
    )
    USER_CHANGES.announce(user.email)


def update_user(store: Store, user: User, **changes: str) -> None:
    """Write a new version of a live user with some fields changed (which ends their sessions)."""
    _write(store, replace(user, **changes))


def get_user(store: Store, email: str) -> User | None:
    """The live user with this e-mail, or None."""
    address = email.strip().lower()
    columns = ("role", "password_hash", "deleted", "max(version)", "site_access", "totp_secret", "recovery_hashes")
    rows = store.query(USERS.latest(*columns, where="email = %(e)s"), {"e": address})
    if not rows or rows[0][3]:
        return None
    _, role, password_hash, _, version, site_access, totp_secret, recovery_hashes = rows[0]
    return User(address, role, password_hash, int(version), site_access, totp_secret, recovery_hashes)


def list_users(store: Store) -> list[User]:
    """Every live user, by e-mail."""
    rows = store.query(USERS.latest("role", "deleted", "site_access", "totp_secret", order_by="email"))
    return [
        User(email, role, site_access=access, totp_secret="set" if secret else "")
        for email, role, deleted, access, secret in rows
        if not deleted
    ]


def add_user(store: Store, email: str, password: str, role: str, site_access: str = ALL_SITES) -> User:
    """Create a user; raise ValueError if the e-mail exists or the role or password is invalid."""
    address = normalise_email(email)
    if role not in ROLES:
        raise ValueError(f"the role must be one of {', '.join(ROLES)}")
    check_password(password)
    if get_user(store, address) is not None:
        raise ValueError(f"{address} already exists")
    user = User(address, role, _hasher.hash(password), site_access=site_access)
    _write(store, user)
    return user


def set_password(store: Store, email: str, password: str) -> None:
    """Replace a password (which ends the user's sessions); raise ValueError for an unknown user or a weak one."""
    user = get_user(store, email)
    if user is None:
        raise ValueError(f"no user {email!r}")
    check_password(password)
    _write(store, replace(user, password_hash=_hasher.hash(password)))


def set_role(store: Store, email: str, role: str) -> None:
    """Change a user's role (which ends their sessions); raise ValueError for an unknown user or role."""
    user = get_user(store, email)
    if user is None:
        raise ValueError(f"no user {email!r}")
    if role not in ROLES:
        raise ValueError(f"the role must be one of {', '.join(ROLES)}")
    if role != user.role:
        _write(store, replace(user, role=role))


def remove_user(store: Store, email: str) -> None:
    """Delete a user (which ends their sessions)."""
    user = get_user(store, email)
    if user is None:
        raise ValueError(f"no user {email!r}")
    _write(store, user, deleted=True)


def password_matches(user: User, password: str) -> bool:
    """True when password is the user's (one argon2 verification)."""
    try:
        return _hasher.verify(user.password_hash, password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return False


def has_users(store: Store) -> bool:
    """True once any live user exists."""
    return bool(list_users(store))


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
