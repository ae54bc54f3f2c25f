"""Questionnaire tasks from care providers (MedMij service 906), see docs/share.md.

* ``questionnaire_tasks``: one row per Task a provider asked the user to fill in. The
  Task, its Questionnaire and the provider's address are encrypted under the user's data
  key (AAD ``regie-qtask|<user>|<row>|content``), the draft answers likewise (``|draft``).
  ``task_key`` is a SHA-256 of user, provider and the provider's Task id, so fetching
  again finds the same row without storing the id in the clear.
* ``questionnaire_access``: one authorization at a provider to read and accept tasks
  (scope ``<provider>~906``): the SHA-256 of the OAuth ``state``, the PKCE verifier and,
  after the callback, the access token, both encrypted, the token only until it expires.

Plain columns hold no medical content: provider, states, times, ids.
Primary keys are ``(user_id, id)`` and every query names the user, except one: the OAuth
callback finds its authorization by the state's hash alone (the state is all it has; as
for sends), through a plain, non-unique index.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, PrimaryKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from regie.store.models import Base, new_id
from regie.store.types import UTCDateTime, utcnow

TASK_STATES = ("new", "accepted", "sent", "gone")


class QuestionnaireTask(Base):
    __tablename__ = "questionnaire_tasks"
    __table_args__ = (PrimaryKeyConstraint("user_id", "id"), UniqueConstraint("user_id", "task_key"),
                      Index("ix_questionnaire_tasks_user_updated", "user_id", "updated_at"))

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(200))  # Zorgaanbiedernaam
    task_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="new")
    content_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    draft_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    send_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuestionnaireAccess(Base):
    __tablename__ = "questionnaire_access"
    __table_args__ = (PrimaryKeyConstraint("user_id", "id"),
                      Index("ix_questionnaire_access_state_hash", "state_hash"),
                      Index("ix_questionnaire_access_user_provider", "user_id", "provider"))

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(20))  # "fetch" or "accept"
    task_row: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending, done, failed
    session_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verifier_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    correlation_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    authorize_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
