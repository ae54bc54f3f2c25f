"""Children's records a leaving parent takes along (docs/leaving.md).

A record a parent made for a child (``managed_records``) has no login of its own until the
child claims it. When the last parent who can reach it deletes their account, nobody
could ever reach it again: it is erased with the parent's account (the page says so and
offers the export first). A child's record that another parent can still reach, or that
the child reaches with an own login, stays.
"""
from __future__ import annotations

from sqlalchemy import select

from regie.store.db import Database
from regie.store.delegation_models import Delegation, ManagedRecord


def orphaned_by(db: Database, user_id: str) -> list[str]:
    """Ids of the children's records only this user can reach."""
    with db.session() as session:
        children = session.scalars(
            select(Delegation.user_id).where(Delegation.delegate_user_id == user_id, Delegation.kind == "parent",
                                             Delegation.revoked_at.is_(None))
        ).all()
        orphaned = []
        for child_id in dict.fromkeys(children):
            managed = session.scalar(select(ManagedRecord).where(ManagedRecord.user_id == child_id))
            if managed is None or managed.claimed_at is not None:
                continue  # a normal account (or the child logs in itself): it stays
            others = session.scalar(
                select(Delegation.id).where(Delegation.user_id == child_id, Delegation.kind == "parent",
                                            Delegation.revoked_at.is_(None), Delegation.accepted_at.is_not(None),
                                            Delegation.delegate_user_id.is_not(None),
                                            Delegation.delegate_user_id != user_id).limit(1))
            if others is None:
                orphaned.append(child_id)
        return orphaned
