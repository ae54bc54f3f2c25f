"""From the delegation rows and a child's age to a :class:`~regie.access.policy.Grant`.

Read on every request that acts on a record (nothing is cached in the session), so a
revoked or expired delegation stops working at once, open sessions included.
"""
from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from regie.access.ages import AgeBand, band_of
from regie.access.policy import ALL_CATEGORIES, EVERYTHING, Action, Grant, Role
from regie.store.crypto import KeyRing
from regie.store.delegation_models import Delegation, ManagedRecord
from regie.store.models import User

# A child of 12 to 16 with an own login: sees everything and who has access, adds own
# data; the parents manage the record (invitations, collecting, sending, export).
CHILD_INVOLVED = frozenset({Action.READ, Action.ADD, Action.AUDIT, Action.SHARING})
# A parent whose child of 16+ said "you may keep access": helps like a caregiver.
PARENT_KEPT = frozenset({Action.READ, Action.ADD, Action.COLLECT})
# A parent whose child turned 16 and has no login yet: may only hand the record over.
PARENT_HANDOVER = frozenset({Action.SHARING, Action.HANDOVER})


def birth_aad(user_id: str) -> bytes:
    return f"regie-managed|{user_id}|birth_date".encode()


def name_aad(user_id: str) -> bytes:
    return f"regie-managed|{user_id}|name".encode()


def birth_date_of(keyring: KeyRing, owner: User, managed: ManagedRecord) -> date:
    cipher = keyring.user_cipher(owner.id, owner.wrapped_data_key)
    return date.fromisoformat(cipher.decrypt(managed.birth_date_encrypted, birth_aad(owner.id)).decode())


def parse_categories(value: str) -> frozenset[str] | None:
    names = json.loads(value or "[]")
    if "*" in names:
        return None
    return frozenset(names) & ALL_CATEGORIES


def dump_categories(categories: frozenset[str] | set[str] | None) -> str:
    return json.dumps(["*"] if categories is None else sorted(set(categories) & ALL_CATEGORIES))


def active(row: Delegation, now: datetime) -> bool:
    return (row.delegate_user_id is not None and row.accepted_at is not None and row.revoked_at is None
            and (row.valid_until is None or row.valid_until > now))


def own_grant(keyring: KeyRing, owner: User, managed: ManagedRecord | None, today: date) -> Grant:
    """What a person may do on their own record, from rows the caller already read (the web
    layer loads them with the session): :func:`grant_for` with ``actor`` the owner."""
    return _own(owner.id, band_of(birth_date_of(keyring, owner, managed), today) if managed is not None else None)


def _own(owner_id: str, band: AgeBand | None) -> Grant:
    if band is not None and band is not AgeBand.FROM_16:
        return Grant(owner_id, owner_id, Role.OWNER, CHILD_INVOLVED, reason="child-12-16")
    return Grant(owner_id, owner_id, Role.OWNER, EVERYTHING)


def grant_for(session: Session, keyring: KeyRing, actor: User, owner_id: str, now: datetime,
              today: date) -> Grant | None:
    """What ``actor`` may do on the record of ``owner_id`` now; None: nothing at all."""
    owner = actor if actor.id == owner_id else session.get(User, owner_id)
    if owner is None:
        return None
    managed = session.scalar(select(ManagedRecord).where(ManagedRecord.user_id == owner_id))
    band = band_of(birth_date_of(keyring, owner, managed), today) if managed is not None else None
    if actor.id == owner_id:
        return _own(owner_id, band)
    rows = session.scalars(
        select(Delegation).where(Delegation.user_id == owner_id, Delegation.delegate_user_id == actor.id,
                                 Delegation.revoked_at.is_(None))
        .order_by(Delegation.created_at.desc())
    ).all()
    row = next((r for r in rows if active(r, now)), None)
    if row is None:
        return None
    if row.kind == Role.PARENT and managed is not None:
        return _parent_grant(row, managed, band, actor.id)
    actions = set()
    categories = parse_categories(row.categories)
    if categories is None or categories:
        actions.add(Action.READ)
    if row.can_add:
        actions.add(Action.ADD)
    if row.can_collect:
        actions.add(Action.COLLECT)
    return Grant(owner_id, actor.id, Role.CAREGIVER, frozenset(actions), categories, row.id)


def _parent_grant(row: Delegation, managed: ManagedRecord, band: AgeBand | None, actor_id: str) -> Grant | None:
    owner_id = row.user_id
    if band is AgeBand.UNDER_12:
        return Grant(owner_id, actor_id, Role.PARENT, EVERYTHING, None, row.id, "under-12")
    if band is AgeBand.FROM_12:
        return Grant(owner_id, actor_id, Role.PARENT, EVERYTHING, None, row.id, "12-16")
    # 16 or older: the child decides.
    if row.kept_at is not None:
        return Grant(owner_id, actor_id, Role.PARENT, PARENT_KEPT, None, row.id, "16-kept")
    if managed.claimed_at is None:
        return Grant(owner_id, actor_id, Role.PARENT, PARENT_HANDOVER, None, row.id, "16-handover")
    return None
