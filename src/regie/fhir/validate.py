"""Fast structural validation of FHIR JSON with msgspec Structs built from the schema.

Why: fhir.resources (pydantic) validates ~3,000 resources/s, too slow for ingest. Here
every FHIR type becomes a msgspec Struct with ``forbid_unknown_fields``; msgspec checks
element names, JSON types, cardinality (list vs single, no empty lists), required
elements, nulls, and primitive formats (regex for id, code, date, dateTime with timezone
rules, instant, time, oid, uuid) in C. ``__post_init__`` hooks add what msgspec cannot
express: at most one element of a value[x] group and required primitives that may be
given as value or as ``_element``. Required code bindings Regie displays are checked in
:mod:`regie.fhir.bindings` afterwards.
"""

from __future__ import annotations

import keyword
import sys
import types
from functools import cache
from typing import Annotated, Any

import msgspec

from .schema import ElementDef, load_schema
from .version import FhirVersion

_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[12][0-9]|3[01])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_TZ = r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"

_PATTERNS = {
    "id": r"^[A-Za-z0-9\-\.]{1,64}$",
    "code": r"^[^\s]+( [^\s]+)*$",
    "date": rf"^{_YEAR}(-{_MONTH}(-{_DAY})?)?$",
    "dateTime": rf"^{_YEAR}(-{_MONTH}(-{_DAY}(T{_TIME}{_TZ})?)?)?$",
    "instant": rf"^{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_TZ}$",
    "time": rf"^{_TIME}$",
    "oid": r"^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$",
    "uuid": r"^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "uri": r"^\S+$",
    "url": r"^\S+$",
    "canonical": r"^\S+$",
    "base64Binary": r"^[A-Za-z0-9+/=\s]+$",
    "xhtml": r"^\s*<div[\s>/]",
}

_INT32 = {"ge": -(2**31), "le": 2**31 - 1}

#: FHIR: "Strings SHALL NOT exceed 1MB in size" (all string-based types except base64Binary,
#: which carries documents, and the xhtml narrative; the file size limit bounds those).
MAX_STRING = 1024 * 1024
_UNBOUNDED = frozenset({"base64Binary", "xhtml"})


def _primitive(fhir_type: str) -> Any:
    if fhir_type == "boolean":
        return bool
    if fhir_type == "integer":
        return Annotated[int, msgspec.Meta(**_INT32)]
    if fhir_type == "unsignedInt":
        return Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
    if fhir_type == "positiveInt":
        return Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    if fhir_type == "integer64":
        return int
    if fhir_type == "decimal":
        return float  # JSON number only: a string "72" is a FHIR error
    limit = {} if fhir_type in _UNBOUNDED else {"max_length": MAX_STRING}
    pattern = _PATTERNS.get(fhir_type)
    if pattern is not None:
        return Annotated[str, msgspec.Meta(pattern=pattern, **limit)]
    return Annotated[str, msgspec.Meta(min_length=1, **limit)]  # string, markdown


def _pyname(name: str) -> str:
    return f"{name}_" if keyword.iskeyword(name) or name.startswith("_") else name


def _post_init(required: tuple[tuple[str, str, str], ...],
               groups: tuple[tuple[str, tuple[str, ...]], ...]) -> Any:
    """The ``__post_init__`` of one Struct, generated as straight-line code.

    It runs for most elements of every resource, so it avoids loops and temporary lists
    on the success path (about 4x faster than a generic loop); errors are worded by
    :func:`_group_error`.
    """
    lines = ["def __post_init__(self):"]
    for attr, ext_attr, json_name in required:
        lines.append(f"    if self.{attr} is unset and getattr(self, {ext_attr!r}, unset) is unset:")
        lines.append(f"        raise ValueError({f'required element `{json_name}` is missing'!r})")
    for i, (_group, attrs) in enumerate(groups):
        count = " + ".join(f"(self.{a} is not unset)" for a in attrs)
        lines.append(f"    if {count} > 1:")
        lines.append(f"        _group_error(self, *groups[{i}])")
    if len(lines) == 1:
        lines.append("    pass")
    namespace: dict[str, Any] = {"unset": msgspec.UNSET, "groups": groups, "_group_error": _group_error}
    exec("\n".join(lines), namespace)  # noqa: S102 - code built from schema element names only
    return namespace["__post_init__"]


def _group_error(self: Any, group: str, attrs: tuple[str, ...]) -> None:
    present = [a for a in attrs if getattr(self, a) is not msgspec.UNSET]
    names = ", ".join(f"`{a.rstrip('_')}`" for a in present)
    raise ValueError(f"only one of {group}[x] is allowed, got {names}")


class _Builder:
    """Builds one msgspec Struct per FHIR type, in a synthetic module for forward refs."""

    def __init__(self, version: FhirVersion) -> None:
        self.schema = load_schema(version)
        self.modname = f"regie.fhir._structs_{version.value.lower()}"
        self.module = types.ModuleType(self.modname)
        self.module.msgspec = msgspec  # type: ignore[attr-defined]
        self.module.Annotated = Annotated  # type: ignore[attr-defined]
        sys.modules[self.modname] = self.module
        self.prim_names: dict[str, str] = {}

    def _prim(self, fhir_type: str) -> str:
        name = f"P_{fhir_type}"
        if name not in self.prim_names:
            setattr(self.module, name, _primitive(fhir_type))
            self.prim_names[name] = fhir_type
        return name

    def build(self) -> Any:
        m = self.module
        # `_element` of a primitive: id + extensions (FHIR "Element")
        m.PrimExt = msgspec.defstruct(  # type: ignore[attr-defined]
            "PrimExt",
            [("id", "str | msgspec.UnsetType", msgspec.UNSET),
             ("extension", "Annotated[list[T_Extension], msgspec.Meta(min_length=1)] | msgspec.UnsetType",
              msgspec.UNSET)],
            module=self.modname, forbid_unknown_fields=True,
        )
        for tname, elements in self.schema.types.items():
            is_resource = tname in self.schema.resources
            setattr(m, f"T_{tname}", self._struct(tname, elements, is_resource))
        union = " | ".join(f"T_{r}" for r in sorted(self.schema.resources))
        m.AnyResource = eval(union, vars(m))  # noqa: S307 - names we generated ourselves
        return m

    def _annotation(self, el: ElementDef) -> str:
        if el.kind == "p":
            inner = self._prim(el.type)
            if el.is_list:
                return f"Annotated[list[{inner} | None], msgspec.Meta(min_length=1)]"
            return inner
        inner = "AnyResource" if el.kind == "r" else f"T_{el.type}"
        if el.is_list:
            return f"Annotated[list[{inner}], msgspec.Meta(min_length=1)]"
        return inner

    def _struct(self, tname: str, elements: dict[str, ElementDef], is_resource: bool) -> Any:
        required_fields: list[tuple[str, str]] = []
        optional_fields: list[tuple[str, str, Any]] = []
        rename: dict[str, str] = {}
        required_prims: list[tuple[str, str, str]] = []
        groups: dict[str, list[str]] = {}
        for el in elements.values():
            py = _pyname(el.name)
            if py != el.name:
                rename[py] = el.name
            ann = self._annotation(el)
            if el.required and el.kind != "p":
                required_fields.append((py, ann))
            else:
                optional_fields.append((py, f"{ann} | msgspec.UnsetType", msgspec.UNSET))
            if el.kind == "p":
                ext_py = f"{el.name}__ext"
                rename[ext_py] = f"_{el.name}"
                ext_ann = ("Annotated[list[PrimExt | None], msgspec.Meta(min_length=1)]"
                           if el.is_list else "PrimExt")
                optional_fields.append((ext_py, f"{ext_ann} | msgspec.UnsetType", msgspec.UNSET))
                if el.required:
                    required_prims.append((py, ext_py, el.name))
            if el.choice:
                groups.setdefault(el.choice, []).append(py)
        namespace: dict[str, Any] = {}
        real_groups = tuple((g, tuple(a)) for g, a in groups.items() if len(a) > 1)
        if required_prims or real_groups:
            namespace["__post_init__"] = _post_init(tuple(required_prims), real_groups)
        kwargs: dict[str, Any] = {}
        if is_resource:
            kwargs.update(tag_field="resourceType", tag=tname)
        return msgspec.defstruct(
            f"T_{tname}", [*required_fields, *optional_fields], module=self.modname,
            forbid_unknown_fields=True, rename=rename or None, namespace=namespace or None,
            **kwargs,
        )


@cache
def decoder(version: FhirVersion) -> msgspec.json.Decoder[Any]:
    """A typed decoder that accepts exactly one FHIR resource of ``version``."""
    module = _Builder(version).build()
    return msgspec.json.Decoder(module.AnyResource)


class StructuralError(Exception):
    """Validation failed; ``path`` is a JSON path relative to the resource root."""

    def __init__(self, reason: str, path: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


def validate_resource(raw: bytes, version: FhirVersion) -> None:
    """Validate one resource given as JSON bytes; raise StructuralError on the first error."""
    try:
        decoder(version).decode(raw)
    except msgspec.ValidationError as exc:
        text = str(exc)
        reason, sep, at = text.rpartition(" - at `")
        if not sep:
            reason, at = text, "$"
        raise StructuralError(_friendly(reason), at.rstrip("`")) from None


def _friendly(reason: str) -> str:
    if reason.startswith("Object contains unknown field"):
        return reason.replace("Object contains unknown field", "unknown element") + \
            " (not part of this FHIR version)"
    if reason.startswith(f"Expected `str` of length <= {MAX_STRING}"):
        return "text is longer than FHIR allows for one value (1 MB)"
    if reason.startswith("Expected `str` matching regex"):
        return "value has the wrong format for its FHIR type" + _hint(reason)
    if "Invalid value" in reason and "resourceType" in reason:
        return reason + " (unknown resourceType for this FHIR version)"
    return reason


def _hint(reason: str) -> str:
    for fhir_type, pattern in _PATTERNS.items():
        if repr(pattern) in reason:
            return f" (FHIR {fhir_type})"
    return ""
