"""Visitor ids: a keyed hash of (daily salt, site, IP prefix, user agent); no cookie, no stored IP."""

import hashlib


def visitor_id(salt: bytes, site: str, ip_prefix: str, user_agent: str) -> int:
    """64-bit keyed BLAKE2b; it cannot be recomputed once the day's salt is deleted."""
    data = f"{site}\x1f{ip_prefix}\x1f{user_agent}".encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, key=salt, digest_size=8).digest(), "big")
