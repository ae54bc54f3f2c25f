"""Typed record items: what Regie shows, searches and groups, independent of FHIR."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from .categories import Category
from .dates import FhirDate


@dataclass(frozen=True, slots=True)
class Coding:
    """One code from a code system (SNOMED CT, LOINC, G-Standaard, ICPC ...)."""

    system: str | None
    code: str | None
    display: str | None = None


@dataclass(frozen=True, slots=True)
class Quantity:
    """A measured amount. ``value`` keeps the decimal precision given by the source."""

    value: Decimal | None
    unit: str | None = None
    system: str | None = None
    code: str | None = None
    comparator: str | None = None

    def text(self) -> str:
        """Human text, e.g. ``< 5.0 mmol/L``."""
        parts = [self.comparator or "", str(self.value) if self.value is not None else ""]
        number = "".join(parts)
        unit = self.unit or self.code or ""
        return f"{number} {unit}".strip()


#: The value of an observation or component.
Value = Quantity | Coding | str | bool | int | Decimal | FhirDate


@dataclass(frozen=True, slots=True)
class Component:
    """One part of a multi-part result (systolic/diastolic of a blood pressure, ...)."""

    title: str
    codes: tuple[Coding, ...] = ()
    value: Value | None = None


@dataclass(frozen=True, slots=True)
class ReferenceRange:
    """Normal range of a result. Either bound may be missing; ``text`` is free text."""

    low: Quantity | None = None
    high: Quantity | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Link:
    """A reference from this item to another resource.

    ``reference`` is the FHIR reference as given (``Encounter/123``, ``urn:uuid:...``,
    ``#contained-id``, or an absolute URL); the store resolves it within the same source.
    ``relation`` is one of the names in :data:`LINK_RELATIONS`.
    """

    relation: str
    reference: str | None
    display: str | None = None


LINK_RELATIONS = frozenset({
    "subject", "encounter", "episode", "condition", "medication", "request", "specimen",
    "binary", "performer", "author", "requester", "organization", "location", "member",
    "based_on", "part_of", "related", "detail", "participant", "focus", "device", "goal",
    "questionnaire", "context",
})


@dataclass(frozen=True, slots=True)
class Detail:
    """A labelled line of extra information, in Dutch, for display (``Dosering: ...``)."""

    label: str
    text: str


@dataclass(frozen=True, slots=True)
class RecordItem:
    """One normalised entry of the health record, derived from one FHIR resource.

    ``kind`` is the resource type, optionally with a sub-kind after a slash
    (``Observation/blood-pressure``, ``Observation/journal-E``, ``EpisodeOfCare/gp-episode``).
    ``date`` is the clinically relevant date (or start), ``end`` the end of a period.
    ``active`` is True/False where the source says whether it still applies (problems,
    episodes, allergies, medication), else None. ``attention`` is the GP attention flag.
    ``narrative`` holds the plain text of the resource narrative for items we could not
    map in detail (category ``other``) so nothing is ever lost; ``narrative_html`` the same
    narrative as markup already sanitised (regie.fhir.narrative), for display.
    """

    kind: str
    category: Category
    title: str
    resource_type: str
    resource_id: str | None = None
    profile: str | None = None
    status: str | None = None
    active: bool | None = None
    attention: bool | None = None
    date: FhirDate | None = None
    end: FhirDate | None = None
    codes: tuple[Coding, ...] = ()
    value: Value | None = None
    components: tuple[Component, ...] = ()
    reference_ranges: tuple[ReferenceRange, ...] = ()
    interpretation: tuple[Coding, ...] = ()
    links: tuple[Link, ...] = ()
    details: tuple[Detail, ...] = ()
    narrative: str | None = None
    narrative_html: str | None = None

    def link(self, relation: str) -> Link | None:
        """The first link with this relation, if any."""
        for link in self.links:
            if link.relation == relation:
                return link
        return None

    @property
    def sort_key(self) -> str:
        """Chronological sort key ('' when undated)."""
        return self.date.sort_key if self.date else ""
