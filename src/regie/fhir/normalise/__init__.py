"""FHIR resource (validated dict) -> record items.

Category by profile first, then by resource type and codes (categorise.py); the fields
come from a mapper per resource type (mappers.py). A resource type nobody mapped is kept
as an item of category ``other`` with its narrative text: nothing is dropped.
"""

from __future__ import annotations

from typing import Any

from regie.record import Category, RecordItem

from ..narrative import narrative_html
from ..version import FhirVersion
from . import common as cm
from .categorise import category_of
from .labels import (
    PREFERRED_SUBKIND_TITLE_NL,
    PROFILE_SUBKIND,
    SUBKIND_TITLE_NL,
    TYPE_TITLE_NL,
)
from .mappers import DETAILED, MAPPERS, generic


def normalise(res: dict[str, Any], version: FhirVersion) -> tuple[RecordItem, ...]:
    """The record items of one resource (currently always exactly one)."""
    rtype = res["resourceType"]
    names = cm.profile_names(res)
    category = category_of(res, names)
    mapper = MAPPERS.get(rtype, generic)
    fields = mapper(res, category)
    subkind = fields.pop("kind", None) or next(
        (PROFILE_SUBKIND[n] for n in names if n in PROFILE_SUBKIND), None)
    kind = f"{rtype}/{subkind}" if subkind else rtype
    title = PREFERRED_SUBKIND_TITLE_NL.get(subkind or "") or fields.pop("title", None) or SUBKIND_TITLE_NL.get(subkind or "") or \
        TYPE_TITLE_NL.get(rtype, rtype)
    fields.pop("title", None)
    narrative = narrative_markup = None
    if rtype not in DETAILED or category is Category.OTHER:
        narrative = cm.narrative_text(res)
        narrative_markup = narrative_html(res) if narrative else None
    fields["codes"] = tuple(fields.get("codes", ()))
    fields["links"] = tuple(fields.get("links", ()))
    fields["details"] = tuple(fields.get("details", ()))
    return (RecordItem(
        kind=kind, category=category, title=str(title), resource_type=rtype,
        resource_id=res.get("id"), profile=cm.first_profile(res), narrative=narrative,
        narrative_html=narrative_markup,
        **fields,
    ),)
