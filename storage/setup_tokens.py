"""The one-time setup token of the first run: printed by `teller serve`, only its SHA-256 stored."""

import hashlib
import hmac
import secrets
import time

from storage.dashboard_options import SETUP_DONE, get_option, set_option
from storage.store import Store
from storage.users import has_users

# A token printed at one start stays usable this long (the first run may take a while, or a restart).
TOKEN_SECONDS = 7 * 86_400


def _hash(token: str) -> str:
    """Hex SHA-256 of a token; tokens are 128-bit random, so a fast hash is enough."""
    return hashlib.sha256(token.strip().encode("utf-8", "surrogatepass")).hexdigest()


def setup_open(store: Store) -> bool:
    """True while the first admin account can still be created: no user exists and setup never finished."""
    return not has_users(store) and get_option(store, SETUP_DONE) != "1"


def issue_setup_token(store: Store, now: float | None = None) -> str:
    """A new setup token (stored as a hash); the caller shows it to the operator and nowhere else."""
    raw = secrets.token_hex(8)
    token = f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}-{raw[12:]}"
    created = int(time.time() if now is None else now)
    store.insert("setup_tokens", ["token_hash", "created_at"], [[_hash(token)], [created]])
    return token


def setup_token_valid(store: Store, token: str, now: float | None = None) -> bool:
    """True for a token issued in the last TOKEN_SECONDS while setup is still open."""
    if not token or len(token) > 100:
        return False
    since = int(time.time() if now is None else now) - TOKEN_SECONDS
    rows = store.query("SELECT token_hash FROM setup_tokens WHERE created_at >= toDateTime(%(s)s)", {"s": since})
    wanted = _hash(token)
    # Compared one by one in constant time, so the answer's timing says nothing of the stored hashes.
    return any(hmac.compare_digest(str(row[0]), wanted) for row in rows) and setup_open(store)


def finish_setup(store: Store) -> None:
    """Close the first run for good: the setup page and every token stop working."""
    set_option(store, SETUP_DONE, "1")
