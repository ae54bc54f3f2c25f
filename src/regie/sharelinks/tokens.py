"""The secret in a share link and the access code.

A link token is ``<user id>.<secret>``: the secret is 256 random bits (only its SHA-256 is
stored); the user id in front lets the lookup name ``user_id`` like every other query of
a user's data (docs/scale.md), and says nothing a recipient does not see on the page.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_USER_ID = re.compile(r"^[0-9a-f]{32}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{43}$")
CODE_DIGITS = 6


def new_token(user_id: str) -> tuple[str, str]:
    """(token for the URL, hash to store)."""
    secret = secrets.token_urlsafe(32)
    return f"{user_id}.{secret}", secret_hash(secret)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse(token: str) -> tuple[str, str] | None:
    """(user id, secret hash) of a well-formed token, else None."""
    user_id, _, secret = (token or "").partition(".")
    if not _USER_ID.match(user_id) or not _SECRET.match(secret):
        return None
    return user_id, secret_hash(secret)


def new_code() -> str:
    """Six digits: easy to read out over the phone; guessing is stopped by the lock (service)."""
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def same_code(given: str, expected: str) -> bool:
    given = "".join(ch for ch in (given or "") if ch.isdigit())
    return hmac.compare_digest(given.encode(), expected.encode())
