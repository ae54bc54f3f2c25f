"""``--data DIR`` mode: serve FHIR files from a folder, one folder per person.

Layout (see docs/sandbox-data.md)::

    DIR/<provider>/<serviceId>/<bsn>/**/*.json|*.xml   the person's resources
    DIR/<provider>/<serviceId>/<bsn>/person.toml       optional, see below
    DIR/<provider>/<serviceId>/_shared/**              resources every person sees
                                                       (practitioners, organisations)

``person.toml`` may say ``patient = "<Patient id>"`` (which Patient in the files is this
person, when the files hold several) and ``include = ["path", ...]`` (more files or
folders, relative to the person folder or absolute, read in place).

Files are FHIR JSON or XML, single resources or Bundles (searchset/collection Bundles
are unwrapped; transaction/batch Bundles are what a PGO *sends* and are skipped). Date
placeholders of the Nictiz test fixtures (``${DATE, T, D, -5}``: today minus 5 days)
are resolved relative to today when a file is loaded.
"""

from __future__ import annotations

import calendar
import re
import threading
import tomllib
from collections import OrderedDict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import msgspec

from regie.sandbox.services.catalogue import SERVICES

from .search import PatientData

__all__ = ["FolderSource", "resolve_placeholders", "load_file"]

_PLACEHOLDER = re.compile(rb"\$\{DATE,\s*T,\s*([DMY]),\s*([+-]?)\s*(\d+)\s*\}")
_SUFFIXES = (".json", ".xml")
_VERSIONS = {s.id: s.fhir_version for s in SERVICES}
_PATIENT_REF_FIELDS = ("subject", "patient", "beneficiary", "for")


def resolve_placeholders(data: bytes, today: date) -> bytes:
    """Replace ``${DATE, T, D|M|Y, ±n}`` by the ISO date *today* ± n days/months/years."""

    def repl(m: re.Match[bytes]) -> bytes:
        n = int(m.group(3)) * (-1 if m.group(2) == b"-" else 1)
        if m.group(1) == b"D":
            return (today + timedelta(days=n)).isoformat().encode()
        months = n * (12 if m.group(1) == b"Y" else 1)
        y, mo = divmod(today.year * 12 + today.month - 1 + months, 12)
        last = calendar.monthrange(y, mo + 1)[1]
        return date(y, mo + 1, min(today.day, last)).isoformat().encode()

    return _PLACEHOLDER.sub(repl, data)


def _xml_to_json(data: bytes, version: str) -> dict[str, Any]:
    # The FHIR XML->JSON conversion of Regie's reader, driven by the element tables.
    from regie.fhir.schema import load_schema
    from regie.fhir.version import FhirVersion
    from regie.fhir.xmlconv import Converter, parse_xml

    return Converter(load_schema(FhirVersion(version))).resource(parse_xml(data))


def load_file(path: Path, version: str, today: date) -> list[dict[str, Any]]:
    """The resources in one FHIR file, placeholders resolved, Bundles unwrapped."""
    data = resolve_placeholders(path.read_bytes(), today)
    if path.suffix == ".xml":
        doc = _xml_to_json(data, version)
    else:
        doc = msgspec.json.decode(data)
    if not isinstance(doc, dict):
        return []
    if doc.get("resourceType") == "Bundle":
        if doc.get("type") in ("transaction", "batch", "transaction-response",
                               "batch-response"):
            return []
        return [e["resource"] for e in doc.get("entry") or []
                if isinstance(e, dict) and isinstance(e.get("resource"), dict)
                and e["resource"].get("id")]
    return [doc] if doc.get("id") else []


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        if path.suffix in _SUFFIXES:
            yield path
        return
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file() and p.suffix in _SUFFIXES:
                yield p


def _patient_refs(res: dict[str, Any]) -> set[str]:
    out = set()
    for f in _PATIENT_REF_FIELDS:
        v = res.get(f)
        for item in v if isinstance(v, list) else [v]:
            ref = (item or {}).get("reference") if isinstance(item, dict) else None
            if isinstance(ref, str) and "Patient/" in ref:
                out.add("Patient/" + ref.rsplit("Patient/", 1)[1])
    if res.get("resourceType") == "Appointment":
        for part in res.get("participant") or ():
            ref = ((part or {}).get("actor") or {}).get("reference")
            if isinstance(ref, str) and "Patient/" in ref:
                out.add("Patient/" + ref.rsplit("Patient/", 1)[1])
    return out


class FolderSource:
    """A :class:`~regie.sandbox.fhir.app.DataSource` over a data folder (read in place)."""

    def __init__(self, root: str | Path, *, today: date | None = None,
                 cache_size: int = 128) -> None:
        self.root = Path(root)
        self._today = today
        self._cache: OrderedDict[tuple[str, str, str], PatientData | None] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @property
    def today(self) -> date:
        return self._today or date.today()

    def persons(self) -> list[tuple[str, str, str]]:
        """Every (provider, service id, bsn) the folder holds."""
        out = []
        for prov in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for svc in sorted(p for p in prov.iterdir() if p.is_dir()):
                for person in sorted(p for p in svc.iterdir() if p.is_dir()):
                    if not person.name.startswith("_"):
                        out.append((prov.name, svc.name, person.name))
        return out

    def patient_data(self, provider: str, service_id: str, bsn: str) -> PatientData | None:
        key = (provider, service_id, bsn)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        data = self._load(*key)
        with self._lock:
            self._cache[key] = data
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return data

    def _load(self, provider: str, service_id: str, bsn: str) -> PatientData | None:
        if any(part in ("", ".", "..") or "/" in part for part in (provider, service_id, bsn)):
            return None
        svc_dir = self.root / provider / service_id
        person = svc_dir / bsn
        if not person.is_dir():
            return None
        version = _VERSIONS.get(service_id, "STU3")
        settings: dict[str, Any] = {}
        if (person / "person.toml").is_file():
            settings = tomllib.loads((person / "person.toml").read_text(encoding="utf-8"))
        version = settings.get("fhir_version", version)
        sources = [person, svc_dir / "_shared"]
        for inc in settings.get("include", []):
            p = Path(inc)
            sources.append(p if p.is_absolute() else person / p)
        resources: list[dict[str, Any]] = []
        today = self.today
        for src in sources:
            for f in _files(src):
                resources.extend(load_file(f, version, today))
        patient_id = settings.get("patient")
        if patient_id is None:
            ids = [r["id"] for r in resources if r.get("resourceType") == "Patient"]
            patient_id = ids[0] if len(set(ids)) == 1 else None
        if patient_id is not None:
            mine = f"Patient/{patient_id}"
            resources = [
                r for r in resources
                if not (r.get("resourceType") == "Patient" and r.get("id") != patient_id)
                and not (_patient_refs(r) - {mine})
            ]
        return PatientData(resources)
