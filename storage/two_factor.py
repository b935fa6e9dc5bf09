"""Two-factor login: TOTP secrets (RFC 6238, via pyotp) and hashed one-time recovery codes."""

import datetime as dt
import hashlib
import hmac
import secrets
import time

import pyotp

from storage.store import Store
from storage.users import User, update_user

RECOVERY_CODES = 10
ISSUER = "Teller"


def new_secret() -> str:
    """A random base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def matched_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code this is: the current one, or the one before or after (clock drift); else None."""
    digits = "".join(code.split())
    if not secret or len(digits) != 6 or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    moment = time.time() if now is None else now
    current = totp.timecode(dt.datetime.fromtimestamp(moment, dt.UTC))
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def spend_code(store: Store, email: str, secret: str, code: str, now: float | None = None) -> bool:
    """True, once, for a valid code of the secret: a code already used by email, or older than one used, is refused.

    Each attempt writes its own row and then reads the rows of this step and later ones: it wins only when
    it finds none but its own. Of two attempts at once with the same code at most one wins (both lose when
    each sees the other's row, and the user types the next code); no transaction is needed.
    """
    step = matched_step(secret, code, now)
    if step is None:
        return False
    claimant = secrets.token_hex(16)
    store.insert(
        "totp_used_steps",
        ["email", "step", "claimant", "used_at"],
        [[email], [step], [claimant], [int(time.time() if now is None else now)]],
    )
    rows = store.query(
        "SELECT claimant FROM totp_used_steps WHERE email = %(e)s AND step >= %(s)s LIMIT 2",
        {"e": email, "s": step},
    )
    return [row[0] for row in rows] == [claimant]


def _hash_code(code: str) -> str:
    """Hex SHA-256 of a recovery code without spaces or dashes, in lower case."""
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def new_recovery_codes() -> list[str]:
    """Fresh recovery codes as shown to the user: xxxxx-xxxxx, 50 bits each."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def enable_two_factor(store: Store, user: User, secret: str, codes: list[str]) -> None:
    """Turn two-factor login on with a confirmed secret (which ends the user's other sessions)."""
    update_user(store, user, totp_secret=secret, recovery_hashes=",".join(_hash_code(c) for c in codes))


def disable_two_factor(store: Store, user: User) -> None:
    """Turn two-factor login off (which ends the user's sessions)."""
    update_user(store, user, totp_secret="", recovery_hashes="")


def use_recovery_code(store: Store, user: User, code: str) -> bool:
    """True and spend the code when it is one of the user's unused recovery codes."""
    if not code or len(code) > 64:
        return False
    wanted = _hash_code(code)
    hashes = [h for h in user.recovery_hashes.split(",") if h]
    matched = [h for h in hashes if hmac.compare_digest(h, wanted)]
    if not matched:
        return False
    update_user(store, user, recovery_hashes=",".join(h for h in hashes if h != matched[0]))
    return True
