"""What reading a FHIR file gives back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from regie.record import RecordItem

from .version import FhirVersion


@dataclass(frozen=True, slots=True)
class ContainedResource:
    """A contained resource: stored inside its parent's JSON, but readable on its own."""

    resource_type: str
    id: str | None
    data: dict[str, Any]
    items: tuple[RecordItem, ...]


@dataclass(frozen=True, slots=True)
class ParsedResource:
    """One validated resource of a file (a Bundle entry or the file's only resource).

    ``json`` is the canonical FHIR JSON of the resource (UTF-8, compact, element order
    as in the source, decimals exactly as given, contained resources inside); for XML
    input it is the converted JSON. Store ``json``: it is the original. ``data`` is the
    same content decoded (treat it as read-only). ``location`` says where the resource
    sits in the file (``$.entry[3].resource`` or ``line 120``).
    """

    resource_type: str
    id: str | None
    fhir_version: FhirVersion
    json: bytes
    data: dict[str, Any]
    items: tuple[RecordItem, ...]
    contained: tuple[ContainedResource, ...] = ()
    profiles: tuple[str, ...] = ()
    full_url: str | None = None
    search_mode: str | None = None
    location: str = "$"

    @property
    def reference(self) -> str | None:
        """``Type/id`` when the resource has an id."""
        return f"{self.resource_type}/{self.id}" if self.id else None


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """Every resource found in one file, in file order; Bundles are split into entries.

    ``source`` holds the bytes as received (for XML input this is the original XML).
    """

    name: str
    format: Literal["json", "xml"]
    fhir_version: FhirVersion
    bundle_type: str | None
    resources: tuple[ParsedResource, ...]
    source: bytes

    def items(self) -> Iterator[tuple[ParsedResource, RecordItem]]:
        """All record items with the resource they came from."""
        for res in self.resources:
            for item in res.items:
                yield res, item

    def counts(self) -> Counter[str]:
        """Number of (top-level) resources per resource type."""
        return Counter(r.resource_type for r in self.resources)
