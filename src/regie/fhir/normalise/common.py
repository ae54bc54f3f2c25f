"""Small readers for FHIR data types (dicts already validated), shared by all mappers."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any

from regie.record import Coding, FhirDate, Link, Quantity, ReferenceRange, Value

Res = dict[str, Any]

_TAG_RE = re.compile(r"<(br|/p|/tr|/li|/div|/caption|/h\d)\b[^>]*>|<[^>]+>", re.IGNORECASE)
_WS_RE = re.compile(r"[ \t\r\f\v]+")


def codings(cc: Any) -> tuple[Coding, ...]:
    """Codings of a CodeableConcept (or of a single Coding)."""
    if not isinstance(cc, dict):
        return ()
    if "coding" not in cc and ("code" in cc or "system" in cc):
        return (Coding(cc.get("system"), cc.get("code"), cc.get("display")),)
    return tuple(Coding(c.get("system"), c.get("code"), c.get("display"))
                 for c in cc.get("coding", ()))


def cc_text(cc: Any) -> str | None:
    """Display text of a CodeableConcept: its text, else the first coding display."""
    if not isinstance(cc, dict):
        return None
    if cc.get("text"):
        return str(cc["text"])
    for c in cc.get("coding", ()):
        if c.get("display"):
            return str(c["display"])
    if cc.get("display"):
        return str(cc["display"])
    for c in cc.get("coding", ()):
        if c.get("code"):
            return str(c["code"])
    return None


def first(items: Any) -> Any:
    if isinstance(items, list):
        return items[0] if items else None
    return items


def date(text: Any) -> FhirDate | None:
    return FhirDate.parse(text) if isinstance(text, str) else None


def quantity(q: Any) -> Quantity | None:
    if not isinstance(q, dict):
        return None
    value = q.get("value")
    if value is not None and not isinstance(value, Decimal):
        value = Decimal(value)
    return Quantity(value, q.get("unit"), q.get("system"), q.get("code"), q.get("comparator"))


def link(relation: str, ref: Any) -> Link | None:
    if not isinstance(ref, dict):
        return None
    reference = ref.get("reference")
    display = ref.get("display")
    if reference is None and display is None:
        ident = ref.get("identifier")
        if isinstance(ident, dict) and ident.get("value"):
            return Link(relation, None, f"{ident.get('system', '')}|{ident['value']}")
        return None
    return Link(relation, reference, display)


def links(relation: str, refs: Any) -> list[Link]:
    if isinstance(refs, dict):
        refs = [refs]
    out = []
    for ref in refs or ():
        found = link(relation, ref)
        if found is not None:
            out.append(found)
    return out


def value_of(obj: Res, prefix: str = "value") -> Value | None:
    """The value[x] of an element (Observation, component, extension)."""
    for key, val in obj.items():
        if not key.startswith(prefix) or key == prefix:
            continue
        suffix = key[len(prefix):]
        if suffix in ("Quantity", "SimpleQuantity", "Age", "Duration", "Count", "Distance",
                      "Money"):
            return quantity(val)
        if suffix == "CodeableConcept":
            cs = codings(val)
            if cs:
                c = cs[0]
                display = cc_text(val)
                return Coding(c.system, c.code, display or c.display)
            return cc_text(val)
        if suffix == "Coding":
            return Coding(val.get("system"), val.get("code"), val.get("display"))
        if suffix in ("String", "Markdown", "Code", "Uri", "Id", "Time"):
            return str(val)
        if suffix == "Boolean":
            return bool(val)
        if suffix in ("Integer", "PositiveInt", "UnsignedInt"):
            return int(val)
        if suffix == "Decimal":
            return val if isinstance(val, Decimal) else Decimal(val)
        if suffix in ("DateTime", "Date", "Instant"):
            return date(val)
        if suffix == "Period":
            start, end = val.get("start"), val.get("end")
            return " – ".join(x for x in (start, end) if x) or None
        if suffix == "Range":
            low, high = quantity(val.get("low")), quantity(val.get("high"))
            return " – ".join(q.text() for q in (low, high) if q) or None
        if suffix == "Ratio":
            num, den = quantity(val.get("numerator")), quantity(val.get("denominator"))
            if num and den:
                return f"{num.text()} / {den.text()}"
        if suffix == "Reference":
            return val.get("display") or val.get("reference")
        if suffix == "Attachment":
            return val.get("title") or val.get("contentType")
    return None


def ref_ranges(obs: Res) -> tuple[ReferenceRange, ...]:
    return tuple(ReferenceRange(quantity(r.get("low")), quantity(r.get("high")), r.get("text"))
                 for r in obs.get("referenceRange", ()))


def extension(res: Res, url_end: str) -> Res | None:
    """The first extension whose URL ends with ``url_end`` (profiles differ in host)."""
    for ext in res.get("extension", ()) or ():
        if ext.get("url", "").endswith(url_end):
            return ext
    return None


def human_name(names: Any) -> str | None:
    """Display form of the first (official, else any) HumanName."""
    if not names:
        return None
    chosen = next((n for n in names if n.get("use") == "official"), names[0])
    if chosen.get("text"):
        return str(chosen["text"])
    parts = [*(g for g in chosen.get("given", ()) if g), *(p for p in chosen.get("prefix", ())
                                                           if p)]
    given = " ".join(str(p) for p in chosen.get("given", ()) if p)
    family = chosen.get("family")
    if isinstance(family, list):  # STU3 data sometimes repeats family in practice
        family = " ".join(family)
    text = " ".join(x for x in (given, family) if x)
    return text or (" ".join(str(p) for p in parts) or None)


def narrative_text(res: Res) -> str | None:
    """Plain text of the narrative div (tags dropped, entities decoded)."""
    text = res.get("text")
    div = text.get("div") if isinstance(text, dict) else None
    if not div:
        return None
    plain = _TAG_RE.sub(lambda m: "\n" if m.group(1) else " ", div)
    plain = html.unescape(plain)
    lines = [_WS_RE.sub(" ", line).strip() for line in plain.splitlines()]
    return "\n".join(line for line in lines if line) or None


def profile_names(res: Res) -> list[str]:
    meta = res.get("meta") or {}
    return [p.rsplit("/", 1)[-1] for p in meta.get("profile", ()) or ()]


def first_profile(res: Res) -> str | None:
    meta = res.get("meta") or {}
    profiles = meta.get("profile") or ()
    return profiles[0] if profiles else None
