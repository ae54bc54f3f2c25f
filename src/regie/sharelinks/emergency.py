"""The emergency card: the essentials a patient chooses to carry (docs/share-links.md).

The card holds references to record items (resolved from the record when shown, so a
stopped medicine that was re-collected shows its current state) plus the patient's own
lines per section, an emergency contact and a note. All of it is one JSON document
encrypted under the user's data key, bound to the user (``regie-emergency-card|<user>``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from regie.sharelinks.selection import items_by_id
from regie.store.record import UserKeys
from regie.store.record_queries import Filters, RecordQueries, is_current
from regie.store.sharelinks_models import EmergencyCard
from regie.store.types import utcnow

#: The card's sections, each the record category it draws from.
SECTIONS = ("allergies", "medication", "problems", "directives")
#: Items offered per section on the edit page (current first); the newest.
CANDIDATES_PER_SECTION = 60
TEXT_MAX = 1000
FIELD_MAX = 120


class CardError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass
class CardContent:
    name: str = ""
    birth_date: str = ""
    items: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # section -> own lines
    contact_name: str = ""
    contact_relation: str = ""
    contact_phone: str = ""
    notes: str = ""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CardContent:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    @classmethod
    def build(cls, *, name: str, birth_date: str, items: list[str], extra: dict[str, str],
              contact_name: str, contact_relation: str, contact_phone: str, notes: str) -> CardContent:
        """Checked input from the edit form; raises :class:`CardError` naming the fields."""
        errors: dict[str, str] = {}
        singles = {"name": name, "birth_date": birth_date, "contact_name": contact_name,
                   "contact_relation": contact_relation, "contact_phone": contact_phone}
        clean = {key: " ".join((value or "").split()) for key, value in singles.items()}
        for key, value in clean.items():
            if len(value) > FIELD_MAX:
                errors[key] = "card-field-too-long"
        phone = clean["contact_phone"]
        if phone and (sum(ch.isdigit() for ch in phone) < 6
                      or any(not (ch.isdigit() or ch in "+-() ") for ch in phone)):
            errors["contact_phone"] = "card-phone-invalid"
        texts = {section: (extra.get(section) or "").strip() for section in SECTIONS}
        for section, text in texts.items():
            if len(text) > TEXT_MAX:
                errors[f"extra_{section}"] = "card-text-too-long"
        notes = (notes or "").strip()
        if len(notes) > TEXT_MAX:
            errors["notes"] = "card-text-too-long"
        chosen = list(dict.fromkeys(i for i in items if len(i) == 32 and i.isalnum()))[:200]
        if errors:
            raise CardError(errors)
        return cls(clean["name"], clean["birth_date"], chosen, {k: v for k, v in texts.items() if v},
                   clean["contact_name"], clean["contact_relation"], phone, notes)


@dataclass
class ResolvedCard:
    """The card as shown: record items per section (still in the record) and own lines."""

    content: CardContent
    sections: dict[str, list[dict[str, Any]]]
    lines: dict[str, list[str]]

    @property
    def is_empty(self) -> bool:
        return not (any(self.sections.values()) or any(self.lines.values()) or self.content.contact_name
                    or self.content.contact_phone or self.content.notes)


def _aad(user_id: str) -> bytes:
    return f"regie-emergency-card|{user_id}".encode()


class EmergencyCards:
    def load(self, session: Session, keys: UserKeys) -> CardContent | None:
        row = session.scalar(select(EmergencyCard).where(EmergencyCard.user_id == keys.user_id))
        if row is None:
            return None
        return CardContent.from_json(orjson.loads(keys.cipher.decrypt(row.content_encrypted, _aad(keys.user_id))))

    def save(self, session: Session, keys: UserKeys, content: CardContent) -> None:
        blob = keys.cipher.encrypt(orjson.dumps(content.to_json()), _aad(keys.user_id))
        row = session.scalar(select(EmergencyCard).where(EmergencyCard.user_id == keys.user_id))
        if row is None:
            session.add(EmergencyCard(user_id=keys.user_id, content_encrypted=blob, updated_at=utcnow()))
        else:
            row.content_encrypted = blob
            row.updated_at = utcnow()

    def resolve(self, content: CardContent, queries: RecordQueries) -> ResolvedCard:
        found = items_by_id(queries, content.items)
        sections = {section: [i for i in found if i.get("category") == section] for section in SECTIONS}
        lines = {section: [line.strip() for line in content.extra.get(section, "").splitlines() if line.strip()]
                 for section in SECTIONS}
        return ResolvedCard(content, sections, lines)

    def candidates(self, queries: RecordQueries) -> dict[str, list[dict[str, Any]]]:
        """What the edit page offers per section: things that still apply first, then the rest."""
        offered: dict[str, list[dict[str, Any]]] = {}
        for section in SECTIONS:
            current, _ = queries.items(Filters(category=section, status="current"), limit=CANDIDATES_PER_SECTION)
            rest, _ = queries.items(Filters(category=section, status="past"), limit=CANDIDATES_PER_SECTION)
            offered[section] = current + rest
        return offered

    def suggested(self, candidates: dict[str, list[dict[str, Any]]]) -> list[str]:
        """A first card: every current allergy, medicine and wish/warning (problems are left to the patient)."""
        return [i["id"] for section in ("allergies", "medication", "directives")
                for i in candidates.get(section, ()) if is_current(i)]
