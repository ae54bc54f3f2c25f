"""Tables for accounts and security. Record tables arrive with the health record.

Every table that holds a user's data carries ``user_id`` (see docs/storage.md).
Secrets are stored hashed (tokens, recovery codes) or encrypted with the
user's data key (TOTP secrets); nothing here is medical.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from regie.store.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """Random, unguessable ids: a leaked id says nothing and can't be enumerated."""
    return secrets.token_hex(16)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    wrapped_data_key: Mapped[bytes] = mapped_column(LargeBinary)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _user_fk() -> Mapped[str]:
    return mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True)


# Citus readiness (docs/scale.md): every user-data table's primary key is (user_id, id),
# the distribution column first. ``id`` alone is still unique in practice (128 random
# bits); tables whose rows are loaded with ``session.get(Model, id)`` keep ``id`` as the
# ORM identity through ``__mapper_args__`` (their flushes are then by id alone).


class TotpFactor(Base):
    __tablename__ = "totp_factors"
    __table_args__ = (PrimaryKeyConstraint("user_id", "id"),)

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = _user_fk()
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The last accepted 30-second step: a code is never accepted twice.
    last_used_step: Mapped[int] = mapped_column(Integer, default=0)


class Passkey(Base):
    __tablename__ = "passkeys"
    # A log-in looks the credential up before the user is known: indexed, unique per user.
    __table_args__ = (PrimaryKeyConstraint("user_id", "id"), UniqueConstraint("user_id", "credential_id"),
                      Index("ix_passkeys_credential_id", "credential_id"))

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = _user_fk()
    credential_id: Mapped[bytes] = mapped_column(LargeBinary)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"
    __table_args__ = (PrimaryKeyConstraint("user_id", "id"),)

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = _user_fk()
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebSession(Base):
    """A browser session. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie token
    user_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=True
    )
    # anonymous -> second_factor (password ok) -> full; or enrol (must add a 2FA first)
    stage: Mapped[str] = mapped_column(String(20), default="anonymous")
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    step_up_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    # Short-lived ceremony state (WebAuthn challenge, pending TOTP enrolment id).
    scratch: Mapped[str] = mapped_column(Text, default="{}")


class SecurityEvent(Base):
    __tablename__ = "security_events"
    __table_args__ = (PrimaryKeyConstraint("user_id", "id"), Index("ix_security_events_user_at", "user_id", "at"),)

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[str] = mapped_column(String(200), default="")


class Throttle(Base):
    """Failure counters for brute-force protection, per account and per address."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EmailToken(Base):
    """A link sent by e-mail: continue a registration, or reset a password.

    Only the SHA-256 of the token is stored; the plain token exists in the e-mail alone.
    Looked up by that hash before anyone is logged in, so it stays local like
    ``web_sessions`` (docs/scale.md). ``user_id`` is empty for a registration (no account
    yet); ``email`` is the address the link was sent to.
    """

    __tablename__ = "email_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    purpose: Mapped[str] = mapped_column(String(16))  # "register" or "reset"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    user_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A reset's new password (Argon2 hash), waiting for the second factor before it counts.
    new_password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(20), default="user")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# The health record tables register on the same metadata (migrations, tests).
from regie.store import record_models  # noqa: E402,F401
# Global MedMij list state (one row per list kind).
from regie.store import medmij_models  # noqa: E402,F401
# Collections from MedMij providers and long-lived consents.
from regie.store import collect_models  # noqa: E402,F401
# Notes on record items and calendar feed tokens (the user's own data).
from regie.store import owndata_models  # noqa: E402,F401
# The background job queue.
from regie.store import jobs_models  # noqa: E402,F401
# Sends to care providers (MedMij delen).
from regie.store import share_models  # noqa: E402,F401
# Questionnaire tasks from care providers (service 906) and their authorizations.
from regie.store import questionnaire_models  # noqa: E402,F401
# Delegations (machtigen) and records managed by parents.
from regie.store import delegation_models  # noqa: E402,F401
# Share links for a doctor and the emergency card.
from regie.store import sharelinks_models  # noqa: E402,F401
# Indexes for the periodic clean-up (regie.jobs.cleanup).
from regie.store import cleanup_indexes  # noqa: E402,F401
