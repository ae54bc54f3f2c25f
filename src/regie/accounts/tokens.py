"""Personal API tokens for scripts and apps: shown once, stored as a hash."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from regie.accounts import activity
from regie.accounts.activity import ClientInfo
from regie.accounts.errors import ValidationFailed
from regie.store.models import ApiToken, User
from regie.store.types import utcnow

PREFIX = "regie_pat_"
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: str
    name: str
    token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(session: Session, user_id: str, name: str, client: ClientInfo, created_by: str = "user") -> IssuedToken:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": "token-name-required"})
    if len(name) > MAX_NAME:
        raise ValidationFailed({"name": "token-name-too-long"})
    raw = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user_id, name=name, token_hash=token_hash(raw), created_by=created_by)
    session.add(row)
    session.flush()
    activity.record(session, user_id, "token-created", client, name)
    return IssuedToken(row.id, name, raw)


def list_for(session: Session, user_id: str) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc())
        )
    )


def revoke(session: Session, user_id: str, token_id: str, client: ClientInfo) -> bool:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    activity.record(session, user_id, "token-revoked", client, row.name)
    return True


def authenticate(session: Session, raw: str) -> User | None:
    """The user a bearer token belongs to, or None; notes the time of use."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(raw)))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        row.last_used_at = now
    return session.get(User, row.user_id)
