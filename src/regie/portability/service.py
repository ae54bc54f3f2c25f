"""Entry points for the CLI and the web: exports (audited) and the archive import."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

import orjson

from regie.collect.service import Collections
from regie.config import Settings
from regie.portability.archive import archive_chunks, fhir_ndjson_chunks, snapshot
from regie.portability.extras import SectionContext, collect_all
from regie.portability.importer import ImportReport, import_archive
from regie.portability.ips import SECTION_KEYS, build_ips
from regie.portability.pdf import DEFAULT_SECTIONS, build_pdf
from regie.portability.report import ProviderLine, portability_report
from regie.portability.rows import PortableRecord
from regie.store.crypto import KeyRing
from regie.store.db import Database
from regie.store.ingest import RecordService
from regie.store.models import User
from regie.store.types import utcnow

FORMATS = ("archive", "fhir", "ips", "pdf")
_MEDIA = {
    "archive": ("application/zip", "zip"),
    "fhir": ("application/fhir+ndjson", "ndjson"),
    "ips": ("application/fhir+json", "json"),
    "pdf": ("application/pdf", "pdf"),
}


@dataclass
class Export:
    format: str
    filename: str
    media_type: str
    chunks: Iterator[bytes]  # produce lazily: a web response streams them, the CLI writes them


class Portability:
    def __init__(self, settings: Settings, db: Database, keyring: KeyRing) -> None:
        self.settings = settings
        self.keyring = keyring
        self.db = db
        self.records = RecordService(db, keyring)
        self.collections = Collections(settings, db, keyring)

    def export(self, user: User, fmt: str, *, channel: str, actor_id: str | None = None,
               sections: Iterable[str] | None = None, language: str = "nl",
               now: datetime | None = None) -> Export:
        """An export of ``user``'s record. The audit entry is written (committed) first."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}")
        now = now or utcnow()
        keys = self.records.keys(user)
        with self.records.open(keys) as repo:
            repo.audit(actor_id or user.id, "export", [fmt], channel)
        media_type, suffix = _MEDIA[fmt]
        filename = f"regie-{fmt}-{now.strftime('%Y%m%d-%H%M')}.{suffix}"
        if fmt == "archive":
            chunks = archive_chunks(self.db, keys, now=now, providers=self.report(user),
                                    extras=self._extras(user, keys))
        elif fmt == "fhir":
            chunks = fhir_ndjson_chunks(self.db, keys)
        elif fmt == "ips":
            chunks = self._ips(user, keys, now, sections)
        else:
            chunks = self._pdf(user, keys, now, sections, language)
        return Export(fmt, filename, media_type, chunks)

    def _extras(self, user: User, keys) -> list:
        with self.db.session() as session:
            return collect_all(SectionContext(session, user, keys, self.settings, self.db, self.keyring))

    def _items(self, keys, categories: set[str] | None):
        with self.db.session() as session:
            snapshot(session)
            repo = PortableRecord(session, keys)
            patient = repo.latest_original("Patient")
            items = [(item, stored.source) for stored, item in repo.items(categories)]
        return patient, items

    def _ips(self, user: User, keys, now: datetime, sections: Iterable[str] | None) -> Iterator[bytes]:
        from regie.portability.ips import CATEGORIES

        patient, items = self._items(keys, CATEGORIES)
        bundle = build_ips(items, patient=patient, fallback_name=user.email, now=now,
                           sections=sections or SECTION_KEYS)
        yield orjson.dumps(bundle, option=orjson.OPT_INDENT_2)

    def _pdf(self, user: User, keys, now: datetime, sections: Iterable[str] | None,
             language: str) -> Iterator[bytes]:
        chosen = list(sections or DEFAULT_SECTIONS)
        patient, items = self._items(keys, set(chosen))
        name, birth = _name_of(patient) or user.email, (patient or {}).get("birthDate")
        yield build_pdf(items, patient_name=name, birth_date=birth if isinstance(birth, str) else None,
                        sections=chosen, language=language, now=now)

    def import_archive(self, user: User, file: IO[bytes] | Path, *, channel: str,
                       actor_id: str | None = None) -> ImportReport:
        return import_archive(self.records, self.records.keys(user), file, channel=channel, actor_id=actor_id)

    def report(self, user: User) -> list[ProviderLine]:
        """Which services were collected from which providers (all collections, all consents)."""
        return portability_report(self.collections.history(user.id, limit=1_000_000),
                                  self.collections.consents(user.id))


def _name_of(patient: dict | None) -> str | None:
    for name in (patient or {}).get("name") or []:
        if not isinstance(name, dict):
            continue
        if isinstance(name.get("text"), str):
            return name["text"]
        given = " ".join(g for g in name.get("given") or [] if isinstance(g, str))
        family = name.get("family") if isinstance(name.get("family"), str) else ""
        if given or family:
            return f"{given} {family}".strip()
    return None
