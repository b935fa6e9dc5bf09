"""API keys for the stats API: only a SHA-256 of each key is stored."""

import hashlib
import hmac
import secrets
import time

from storage.local_changes import LocalChanges
from storage.store import Store
from storage.versioned import VersionedTable

KEY_PREFIX = "tlr_"
API_KEYS = VersionedTable("api_keys", key="key_hash")
# Every revocation by key hash, for this process's key cache.
KEY_REVOCATIONS = LocalChanges()


def hash_key(key: str) -> str:
    """Hex SHA-256 of a key; keys are 256-bit random, so a fast hash is enough."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def create_api_key(store: Store, name: str) -> str:
    """Create, store (hashed) and return a new key; the key itself is never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    API_KEYS.insert(store, key_hash=hash_key(key), name=name, created_at=int(time.time()), revoked=0)
    return key


def revoke_api_key(store: Store, key_hash: str) -> None:
    """Revoke a key by its hash (at once in this process, within the key cache's age elsewhere)."""
    API_KEYS.insert(store, key_hash=key_hash, name="", created_at=int(time.time()), revoked=1)
    KEY_REVOCATIONS.announce(key_hash)


def list_api_keys(store: Store) -> list[tuple[str, str, str]]:
    """(hash prefix, name, created) of every live key."""
    rows = store.query(API_KEYS.latest("name", "min(created_at)", "revoked", order_by="min(created_at)"))
    return [(key_hash[:12], name, created) for key_hash, name, created, revoked in rows if not revoked]


def live_key_hashes(store: Store) -> set[str]:
    """Hashes of every key that is not revoked."""
    rows = store.query(API_KEYS.latest("revoked"))
    return {key_hash for key_hash, revoked in rows if not revoked}


def key_is_valid(key: str, live_hashes: set[str]) -> bool:
    """Check a presented key against the live hashes with constant-time comparisons."""
    presented = hash_key(key)
    found = False
    for stored in live_hashes:
        found |= hmac.compare_digest(presented, stored)
    return found


def key_is_live(store: Store, key_hash: str) -> bool:
    """Ask ClickHouse whether one key hash exists and is not revoked."""
    rows = store.query(API_KEYS.latest("revoked", where="key_hash = %(h)s"), {"h": key_hash})
    return bool(rows) and not rows[0][1]
