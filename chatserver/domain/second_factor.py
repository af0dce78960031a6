"""The second factor of staff accounts: TOTP codes from a secret derived per account, and one-time recovery codes.

The TOTP secret is never stored: it is derived from the server key, the account id and a stored nonce (a new
nonce is a new secret), so the database alone cannot produce codes. Recovery codes are shown once at enrolment;
only their keyed hashes are kept. Whether a code was used before is the service's question (it needs storage).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp

TOTP_ISSUER = "GEM community"
TOTP_WINDOW = 1  # one step either side: clocks drift, people type slowly
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or typed from paper
RECOVERY_SHAPE = re.compile(r"[a-z2-9]{4}-[a-z2-9]{4}")


def new_recovery_codes(n: int = RECOVERY_CODES) -> list[str]:
    """Codes shown once at enrolment; only their keyed hashes are stored, and each works once."""
    pick = secrets.choice
    return ["-".join("".join(pick(RECOVERY_ALPHABET) for _ in range(4)) for _ in range(2)) for _ in range(n)]


def clean_code(code: str | None) -> str:
    """What the person typed, without spaces (authenticator apps show ``123 456``)."""
    return str(code or "").strip().replace(" ", "")


def looks_like_recovery_code(clean: str) -> bool:
    return RECOVERY_SHAPE.fullmatch(clean.lower()) is not None


def totp_secret(secret_key: bytes, account_id: str, nonce: str) -> str:
    """The base32 TOTP secret of an account (the same for the same nonce)."""
    raw = hmac.new(secret_key, f"totp\x00{account_id}\x00{nonce}".encode(), hashlib.sha256).digest()
    return base64.b32encode(raw[:20]).decode()


def provisioning_uri(secret: str, pseudonym: str) -> str:
    """The ``otpauth://`` address an authenticator app scans."""
    return str(pyotp.TOTP(secret).provisioning_uri(name=pseudonym, issuer_name=TOTP_ISSUER))


def code_at(secret: str, when: datetime) -> str:
    """The code of that moment."""
    return str(pyotp.TOTP(secret).at(when))


def code_matches(secret: str, code: str, when: datetime) -> bool:
    """A right code for this moment or the step either side (whether it was used before is not asked here)."""
    return bool(pyotp.TOTP(secret).verify(code, for_time=when, valid_window=TOTP_WINDOW))
