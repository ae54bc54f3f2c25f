"""Generate the compact FHIR element tables (stu3.json, r4.json) from fhir.resources.

Development tool only: run ``python -m regie.fhir.schema._generate`` after upgrading
fhir.resources. Runtime code reads the generated JSON and never imports fhir.resources,
because importing all of its pydantic models takes seconds and hundreds of MB.

Table format (per version)::

    {"version": "STU3", "source": "fhir.resources 8.3.0 STU3",
     "resources": [names...],
     "types": {TypeName: {json_name: [kind, type, is_list, required, choice_group]}}}

kind is "p" (primitive; type is the FHIR primitive name), "c" (complex; type is a key of
"types") or "r" (any resource). choice_group is the name of a value[x] group or null.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import typing
from pathlib import Path
from typing import Any

_PRIMITIVE_META = {
    "Id": "id", "Uri": "uri", "Code": "code", "DateTime": "dateTime", "Instant": "instant",
    "Date": "date", "String": "string", "Integer": "integer", "Decimal": "decimal",
    "Time": "time", "Markdown": "markdown", "Base64Binary": "base64Binary",
    "UnsignedInt": "unsignedInt", "PositiveInt": "positiveInt", "Oid": "oid", "Uuid": "uuid",
    "Canonical": "canonical", "Url": "url", "Xhtml": "xhtml", "Integer64": "integer64", "UuidVersion": "uuid",
}


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """Strip Optional/List; return (inner annotation, is_list)."""
    is_list = False
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, __import__("types").UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0]
            continue
        if origin in (list, typing.List):
            is_list = True
            annotation = typing.get_args(annotation)[0]
            continue
        return annotation, is_list


def _describe(annotation: Any) -> tuple[str, str]:
    if annotation is bool:
        return "p", "boolean"
    if typing.get_origin(annotation) is typing.Annotated:
        for meta in typing.get_args(annotation)[1:]:
            name = type(meta).__name__ if not isinstance(meta, type) else meta.__name__
            if name in _PRIMITIVE_META:
                return "p", _PRIMITIVE_META[name]
        base = typing.get_args(annotation)[0]
        raise ValueError(f"unknown primitive annotation {annotation!r} ({base})")
    if hasattr(annotation, "get_model_klass"):
        klass = annotation.get_model_klass()
        if klass.__name__ in ("Resource", "DomainResource"):
            return "r", "Resource"
        return "c", klass.__name__
    if annotation in _PRIMITIVE_CLASSES:
        return "p", _PRIMITIVE_CLASSES[annotation]
    raise ValueError(f"unknown annotation {annotation!r}")


_PRIMITIVE_CLASSES: dict[Any, str] = {}


def build(package: str) -> dict[str, Any]:
    pkg = importlib.import_module(package)
    resource_base = importlib.import_module(f"{package}.resource").Resource
    types: dict[str, dict[str, list[Any]]] = {}
    resources: set[str] = set()
    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name.startswith("_") or mod.name in ("fhirtypes", "fhirtypesvalidators"):
            continue
        module = importlib.import_module(f"{package}.{mod.name}")
        for obj in vars(module).values():
            if not isinstance(obj, type) or not hasattr(obj, "model_fields"):
                continue
            if obj.__module__ != module.__name__ or obj.__name__ in types:
                continue
            if obj.__name__ in ("FHIRAbstractModel", "Resource", "DomainResource"):
                continue
            fields: dict[str, list[Any]] = {}
            for name, field in obj.model_fields.items():
                alias = field.alias or name
                if alias.startswith("_") or name == "fhir_comments":
                    continue  # primitive extension slots are handled generically
                inner, is_list = _unwrap(field.annotation)
                kind, tname = _describe(inner)
                extra = field.json_schema_extra or {}
                required = bool(field.is_required() or extra.get("element_required"))
                fields[alias] = [kind, tname, is_list, required, extra.get("one_of_many")]
            types[obj.__name__] = fields
            if issubclass(obj, resource_base):
                resources.add(obj.__name__)
    return {"resources": sorted(resources), "types": dict(sorted(types.items()))}


def main() -> None:
    from importlib.metadata import version

    out = Path(__file__).parent
    for package, label, fname in (
        ("fhir.resources.STU3", "STU3", "stu3.json"),
        ("fhir.resources.R4B", "R4", "r4.json"),
    ):
        table = build(package)
        table = {"version": label,
                 "source": f"fhir.resources {version('fhir.resources')} {package.rsplit('.', 1)[1]}",
                 **table}
        (out / fname).write_text(json.dumps(table, separators=(",", ":")) + "\n")
        print(fname, len(table["resources"]), "resources", len(table["types"]), "types")


if __name__ == "__main__":
    main()
