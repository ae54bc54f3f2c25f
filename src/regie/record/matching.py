"""Conservative keys for grouping "the same thing reported by several sources".

Rules (also in docs/record.md):

* Only results, vital signs, immunizations, medication, allergies and problems
  (conditions) get a key; every other item returns None and is never grouped.
* A key needs a code: the preferred coding of the item (LOINC, SNOMED CT, G-Standaard,
  ATC, ICPC, then any other, in that order), with well-known OID forms of a system
  mapped to their URL form. No code -> no key.
* Results and vital signs also need a date of at least minute precision (compared in
  UTC) and a value (normalised number + unit, or the code/text value; components are
  included). The exact same measurement at the same minute with the same value is
  the same result; anything else stays apart.
* Immunizations need the day of administration. Medication needs its kind (agreement,
  dispense, use, administration are different things) and the start day. Allergies and
  problems include the onset/start day when given (missing day stays part of the key).
* When in doubt the item gets no key: grouping too little is harmless, grouping two
  different things hides information from the patient.
"""

from __future__ import annotations

from decimal import Decimal

from .categories import Category
from .dates import FhirDate
from .model import Coding, Quantity, RecordItem, Value

_SYSTEM_ALIASES = {
    "urn:oid:2.16.840.1.113883.6.1": "http://loinc.org",
    "urn:oid:2.16.840.1.113883.6.96": "http://snomed.info/sct",
    "urn:oid:2.16.840.1.113883.6.73": "http://www.whocc.no/atc",
    "urn:oid:2.16.840.1.113883.6.8": "http://unitsofmeasure.org",
    "urn:oid:2.16.840.1.113883.2.4.4.5": "http://hl7.org/fhir/sid/icpc-1-nl",
}

_PREFERRED = (
    "http://loinc.org",
    "http://snomed.info/sct",
    "urn:oid:2.16.840.1.113883.2.4.4.7",  # G-Standaard HPK
    "urn:oid:2.16.840.1.113883.2.4.4.10",  # G-Standaard PRK
    "urn:oid:2.16.840.1.113883.2.4.4.1",  # G-Standaard GPK
    "urn:oid:2.16.840.1.113883.2.4.4.8",  # G-Standaard ZI-nummer
    "http://www.whocc.no/atc",
    "http://hl7.org/fhir/sid/icpc-1-nl",
)

_KEYED = {
    Category.RESULTS, Category.VITAL_SIGNS, Category.IMMUNIZATIONS,
    Category.MEDICATION, Category.ALLERGIES, Category.PROBLEMS,
}


def normalise_system(system: str | None) -> str:
    """The URL form of a code system, lower-cased and stripped ('' if missing)."""
    s = (system or "").strip()
    return _SYSTEM_ALIASES.get(s, s).lower().rstrip("/")


def preferred_coding(codes: tuple[Coding, ...]) -> Coding | None:
    """The coding used for matching: the most preferred system, ties by sort order."""
    usable = [c for c in codes if c.code and c.code.strip() and c.system]
    if not usable:
        return None

    def rank(c: Coding) -> tuple[int, str, str]:
        system = normalise_system(c.system)
        order = _PREFERRED.index(system) if system in _PREFERRED else len(_PREFERRED)
        return (order, system, (c.code or "").strip())

    return min(usable, key=rank)


def _code_part(codes: tuple[Coding, ...]) -> str | None:
    c = preferred_coding(codes)
    if c is None:
        return None
    return f"{normalise_system(c.system)}#{(c.code or '').strip()}"


def _number(value: Decimal) -> str:
    # 1.50 and 1.5 are the same amount; normalize() drops trailing zeros.
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _value_part(value: Value | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, Quantity):
        if value.value is None:
            return None
        unit = (value.code or value.unit or "").strip()
        return f"q:{value.comparator or ''}{_number(value.value)}:{unit}"
    if isinstance(value, Coding):
        code = _code_part((value,))
        return f"c:{code}" if code else (f"t:{value.display.strip().lower()}" if value.display else None)
    if isinstance(value, bool):
        return f"b:{value}"
    if isinstance(value, int):
        return f"i:{value}"
    if isinstance(value, Decimal):
        return f"n:{_number(value)}"
    if isinstance(value, FhirDate):
        return f"d:{value.sort_key}"
    text = " ".join(str(value).split()).lower()
    return f"t:{text}" if text else None


def _day(date: FhirDate | None) -> str:
    if date is None or date.precision in ("year", "month"):
        return date.text if date else ""
    return date.text[:10]


def match_key(item: RecordItem) -> str | None:
    """A grouping key for ``item``, or None if it must never be grouped with others."""
    if item.category not in _KEYED:
        return None
    code = _code_part(item.codes)
    if code is None:
        return None
    cat = item.category.value
    if cat in ("results", "vital_signs"):
        if item.date is None or item.date.precision not in ("minute", "second"):
            return None
        when = item.date.sort_key[:16]  # UTC, to the minute
        values = [_value_part(item.value)] if item.value is not None else []
        for comp in item.components:
            comp_code = _code_part(comp.codes)
            comp_value = _value_part(comp.value)
            if comp_code is None or comp_value is None:
                return None
            values.append(f"{comp_code}={comp_value}")
        if not values or any(v is None for v in values):
            return None
        return "|".join([cat, code, when, *sorted(v for v in values if v)])
    if cat == "immunizations":
        if item.date is None or item.date.precision == "year" or item.date.precision == "month":
            return None
        return f"{cat}|{code}|{_day(item.date)}"
    if cat == "medication":
        if item.date is None:
            return None
        return f"{cat}|{item.kind}|{code}|{_day(item.date)}"
    # allergies and problems: EpisodeOfCare and Flag items are not conditions
    if item.resource_type not in ("Condition", "AllergyIntolerance"):
        return None
    return f"{cat}|{code}|{_day(item.date)}"
