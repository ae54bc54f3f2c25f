"""Personal notes on record items: visible only to the owner, stored encrypted.

A note belongs to one record item (any category, any source). The text is encrypted
with the user's data key; the associated data binds it to user, note and item, so a
blob copied to another row or user does not decrypt.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from regie.store.models import new_id
from regie.store.owndata_models import RecordNote
from regie.store.record import RecordRepository
from regie.store.types import utcnow

MAX_LENGTH = 5000


@dataclass
class Note:
    id: str
    item_id: str
    text: str
    created_at: datetime
    updated_at: datetime


def _aad(user_id: str, note_id: str, item_id: str) -> bytes:
    return f"regie-note|{user_id}|{note_id}|{item_id}".encode()


def notes_for(repo: RecordRepository, item_id: str) -> list[Note]:
    rows = repo.session.scalars(
        select(RecordNote).where(RecordNote.user_id == repo.user_id, RecordNote.resource_id == item_id)
        .order_by(RecordNote.created_at, RecordNote.id)
    ).all()
    return [Note(r.id, r.resource_id, repo.keys.cipher.decrypt(r.text_encrypted, _aad(repo.user_id, r.id, item_id)).decode(),
                 r.created_at, r.updated_at) for r in rows]


def add_note(repo: RecordRepository, item_id: str, text: str) -> str | None:
    """Add a note; None when the item is not this user's."""
    if repo.get(item_id) is None:
        return None
    note_id = new_id()
    now = utcnow()
    repo.note_write(RecordNote)
    repo.session.add(RecordNote(
        id=note_id, user_id=repo.user_id, resource_id=item_id, created_at=now, updated_at=now,
        text_encrypted=repo.keys.cipher.encrypt(text.encode(), _aad(repo.user_id, note_id, item_id))))
    return note_id


def delete_note(repo: RecordRepository, item_id: str, note_id: str) -> bool:
    repo.note_write(RecordNote)
    result = repo.session.execute(delete(RecordNote).where(
        RecordNote.user_id == repo.user_id, RecordNote.resource_id == item_id, RecordNote.id == note_id))
    return bool(result.rowcount)


def note_counts(repo: RecordRepository, item_ids: list[str]) -> dict[str, int]:
    from sqlalchemy import func

    if not item_ids:
        return {}
    rows = repo.session.execute(
        select(RecordNote.resource_id, func.count()).where(
            RecordNote.user_id == repo.user_id, RecordNote.resource_id.in_(item_ids))
        .group_by(RecordNote.resource_id)).all()
    return {item_id: count for item_id, count in rows}
