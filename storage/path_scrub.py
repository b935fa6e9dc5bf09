"""Personal data in page paths: e-mail addresses and long digit runs are replaced before a path is stored."""

import re

# A path segment part with text on both sides of an "@" (or its %40 encoding) is taken as an e-mail address.
_EMAIL = re.compile(r"[^/?#;=&@]+(?:@|%40)[^/?#;=&@]+")
# Seven or more digits in a row: phone numbers (8 digits here), national identity numbers (11), card and
# account numbers. Shorter runs (years, dates, article numbers, ids of small tables) stay.
_DIGITS = re.compile(r"\d{7,}")


def scrub_path(path: str) -> str:
    """The path with e-mail addresses as [email] and digit runs of 7 or more as [number]."""
    if "@" in path or "%40" in path:
        path = _EMAIL.sub("[email]", path)
    if any(ch.isdigit() for ch in path):
        path = _DIGITS.sub("[number]", path)
    return path
