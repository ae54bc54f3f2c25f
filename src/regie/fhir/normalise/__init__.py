"""FHIR resource (validated dict) -> record items."""

from __future__ import annotations

from typing import Any

from regie.record import Category, RecordItem

from ..version import FhirVersion


def normalise(res: dict[str, Any], version: FhirVersion) -> tuple[RecordItem, ...]:
    rtype = res["resourceType"]
    return (RecordItem(kind=rtype, category=Category.OTHER, title=rtype, resource_type=rtype,
                       resource_id=res.get("id")),)
