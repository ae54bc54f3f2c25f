"""RecordItem <-> plain JSON-safe dicts (for storage and snapshot tests).

Decimals are written as strings so no precision is lost; values carry a ``type`` tag.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .categories import Category
from .dates import FhirDate
from .model import Coding, Component, Detail, Link, Quantity, RecordItem, ReferenceRange, Value


def _coding(c: Coding) -> dict[str, Any]:
    return {"system": c.system, "code": c.code, "display": c.display}


def _quantity(q: Quantity | None) -> dict[str, Any] | None:
    if q is None:
        return None
    return {"value": None if q.value is None else str(q.value), "unit": q.unit,
            "system": q.system, "code": q.code, "comparator": q.comparator}


def _date(d: FhirDate | None) -> str | None:
    return None if d is None else d.text


def _value(v: Value | None) -> dict[str, Any] | None:
    if v is None:
        return None
    if isinstance(v, Quantity):
        return {"type": "quantity", **(_quantity(v) or {})}
    if isinstance(v, Coding):
        return {"type": "coding", **_coding(v)}
    if isinstance(v, bool):
        return {"type": "boolean", "value": v}
    if isinstance(v, int):
        return {"type": "integer", "value": v}
    if isinstance(v, Decimal):
        return {"type": "decimal", "value": str(v)}
    if isinstance(v, FhirDate):
        return {"type": "date", "value": v.text}
    return {"type": "text", "value": v}


def item_to_dict(item: RecordItem) -> dict[str, Any]:
    """A JSON-safe dict holding every field of ``item``."""
    return {
        "kind": item.kind,
        "category": item.category.value,
        "title": item.title,
        "resource_type": item.resource_type,
        "resource_id": item.resource_id,
        "profile": item.profile,
        "status": item.status,
        "active": item.active,
        "attention": item.attention,
        "date": _date(item.date),
        "end": _date(item.end),
        "codes": [_coding(c) for c in item.codes],
        "value": _value(item.value),
        "components": [
            {"title": c.title, "codes": [_coding(x) for x in c.codes], "value": _value(c.value)}
            for c in item.components
        ],
        "reference_ranges": [
            {"low": _quantity(r.low), "high": _quantity(r.high), "text": r.text}
            for r in item.reference_ranges
        ],
        "interpretation": [_coding(c) for c in item.interpretation],
        "links": [{"relation": x.relation, "reference": x.reference, "display": x.display}
                  for x in item.links],
        "details": [{"label": d.label, "text": d.text} for d in item.details],
        "narrative": item.narrative,
        # Only when present, so items without one serialise as before.
        **({"narrative_html": item.narrative_html} if item.narrative_html else {}),
    }


def _coding_from(d: dict[str, Any]) -> Coding:
    return Coding(d.get("system"), d.get("code"), d.get("display"))


def _quantity_from(d: dict[str, Any] | None) -> Quantity | None:
    if d is None:
        return None
    value = d.get("value")
    return Quantity(None if value is None else Decimal(value), d.get("unit"), d.get("system"),
                    d.get("code"), d.get("comparator"))


def _date_from(text: str | None) -> FhirDate | None:
    return None if text is None else FhirDate.parse(text)


def _value_from(d: dict[str, Any] | None) -> Value | None:
    if d is None:
        return None
    kind = d["type"]
    if kind == "quantity":
        return _quantity_from(d)
    if kind == "coding":
        return _coding_from(d)
    if kind == "decimal":
        return Decimal(d["value"])
    if kind == "date":
        return FhirDate.parse(d["value"])
    value: Value = d["value"]
    return value


def item_from_dict(d: dict[str, Any]) -> RecordItem:
    """The inverse of :func:`item_to_dict`."""
    return RecordItem(
        kind=d["kind"], category=Category(d["category"]), title=d["title"],
        resource_type=d["resource_type"], resource_id=d.get("resource_id"),
        profile=d.get("profile"), status=d.get("status"), active=d.get("active"),
        attention=d.get("attention"), date=_date_from(d.get("date")),
        end=_date_from(d.get("end")),
        codes=tuple(_coding_from(c) for c in d.get("codes", ())),
        value=_value_from(d.get("value")),
        components=tuple(
            Component(c["title"], tuple(_coding_from(x) for x in c.get("codes", ())),
                      _value_from(c.get("value")))
            for c in d.get("components", ())
        ),
        reference_ranges=tuple(
            ReferenceRange(_quantity_from(r.get("low")), _quantity_from(r.get("high")),
                           r.get("text"))
            for r in d.get("reference_ranges", ())
        ),
        interpretation=tuple(_coding_from(c) for c in d.get("interpretation", ())),
        links=tuple(Link(x["relation"], x.get("reference"), x.get("display"))
                    for x in d.get("links", ())),
        details=tuple(Detail(x["label"], x["text"]) for x in d.get("details", ())),
        narrative=d.get("narrative"),
        narrative_html=d.get("narrative_html"),
    )
