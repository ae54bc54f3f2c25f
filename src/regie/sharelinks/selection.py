"""What a share link shows: categories with a period, single items, the emergency card.

A selection is stored (encrypted) as a small JSON document and resolved against the
record each time the link is opened, so the recipient sees the record as it is now,
within what the patient chose, and nothing once the link is revoked or expired.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from regie.record import Category
from regie.store.record_models import RecordResource
from regie.store.record_queries import _COLUMNS, STATUS_CATEGORIES, Filters, RecordQueries

#: Categories a patient can share, in the order the page shows them. Personal details are
#: left out: the page names the patient anyway, and a BSN should not travel in a link.
SHAREABLE = tuple(c.value for c in Category if c not in (Category.PATIENT, Category.OTHER))
#: Periods: "current" (things that still apply) only where a status means something.
PERIODS = ("current", "90d", "365d", "all")
PERIOD_DAYS = {"90d": 90, "365d": 365}
#: At most this many items per category on the page (the newest); the page says so when cut.
MAX_PER_SECTION = 200
MAX_ITEMS = 100


class SelectionError(ValueError):
    """The form asked for nothing, or for something that is not offered."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Selection:
    categories: dict[str, str] = field(default_factory=dict)  # category -> period
    items: tuple[str, ...] = ()
    emergency_card: bool = False

    def is_empty(self) -> bool:
        return not (self.categories or self.items or self.emergency_card)

    def to_json(self) -> dict[str, Any]:
        return {"categories": dict(self.categories), "items": list(self.items),
                "emergency_card": self.emergency_card}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Selection:
        return cls(dict(data.get("categories", {})), tuple(data.get("items", ())),
                   bool(data.get("emergency_card")))

    @classmethod
    def build(cls, categories: dict[str, str], items: list[str], emergency_card: bool) -> Selection:
        """Checked input from a form or the API; raises :class:`SelectionError`."""
        chosen: dict[str, str] = {}
        for category, period in categories.items():
            if not period:
                continue
            if category not in SHAREABLE or period not in PERIODS:
                raise SelectionError("share-selection-invalid")
            if period == "current" and category not in STATUS_CATEGORIES:
                period = "all"
            chosen[category] = period
        clean_items = tuple(dict.fromkeys(i for i in items if i))
        if len(clean_items) > MAX_ITEMS or any(len(i) != 32 or not i.isalnum() for i in clean_items):
            raise SelectionError("share-selection-invalid")
        selection = cls(chosen, clean_items, emergency_card)
        if selection.is_empty():
            raise SelectionError("share-selection-empty")
        return selection


@dataclass
class Section:
    category: str
    period: str | None  # None: single items the patient picked
    items: list[dict[str, Any]]
    more: bool = False


def filters_for(category: str, period: str, now: datetime) -> Filters:
    if period == "current":
        return Filters(category=category, status="current")
    if period in PERIOD_DAYS:
        since = (now - timedelta(days=PERIOD_DAYS[period])).strftime("%Y-%m-%d")
        return Filters(category=category, since=since)
    return Filters(category=category)


def resolve(selection: Selection, queries: RecordQueries, now: datetime) -> list[Section]:
    """The sections of the shared page, read from the record now."""
    sections: list[Section] = []
    for category in SHAREABLE:
        period = selection.categories.get(category)
        if period is None:
            continue
        filters = filters_for(category, period, now)
        if category == "documents":
            filters.resource_types = ("DocumentReference",)
        items, cursor = queries.items(filters, limit=MAX_PER_SECTION)
        sections.append(Section(category, period, items, more=cursor is not None))
    if selection.items:
        picked = items_by_id(queries, list(selection.items))
        shown = {i["id"] for s in sections for i in s.items}
        extra = [i for i in picked if i["id"] not in shown]
        if extra or not picked:  # none left: say so, rather than show an empty page
            sections.append(Section("", None, extra))
    return sections


def items_by_id(queries: RecordQueries, ids: list[str]) -> list[dict[str, Any]]:
    """Items by row id (only the user's own: the repository scopes the query), newest first.
    Ids of items that are gone (deleted, or another user's) are skipped."""
    if not ids:
        return []
    repo = queries.repo
    rows = repo.session.execute(repo._select_ids(RecordResource, ids, *_COLUMNS)).all()
    pairs = [(row, repo._decrypt_record(row.id, row.version, row.record_encrypted)) for row in rows]
    pairs.sort(key=lambda pair: (pair[0].sort_date, pair[0].id), reverse=True)
    return queries.present(pairs)


def patient_details(queries: RecordQueries) -> tuple[str, str | None]:
    """(name, birth date text) from the newest Patient resource, or ('', None)."""
    items, _ = queries.items(Filters(category="patient", resource_types=("Patient",)), limit=1)
    if not items:
        return "", None
    return items[0].get("title") or "", items[0].get("date")
