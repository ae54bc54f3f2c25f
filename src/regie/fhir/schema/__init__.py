"""Element tables of FHIR STU3 and R4, generated from fhir.resources (see _generate.py).

One table per version says, for every resource and data type, which elements exist,
whether they repeat, their type, whether they are required and their value[x] group.
Both the XML->JSON converter and the fast validator are driven by these tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from ..version import FhirVersion


@dataclass(frozen=True, slots=True)
class ElementDef:
    """One element of a type: ``kind`` is 'p' (primitive), 'c' (complex) or 'r' (resource)."""

    name: str
    kind: str
    type: str
    is_list: bool
    required: bool
    choice: str | None


@dataclass(frozen=True, slots=True)
class Schema:
    version: FhirVersion
    source: str
    resources: frozenset[str]
    types: dict[str, dict[str, ElementDef]]


# Known differences between R4 (4.0.1, what Dutch R4 data uses) and R4B (4.3.0, what
# fhir.resources ships). Each entry adds the R4 element R4B dropped or renamed.
_R4_OVERLAY: dict[str, dict[str, list[object]]] = {}

# Required elements that real MedMij qualification data leaves out. Accepting them is a
# deliberate, documented leniency (docs/record.md): Regie must import what the Nictiz
# reference data contains. Task.status is missing in the Questionnaires 2.0 "minimum"
# QuestionnaireProvisioningTask.
_NOT_REQUIRED: frozenset[tuple[str, str]] = frozenset({("Task", "status")})


@cache
def load_schema(version: FhirVersion) -> Schema:
    """The element table of ``version`` (read once, then cached)."""
    fname = "stu3.json" if version is FhirVersion.STU3 else "r4.json"
    raw = json.loads(files(__package__).joinpath(fname).read_text(encoding="utf-8"))
    if version is FhirVersion.R4:
        for tname, extra in _R4_OVERLAY.items():
            raw["types"].setdefault(tname, {}).update(extra)
    types = {
        tname: {name: ElementDef(name, *spec) for name, spec in fields.items()}
        for tname, fields in raw["types"].items()
    }
    for tname, name in _NOT_REQUIRED:
        el = types[tname][name]
        types[tname][name] = ElementDef(el.name, el.kind, el.type, el.is_list, False, el.choice)
    return Schema(version, raw["source"], frozenset(raw["resources"]), types)
