"""Delegations (machtigingen) and records managed by parents, see docs/delegation.md.

``delegations``: one row per person who may act on someone else's record. ``user_id`` is
the owner of the record (the primary key starts with it, like every table with a user's
data); ``delegate_user_id`` is the helper's own account once the invitation was accepted.
The invitation token is stored only as its SHA-256. The invitee's e-mail address and the
name the owner gave them are encrypted with the owner's data key; plain columns hold only
what the policy needs on every request (scopes, dates), nothing medical.

``managed_records``: a record without its own login (a child's), created by a parent. Name
and birth date are encrypted with the child's data key. The child can later claim it with
an own login (from 12), which makes the child a normal user.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from regie.store.models import Base, new_id
from regie.store.types import UTCDateTime, utcnow

DELEGATION_KINDS = ("caregiver", "parent")


class Delegation(Base):
    __tablename__ = "delegations"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id"),
        Index("ix_delegations_delegate", "delegate_user_id"),
        Index("ix_delegations_token_hash", "token_hash"),
    )

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    delegate_user_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    kind: Mapped[str] = mapped_column(String(10))  # caregiver | parent
    # JSON list of category names the delegate may read; ["*"] for all.
    categories: Mapped[str] = mapped_column(Text, default="[]")
    can_add: Mapped[bool] = mapped_column(Boolean, default=False)
    can_collect: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # {"email": …, "name": …} encrypted under the owner's data key, bound to the row.
    label_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    invite_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(32))  # the account that made the invitation
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A child of 16 or older said the parent may keep access (WGBO: the child decides).
    kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ManagedRecord(Base):
    __tablename__ = "managed_records"
    __table_args__ = (PrimaryKeyConstraint("user_id"),)

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    name_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    birth_date_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The child's own login: an invitation (hash only) and when it was taken up.
    claim_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
