"""Single-use links sent by e-mail: continue a registration, reset a password.

The plain token goes into the e-mail only; the database keeps its SHA-256. A link works
until it expires or is used, and a newer link of the same kind for the same address
replaces the older ones (the newest e-mail is the one that counts).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from regie.store.models import EmailToken

REGISTER = "register"
RESET = "reset"
PURPOSES = (REGISTER, RESET)
# Used and expired rows are kept this long (a reused link can still say "already used").
_KEEP_AFTER = timedelta(days=2)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, purpose: str, email: str, user_id: str | None, lifetime: timedelta,
          now: datetime) -> str:
    """A new link token (plain, for the e-mail); older unused links of this kind for this address stop working."""
    assert purpose in PURPOSES
    session.execute(delete(EmailToken).where(
        EmailToken.purpose == purpose, EmailToken.email == email, EmailToken.used_at.is_(None)))
    session.execute(delete(EmailToken).where(EmailToken.expires_at < now - _KEEP_AFTER))
    token = secrets.token_urlsafe(32)
    session.add(EmailToken(purpose=purpose, token_hash=token_hash(token), email=email, user_id=user_id,
                           created_at=now, expires_at=now + lifetime))
    session.flush()
    return token


def find(session: Session, purpose: str, token: str) -> EmailToken | None:
    """The link's row, used or not, or None for an unknown token or another kind of link."""
    if not token or len(token) > 100:
        return None
    return session.scalar(select(EmailToken).where(
        EmailToken.token_hash == token_hash(token), EmailToken.purpose == purpose))


def usable(session: Session, purpose: str, token_id: str, now: datetime, *, lock: bool = False) -> EmailToken | None:
    """The row by id while it still works (unused, not expired); locked for the caller's transaction when asked."""
    query = select(EmailToken).where(
        EmailToken.id == token_id, EmailToken.purpose == purpose, EmailToken.used_at.is_(None),
        EmailToken.expires_at > now)
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def state(row: EmailToken | None, now: datetime) -> str:
    """"ok", "used", "expired" or "unknown": what a page tells the person who opened the link."""
    if row is None:
        return "unknown"
    if row.used_at is not None:
        return "used"
    if row.expires_at <= now:
        return "expired"
    return "ok"


def forget_for_user(session: Session, user_id: str, purpose: str = RESET) -> None:
    """Unused links of a user stop working (after a password change or reset)."""
    session.execute(delete(EmailToken).where(
        EmailToken.user_id == user_id, EmailToken.purpose == purpose, EmailToken.used_at.is_(None)))
