"""API keys for the stats API: only a SHA-256 of each key is stored."""

import hashlib
import hmac
import secrets
import time

from storage.store import Store

KEY_PREFIX = "tlr_"


def hash_key(key: str) -> str:
    """Hex SHA-256 of a key; keys are 256-bit random, so a fast hash is enough."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def create_api_key(store: Store, name: str) -> str:
    """Create, store (hashed) and return a new key; the key itself is never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    store.insert(
        "api_keys",
        ["key_hash", "name", "created_at", "revoked", "version"],
        [[hash_key(key)], [name], [int(time.time())], [0], [time.time_ns()]],
    )
    return key


def revoke_api_key(store: Store, key_hash: str) -> None:
    """Revoke a key by its hash."""
    store.insert(
        "api_keys",
        ["key_hash", "name", "created_at", "revoked", "version"],
        [[key_hash], [""], [int(time.time())], [1], [time.time_ns()]],
    )


def list_api_keys(store: Store) -> list[tuple[str, str, str]]:
    """(hash prefix, name, created) of every live key."""
    rows = store.query(
        "SELECT key_hash, argMax(name, version), min(created_at), argMax(revoked, version) "
        "FROM api_keys GROUP BY key_hash ORDER BY min(created_at)"
    )
    return [(key_hash[:12], name, created) for key_hash, name, created, revoked in rows if not revoked]


def live_key_hashes(store: Store) -> set[str]:
    """Hashes of every key that is not revoked."""
    rows = store.query("SELECT key_hash, argMax(revoked, version) FROM api_keys GROUP BY key_hash")
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
    rows = store.query(
        "SELECT argMax(revoked, version) FROM api_keys WHERE key_hash = %(h)s GROUP BY key_hash", {"h": key_hash}
    )
    return bool(rows) and not rows[0][0]
