"""read_bytes/read_path: FHIR JSON or XML file -> validated ParsedDocument."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from lxml import etree

from regie.record import apply_attention_flags, resolve_medication

from .bindings import check_bindings
from .document import ContainedResource, ParsedDocument, ParsedResource
from .errors import FhirReadError
from .normalise import normalise
from .schema import load_schema
from .validate import StructuralError, validate_resource
from .version import (FhirVersion, UnknownFhirVersion, parse_fhir_version, version_from_fhir_version,
                      version_from_profile)
from .xmlconv import Converter, XmlError, line_of, parse_xml, profiles_in_xml

#: Default upper bound for one file. PDF/A documents travel base64-encoded in Binary
#: resources, so files can be large; callers can lower or raise it.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

_JSON_DECODER = msgspec.json.Decoder(float_hook=Decimal)  # keep 1.50 as 1.50
_JSON_ENCODER = msgspec.json.Encoder(decimal_format="number")


def read_path(path: str | Path, *, fhir_version: FhirVersion | str | None = None,
              max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedDocument:
    """Read a FHIR file from disk; the error names the file by its base name."""
    p = Path(path)
    fhir_version = _version_argument(fhir_version, p.name)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise FhirReadError(f"file is {size} bytes, larger than the limit of {max_bytes}",
                                name=p.name)
        data = p.read_bytes()
    except OSError as exc:
        raise FhirReadError(f"cannot read file: {exc.strerror or exc}", name=p.name) from None
    return read_bytes(data, name=p.name, fhir_version=fhir_version, max_bytes=max_bytes)


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a document is read (and stored).

    Reading allocates hundreds of thousands of dicts and lists that live until the
    document is stored; each one counts toward a collection, and the collections then
    walk all of them again and again (about half of the reading time of a large Bundle,
    measured). They hold no reference cycles, so reference counting frees them anyway.
    Nested and concurrent use is safe: only the caller that found it enabled enables it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_bytes(data: bytes, *, name: str, fhir_version: FhirVersion | str | None = None,
               max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedDocument:
    """Read one FHIR file (JSON or XML, STU3 or R4, a resource or a Bundle).

    The whole file is validated; any error rejects the whole file with a
    :class:`FhirReadError` naming the resource and location. ``fhir_version`` is
    detected when not given (profiles, then structure) and an error says so when the
    file does not tell. It may be given as a :class:`FhirVersion`, ``"STU3"``/``"R4"``
    (any case) or a version number (``"4.0.1"``); anything else is a
    :class:`FhirReadError` saying so.
    """
    fhir_version = _version_argument(fhir_version, name)
    try:
        with no_cyclic_gc():
            return _read(data, name, fhir_version, max_bytes)
    except FhirReadError:
        raise
    except RecursionError:
        raise FhirReadError("content is nested too deeply", name=name) from None
    except MemoryError:
        raise FhirReadError("content is too large to read", name=name) from None
    except Exception as exc:  # noqa: BLE001 - the contract is: only FhirReadError escapes
        raise FhirReadError(f"internal error while reading ({type(exc).__name__}: {exc}); "
                            "please report this file", name=name) from exc


def _version_argument(value: FhirVersion | str | None, name: str) -> FhirVersion | None:
    try:
        return parse_fhir_version(value)
    except UnknownFhirVersion as exc:
        raise FhirReadError(str(exc), name=name) from None


def _read(data: bytes, name: str, version: FhirVersion | None,
          max_bytes: int) -> ParsedDocument:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FhirReadError("expected bytes", name=name)
    data = bytes(data)
    if len(data) > max_bytes:
        raise FhirReadError(f"file is {len(data)} bytes, larger than the limit of {max_bytes}",
                            name=name)
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise FhirReadError("file is empty", name=name)
    if head[:1] == b"{":
        return _read_json(data, name, version)
    if head[:1] == b"<":
        return _read_xml(data, name, version)
    raise FhirReadError("neither FHIR JSON (starts with '{') nor FHIR XML (starts with '<')",
                        name=name)


# --- JSON -----------------------------------------------------------------------------

def _read_json(data: bytes, name: str, version: FhirVersion | None) -> ParsedDocument:
    try:
        root = _JSON_DECODER.decode(data.removeprefix(b"\xef\xbb\xbf"))
    except msgspec.DecodeError as exc:
        raise FhirReadError(f"malformed JSON: {exc}", name=name) from None
    _check_root(root, name, "$")
    fv = root.get("fhirVersion")
    if version is None and isinstance(fv, str):
        version = version_from_fhir_version(fv)
    version, resources = _choose(version, _json_profiles(root), name,
                                 lambda v: _split(root, v, name, lambda path: path))
    bundle_type = root.get("type") if root["resourceType"] == "Bundle" else None
    return ParsedDocument(name, "json", version, bundle_type, resources, data)


def _check_root(root: Any, name: str, location: str) -> None:
    if not isinstance(root, dict):
        raise FhirReadError("a FHIR resource must be a JSON object", name=name, location=location)
    rtype = root.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        raise FhirReadError("missing resourceType", name=name, location=location)


def _json_profiles(root: dict[str, Any]) -> list[str]:
    urls: list[str] = []
    for res in _walk_json(root):
        meta = res.get("meta")
        if isinstance(meta, dict) and isinstance(meta.get("profile"), list):
            urls.extend(u for u in meta["profile"] if isinstance(u, str))
    return urls


def _walk_json(res: dict[str, Any]) -> list[dict[str, Any]]:
    out = [res]
    entries = res.get("entry") if res.get("resourceType") == "Bundle" else None
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
            out.extend(_walk_json(entry["resource"]))
    for inner in res.get("contained", ()) if isinstance(res.get("contained"), list) else ():
        if isinstance(inner, dict):
            out.append(inner)
    return out


_OTHER = {FhirVersion.STU3: FhirVersion.R4, FhirVersion.R4: FhirVersion.STU3}


def _choose(version: FhirVersion | None, profiles: list[str], name: str,
            attempt: Any) -> tuple[FhirVersion, tuple[ParsedResource, ...]]:
    """Pick the FHIR version and read the document with it.

    Given version or unanimous strong profile signals: read with that version, no
    fallback. Weak signals (zib-* profiles): read with the hinted version and, if that
    fails, with the other one. Nothing: the content must be valid in exactly one version.
    """
    if version is not None:
        return version, attempt(version)
    strong = {v for url in profiles if (s := version_from_profile(url)) and s[1]
              for v in (s[0],)}
    weak = {s[0] for url in profiles if (s := version_from_profile(url)) and not s[1]}
    if len(strong) == 1:
        v = strong.pop()
        return v, attempt(v)
    if not strong and len(weak) == 1:
        v = weak.pop()
        try:
            return v, attempt(v)
        except FhirReadError as first:
            try:
                return _OTHER[v], attempt(_OTHER[v])
            except FhirReadError:
                raise first from None
    return _structural_guess(name, attempt)


def _structural_guess(name: str,
                      attempt: Any) -> tuple[FhirVersion, tuple[ParsedResource, ...]]:
    """Try both versions; exactly one must accept the whole file."""
    ok: list[tuple[FhirVersion, tuple[ParsedResource, ...]]] = []
    errors: dict[FhirVersion, FhirReadError] = {}
    for v in (FhirVersion.STU3, FhirVersion.R4):
        try:
            ok.append((v, attempt(v)))
        except FhirReadError as exc:
            errors[v] = exc
    if len(ok) == 1:
        return ok[0]
    if not ok:
        e = errors[FhirVersion.R4]
        raise FhirReadError(
            "cannot tell the FHIR version (no Dutch profile in meta.profile) and the file "
            f"is valid neither as STU3 ({errors[FhirVersion.STU3].reason}) nor as R4 "
            f"({e.reason})", name=name, resource_type=e.resource_type,
            resource_id=e.resource_id, location=e.location)
    raise FhirReadError(
        "cannot tell whether this is FHIR STU3 or R4: no profile or fhirVersion says so "
        "and the content is valid in both; pass the version declared by the source",
        name=name)


# --- XML ------------------------------------------------------------------------------

def _read_xml(data: bytes, name: str, version: FhirVersion | None) -> ParsedDocument:
    try:
        root_el = parse_xml(data)
    except XmlError as exc:
        raise FhirReadError(exc.reason, name=name, location=_line(exc.line)) from None

    def convert(v: FhirVersion) -> dict[str, Any]:
        try:
            return Converter(load_schema(v)).resource(root_el)
        except XmlError as exc:
            rtype, rid = _xml_owner(root_el, exc.line)
            raise FhirReadError(exc.reason, name=name, resource_type=rtype, resource_id=rid,
                                location=_line(exc.line)) from None

    lines: dict[Any, Any] = {}

    def locate(path: str) -> str:
        return _line(line_of(root_el, path, lines)) or path

    roots: dict[FhirVersion, dict[str, Any]] = {}

    def attempt(v: FhirVersion) -> tuple[ParsedResource, ...]:
        roots[v] = convert(v)
        return _split(roots[v], v, name, locate)

    version, resources = _choose(version, profiles_in_xml(root_el), name, attempt)
    root = roots[version]
    bundle_type = root.get("type") if root["resourceType"] == "Bundle" else None
    return ParsedDocument(name, "xml", version, bundle_type, resources, data)


def _line(line: int | None) -> str | None:
    return None if line is None else f"line {line}"


def _xml_owner(root: etree._Element, line: int | None) -> tuple[str | None, str | None]:
    """Resource type and id of the resource element enclosing ``line`` (best effort)."""
    from .xmlconv import FHIR_NS

    owner: tuple[str | None, str | None] = (etree.QName(root).localname, None)
    ns = {"f": FHIR_NS}
    candidates = [root, *root.xpath("f:entry/f:resource/*", namespaces=ns)]
    for el in candidates:
        if line is not None and el.sourceline is not None and el.sourceline <= line:
            ids = el.xpath("f:id/@value", namespaces=ns)
            owner = (etree.QName(el).localname, str(ids[0]) if ids else None)
    return owner


# --- shared: split, validate, normalise -----------------------------------------------

def _split(root: dict[str, Any], version: FhirVersion, name: str,
           locate: Any) -> tuple[ParsedResource, ...]:
    return _enrich(_split_raw(root, version, name, locate))


def _enrich(resources: tuple[ParsedResource, ...]) -> tuple[ParsedResource, ...]:
    """Within-file enrichment: attention flags on episodes, medication product codes."""
    if len(resources) < 2:
        return resources
    flat = [item for r in resources for item in r.items]
    enriched = resolve_medication(apply_attention_flags(flat))
    if enriched == flat:
        return resources
    out, i = [], 0
    for r in resources:
        n = len(r.items)
        out.append(replace(r, items=tuple(enriched[i:i + n])))
        i += n
    return tuple(out)


def _split_raw(root: dict[str, Any], version: FhirVersion, name: str,
               locate: Any) -> tuple[ParsedResource, ...]:
    if root["resourceType"] != "Bundle":
        return (_one(root, version, name, "$", locate, None, None),)
    entries = root.get("entry")
    envelope = dict(root)
    out: list[ParsedResource] = []
    if isinstance(entries, list):
        stripped = []
        for i, entry in enumerate(entries):
            if isinstance(entry, dict) and "resource" in entry:
                stripped.append({k: v for k, v in entry.items() if k != "resource"})
            else:
                stripped.append(entry)
        envelope["entry"] = stripped
    _validate(envelope, version, name, "$", locate)
    for i, entry in enumerate(entries or ()):
        res = entry.get("resource")
        if res is None:
            continue  # e.g. a DELETE in a transaction: nothing to read
        base = f"$.entry[{i}].resource"
        _check_root(res, name, base)
        search = entry.get("search")
        mode = search.get("mode") if isinstance(search, dict) else None
        if res["resourceType"] == "Bundle":
            out.extend(_split_raw(res, version, name, lambda p, b=base: locate(b + p[1:])))
            continue
        out.append(_one(res, version, name, base, locate, entry.get("fullUrl"), mode))
    return tuple(out)


def _validate(res: dict[str, Any], version: FhirVersion, name: str, base: str,
              locate: Any) -> bytes:
    raw = _JSON_ENCODER.encode(res)
    try:
        validate_resource(raw, version)
    except StructuralError as exc:
        raise _error(res, name, exc.reason, base + exc.path[1:], locate, version) from None
    bad = check_bindings(res, version)
    if bad is not None:
        raise _error(res, name, bad[1], base + bad[0][1:], locate, version)
    return raw


def _error(res: dict[str, Any], name: str, reason: str, path: str, locate: Any,
           version: FhirVersion) -> FhirReadError:
    rid = res.get("id")
    return FhirReadError(f"{reason} (FHIR {version.value})", name=name,
                         resource_type=str(res.get("resourceType")),
                         resource_id=rid if isinstance(rid, str) else None,
                         location=locate(path))


def _one(res: dict[str, Any], version: FhirVersion, name: str, base: str, locate: Any,
         full_url: str | None, mode: str | None) -> ParsedResource:
    raw = _validate(res, version, name, base, locate)
    contained_data = res.get("contained") or ()
    contained = tuple(
        ContainedResource(c["resourceType"], c.get("id"), c, normalise(c, version))
        for c in contained_data
    )
    meta = res.get("meta") or {}
    return ParsedResource(
        resource_type=res["resourceType"], id=res.get("id"), fhir_version=version, json=raw,
        data=res, items=normalise(res, version), contained=contained,
        profiles=tuple(meta.get("profile") or ()), full_url=full_url, search_mode=mode,
        location=locate(base),
    )
