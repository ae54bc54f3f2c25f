"""Hardened FHIR XML parsing and FHIR XML -> FHIR JSON conversion.

The conversion follows the FHIR XML/JSON mapping rules, driven by the element tables
(:mod:`regie.fhir.schema`): repeating elements become arrays even when they occur once,
primitives get their JSON type (boolean, integer, decimal kept exact as Decimal),
``id``/extensions of primitives go to ``_element``, Extension ``url`` and Element ``id``
attributes become properties, the xhtml ``div`` becomes a string, and resources inside
``contained``/``resource`` are unwrapped and given a ``resourceType``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from .schema import ElementDef, Schema

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"
_F = "{" + FHIR_NS + "}"
_FLEN = len(_F)
_DIV = "{" + XHTML_NS + "}div"

_INT_RE = re.compile(r"-?(0|[1-9][0-9]*)\Z")
_DEC_RE = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z")
_DOCTYPE_RE = re.compile(rb"<!\s*DOCTYPE|<!\s*ENTITY", re.IGNORECASE)


class XmlError(Exception):
    """Raised with a reason and the source line of the offending element."""

    def __init__(self, reason: str, line: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def _parser() -> etree.XMLParser:
    # Never resolve entities, never fetch anything, never load a DTD, keep libxml2's
    # default limits (huge_tree=False: depth 256, 10 MB per text node).
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        dtd_validation=False, remove_comments=True, remove_pis=True, remove_blank_text=False,
    )


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML bytes; DOCTYPE/ENTITY declarations are refused outright."""
    m = _DOCTYPE_RE.search(data)
    if m is not None:
        line = data.count(b"\n", 0, m.start()) + 1
        raise XmlError("XML with a DOCTYPE or ENTITY declaration is refused "
                       "(FHIR XML never needs one; it can be used for entity attacks)", line)
    if not data.lstrip().startswith(b"<") and not data.startswith(b"\xef\xbb\xbf"):
        raise XmlError("not XML: the content does not start with '<'", 1)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise XmlError(f"malformed XML: {exc.msg}", line) from None
    except ValueError as exc:  # e.g. an encoding declaration lxml refuses
        raise XmlError(f"malformed XML: {exc}", 1) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XmlError("XML with a DOCTYPE declaration is refused", 1)
    return root


def profiles_in_xml(root: etree._Element) -> list[str]:
    """All meta.profile values in the document (root, Bundle entries, contained)."""
    # Only where resources can sit (root, Bundle entries, contained), not a full descent.
    return [str(v) for v in _PROFILE_XPATH(root)]


_PROFILE_XPATH = etree.XPath(
    "f:meta/f:profile/@value | f:contained/*/f:meta/f:profile/@value"
    " | f:entry/f:resource/*/f:meta/f:profile/@value"
    " | f:entry/f:resource/*/f:contained/*/f:meta/f:profile/@value",
    namespaces={"f": FHIR_NS},
)


def resource_name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str) or not tag.startswith(_F):
        raise XmlError(f"expected a FHIR resource element in namespace {FHIR_NS}, "
                       f"got {_show(el)}", el.sourceline)
    return tag[_FLEN:]


def _show(el: Any) -> str:
    tag = getattr(el, "tag", None)
    if not isinstance(tag, str):
        return "an entity reference" if isinstance(el, etree._Entity) else "a non-element node"
    return f"<{etree.QName(tag).localname}> ({etree.QName(tag).namespace or 'no namespace'})"


class Converter:
    """Converts resources of one FHIR version. Not thread-safe-sensitive: holds no state."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.types = schema.types

    def resource(self, el: etree._Element) -> dict[str, Any]:
        rtype = resource_name(el)
        if rtype not in self.schema.resources:
            raise XmlError(f"unknown resource type {rtype!r} for FHIR {self.schema.version}",
                           el.sourceline)
        if len(el.attrib):
            raise XmlError(f"unexpected attribute(s) {sorted(el.attrib)} on <{rtype}>",
                           el.sourceline)
        out: dict[str, Any] = {"resourceType": rtype}
        self._children(el, self.types[rtype], out, rtype)
        return out

    def _children(self, el: etree._Element, tdef: dict[str, ElementDef], out: dict[str, Any],
                  tname: str) -> None:
        # Hot loop (every element of every resource): each lxml property read builds a
        # Python object, so each is read once.
        text = el.text
        if text is not None and text.strip():
            raise XmlError(f"unexpected text content in <{tname}>", el.sourceline)
        for child in el:
            tag = child.tag
            if tag.__class__ is not str:
                raise XmlError(f"unexpected {_show(child)} in <{tname}>", el.sourceline)
            tail = child.tail
            if tail is not None and tail.strip():
                raise XmlError(f"unexpected text content in <{tname}>", child.sourceline)
            if tag.startswith(_F):
                name = tag[_FLEN:]
            elif tag == _DIV:
                name = "div"
            else:
                raise XmlError(f"element {_show(child)} is not a FHIR element", child.sourceline)
            edef = tdef.get(name)
            if edef is None:
                raise XmlError(f"unknown element <{name}> in {tname} "
                               f"(not part of FHIR {self.schema.version})", child.sourceline)
            kind = edef.kind
            if kind == "p":
                self._primitive(child, edef, out, name)
                continue
            if kind == "c":
                value: Any = self._complex(child, edef.type)
            else:
                value = self._wrapped_resource(child, name)
            if edef.is_list:
                lst = out.get(name)
                if lst is None:
                    out[name] = [value]
                else:
                    lst.append(value)
            elif name in out:
                raise XmlError(f"element <{name}> occurs more than once in {tname}, "
                               "but FHIR allows only one", child.sourceline)
            else:
                out[name] = value

    def _complex(self, el: etree._Element, tname: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, val in el.attrib.items():
            if key == "id" or (key == "url" and tname == "Extension"):
                out[key] = val
            else:
                raise XmlError(f"unexpected attribute {key!r} on <{etree.QName(el).localname}>",
                               el.sourceline)
        self._children(el, self.types[tname], out, tname)
        if not out:
            raise XmlError(f"empty element <{etree.QName(el).localname}>", el.sourceline)
        return out

    def _wrapped_resource(self, el: etree._Element, name: str) -> dict[str, Any]:
        if len(el.attrib) or (el.text is not None and el.text.strip()):
            raise XmlError(f"<{name}> must contain exactly one resource", el.sourceline)
        kids = list(el)
        if len(kids) != 1 or not isinstance(kids[0].tag, str):
            raise XmlError(f"<{name}> must contain exactly one resource", el.sourceline)
        return self.resource(kids[0])

    def _primitive(self, el: etree._Element, edef: ElementDef, out: dict[str, Any],
                   name: str) -> None:
        ftype = edef.type
        if ftype == "xhtml":
            if el.tag != _DIV:
                raise XmlError("narrative div must be an XHTML <div>", el.sourceline)
            out[name] = etree.tostring(el, encoding="unicode", with_tail=False)
            return
        raw = None
        ext: dict[str, Any] | None = None
        for key, val in el.items():
            if key == "value":
                raw = val
            elif key == "id":
                ext = {"id": val}
            else:
                raise XmlError(f"unexpected attribute {key!r} on <{name}>", el.sourceline)
        text = el.text
        if len(el) or (text is not None and text.strip()):
            holder: dict[str, Any] = {}
            self._children(el, _EXT_ONLY, holder, name)
            if ext is None:
                ext = {}
            ext.update(holder)
        if raw is None and ext is None:
            raise XmlError(f"element <{name}> has neither a value nor extensions", el.sourceline)
        value = None if raw is None else _typed(raw, ftype, name, el.sourceline)
        if edef.is_list:
            values = out.setdefault(name, [])
            exts = out.get("_" + name)
            if ext is not None and exts is None:
                exts = out["_" + name] = [None] * len(values)
            values.append(value)
            if exts is not None:
                exts.append(ext)
            return
        if name in out or "_" + name in out:
            raise XmlError(f"element <{name}> occurs more than once, but FHIR allows only one",
                           el.sourceline)
        if value is not None:
            out[name] = value
        if ext is not None:
            out["_" + name] = ext



# A primitive element may only contain extensions; reuse the Extension element def.
_EXT_ONLY: dict[str, ElementDef] = {
    "extension": ElementDef("extension", "c", "Extension", True, False, None),
}


def _typed(raw: str, ftype: str, name: str, line: int | None) -> Any:
    if ftype == "boolean":
        if raw == "true":
            return True
        if raw == "false":
            return False
        raise XmlError(f"<{name}> must be 'true' or 'false', got {raw[:40]!r}", line)
    if ftype in ("integer", "unsignedInt", "positiveInt", "integer64"):
        if not _INT_RE.match(raw):
            raise XmlError(f"<{name}> must be an integer, got {raw[:40]!r}", line)
        return int(raw)
    if ftype == "decimal":
        if not _DEC_RE.match(raw):
            raise XmlError(f"<{name}> must be a decimal number, got {raw[:40]!r}", line)
        try:
            return Decimal(raw)
        except InvalidOperation:  # pragma: no cover - regex already guarantees syntax
            raise XmlError(f"<{name}> must be a decimal number", line) from None
    return raw


def line_of(root: etree._Element, path: str,
            cache: dict[tuple[Any, str], list[etree._Element]] | None = None) -> int | None:
    """Source line of the element a JSON path (``$.a[0].b``) points at, best effort.

    ``cache`` (one per document) keeps each element's children by name: every resource of
    a Bundle asks for ``$.entry[i].resource``, and scanning the Bundle's children for each
    one made locating quadratic in the number of entries."""
    el = root
    line = el.sourceline
    for token in _PATH_TOKEN.findall(path):
        name, index, bare_index = token
        if bare_index:
            continue
        if name == "resourceType":
            break
        name = name.lstrip("_")
        key = (el, name)
        matches = cache.get(key) if cache is not None else None
        if matches is None:
            matches = [c for c in el if isinstance(c.tag, str)
                       and (c.tag == _F + name or (name == "div" and c.tag == _DIV))]
            if cache is not None:
                cache[key] = matches
        if not matches:
            break
        el = matches[int(index) if index else 0] if (not index or int(index) < len(matches)) \
            else matches[-1]
        line = el.sourceline
        if name in ("resource", "contained"):
            kids = [c for c in el if isinstance(c.tag, str)]
            if kids:
                el = kids[0]
    return line


_PATH_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?|\[(\d+)\]")
