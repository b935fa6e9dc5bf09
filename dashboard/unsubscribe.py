"""Signed unsubscribe links: a token binds site, kind and address, so a link works without logging in."""

import hashlib
import hmac
from urllib.parse import urlencode

SECRET_NAME = "reports"


def unsubscribe_token(secret: bytes, site: str, kind: str, address: str) -> str:
    """The HMAC-SHA256 of one subscription, hex."""
    message = f"unsubscribe\t{site}\t{kind}\t{address}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def token_valid(secret: bytes, site: str, kind: str, address: str, token: str) -> bool:
    """True when token was made for this subscription with this secret."""
    return bool(token) and hmac.compare_digest(unsubscribe_token(secret, site, kind, address), token)


def unsubscribe_url(base_url: str, secret: bytes, site: str, kind: str, address: str) -> str:
    """The link an e-mail carries."""
    query = urlencode(
        {"site": site, "kind": kind, "address": address, "token": unsubscribe_token(secret, site, kind, address)}
    )
    return f"{base_url.rstrip('/')}/reports/unsubscribe?{query}"
