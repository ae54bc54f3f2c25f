"""FHIR JSON -> FHIR XML, the direction ``regie.fhir.xmlconv`` does not need.

Follows the FHIR XML/JSON mapping rules:

- every element in the order of its type's definition (FHIR XML is order-sensitive);
- primitives as ``<name value="..."/>``; their ``_name`` partner gives the ``id``
  attribute and ``<extension>`` children; in repeating primitives the two arrays are
  paired by position (``null`` where one side has nothing);
- ``id`` of a data type or backbone element and ``url`` of an Extension are attributes
  (a resource's own ``id`` is an element);
- the narrative ``div`` is XHTML, parsed and inserted as it is;
- resources inside ``contained``, ``entry.resource`` and similar are wrapped in an
  element named after their type.

Which elements exist, repeat and hold primitives comes from the element tables of
:mod:`regie.fhir.schema`; the element order from the ``fhir.resources`` models (loaded
lazily, per type, and cached). Unknown elements raise ``ValueError``: the sandbox must
never serve what it cannot express.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from functools import cache
from typing import Any

from lxml import etree

from regie.fhir.schema import ElementDef, load_schema
from regie.fhir.version import FhirVersion

__all__ = ["FHIR_NS", "to_xml"]

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"
_F = "{" + FHIR_NS + "}"
_lock = threading.Lock()


@cache
def _order(version: FhirVersion, tname: str) -> dict[str, int]:
    """Element name -> position in the FHIR definition of *tname*."""
    with _lock:
        if version is FhirVersion.STU3:
            from fhir.resources.STU3 import get_fhir_model_class
        else:
            from fhir.resources.R4B import get_fhir_model_class
        try:
            sequence = get_fhir_model_class(tname).elements_sequence()
        except (KeyError, ValueError, AttributeError):
            sequence = []
    return {name: i for i, name in enumerate(sequence)}


def _lexical(value: Any, ftype: str, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{where}: {value} is not a FHIR decimal")
        text = repr(value)
        return text[:-2] if ftype != "decimal" and text.endswith(".0") else text
    if isinstance(value, str):
        return value
    raise ValueError(f"{where}: a {type(value).__name__} cannot be a FHIR primitive")


class _Writer:
    def __init__(self, version: FhirVersion) -> None:
        self.version = version
        self.schema = load_schema(version)
        self.types = self.schema.types

    def resource(self, res: dict[str, Any]) -> etree._Element:
        rtype = res.get("resourceType")
        if not isinstance(rtype, str) or rtype not in self.schema.resources:
            raise ValueError(f"unknown resource type {rtype!r} for FHIR {self.version}")
        el = etree.Element(_F + rtype, nsmap={None: FHIR_NS})
        self._elements(el, rtype, res, is_resource=True, where=rtype)
        return el

    def _elements(self, el: etree._Element, tname: str, obj: dict[str, Any], *,
                  is_resource: bool, where: str) -> None:
        tdef = self.types[tname]
        names: set[str] = set()
        for key in obj:
            if key == "resourceType" and is_resource:
                continue
            name = key[1:] if key.startswith("_") else key
            if not is_resource and (name == "id" or (name == "url" and tname == "Extension")):
                value = obj[key]
                if key.startswith("_") or not isinstance(value, str):
                    raise ValueError(f"{where}.{key}: must be a string attribute")
                el.set(name, value)
                continue
            if name not in tdef:
                raise ValueError(f"{where}: unknown element {key!r} in {tname} (FHIR "
                                 f"{self.version})")
            names.add(name)
        order = _order(self.version, tname)
        for name in sorted(names, key=lambda n: (order.get(n, len(order)), n)):
            self._element(el, tdef[name], obj.get(name), obj.get("_" + name),
                          f"{where}.{name}")

    def _element(self, parent: etree._Element, edef: ElementDef, value: Any, ext: Any,
                 where: str) -> None:
        if edef.is_list:
            values = value if isinstance(value, list) else ([] if value is None else None)
            exts = ext if isinstance(ext, list) else ([] if ext is None else None)
            if values is None or exts is None:
                raise ValueError(f"{where}: must be an array")
            count = max(len(values), len(exts))
            for i in range(count):
                v = values[i] if i < len(values) else None
                x = exts[i] if i < len(exts) else None
                self._one(parent, edef, v, x, f"{where}[{i}]")
        else:
            self._one(parent, edef, value, ext, where)

    def _one(self, parent: etree._Element, edef: ElementDef, value: Any, ext: Any,
             where: str) -> None:
        name = edef.name
        if edef.kind == "p":
            if edef.type == "xhtml":
                if not isinstance(value, str):
                    raise ValueError(f"{where}: the narrative div must be a string")
                div = etree.fromstring(value.encode("utf-8"), etree.XMLParser(
                    resolve_entities=False, no_network=True, load_dtd=False))
                if div.tag != "{" + XHTML_NS + "}div":
                    raise ValueError(f"{where}: the narrative must be an XHTML div")
                parent.append(div)
                return
            if value is None and ext is None:
                return
            child = etree.SubElement(parent, _F + name)
            if isinstance(ext, dict):
                if "id" in ext:
                    child.set("id", str(ext["id"]))
                for i, extension in enumerate(ext.get("extension") or ()):
                    sub = etree.SubElement(child, _F + "extension")
                    self._elements(sub, "Extension", extension, is_resource=False,
                                   where=f"{where}.extension[{i}]")
            if value is not None:
                child.set("value", _lexical(value, edef.type, where))
            return
        if value is None:
            return
        if not isinstance(value, dict):
            raise ValueError(f"{where}: must be an object")
        child = etree.SubElement(parent, _F + name)
        if edef.kind == "r":
            child.append(self.resource(value))
        else:
            self._elements(child, edef.type, value, is_resource=False, where=where)


def to_xml(resource: dict[str, Any], version: FhirVersion | str) -> bytes:
    """The FHIR XML of *resource* (a resource or a Bundle) as UTF-8 bytes."""
    version = FhirVersion(version)
    root = _Writer(version).resource(resource)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
