"""Helpers for record tests: a user with a data key, and fixtures resolved into a temp folder."""
from __future__ import annotations

import secrets
from collections import Counter
from pathlib import Path

from regie.fhir import FhirVersion
from regie.store.crypto import KeyRing
from regie.store.db import Database
from regie.store.ingest import RecordService
from regie.store.models import User
from regie.store.record import UserKeys
from tests.fhir.fixtures import FIXTURES, R4_STANDARDS, fixture_files, load, naive_counts, standard_of


def version_of(standard: str) -> FhirVersion:
    return FhirVersion.R4 if standard in R4_STANDARDS else FhirVersion.STU3


def new_user(db: Database, keyring: KeyRing, email: str | None = None) -> User:
    with db.session() as session:
        user = User(email=email or f"p-{secrets.token_hex(4)}@voorbeeld.nl", password_hash="-", wrapped_data_key=b"")
        session.add(user)
        session.flush()
        user.wrapped_data_key = keyring.new_wrapped_data_key(user.id)
    return user


def condition(n: int, active: bool, onset: str | None = None) -> dict:
    """A GP problem (R4 Condition) ``c-{n}``, active or resolved."""
    return {"resourceType": "Condition", "id": f"c-{n}", "code": {"text": f"Aandoening {n}"},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active" if active else "resolved"}]},
            "onsetDateTime": onset or f"20{10 + n % 14:02d}-05-{1 + n % 28:02d}",
            "subject": {"reference": "Patient/p1"}}


def service_for(db: Database) -> tuple[RecordService, KeyRing]:
    keyring = KeyRing(secrets.token_bytes(32))
    return RecordService(db, keyring), keyring


def resolve_into(folder: Path, standards: set[str] | None = None) -> dict[str, list[Path]]:
    """Fixture files (placeholders resolved) written under folder/<standard>/...; per standard."""
    out: dict[str, list[Path]] = {}
    for path in fixture_files():
        standard = standard_of(path)
        if standards is not None and standard not in standards:
            continue
        target = folder / path.relative_to(FIXTURES)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(load(path))
        out.setdefault(standard, []).append(target)
    return out


def expected_counts(standard: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in fixture_files():
        if standard_of(path) == standard:
            counts += naive_counts(path)
    return counts


def import_standard(service: RecordService, keys: UserKeys, files: list[Path], standard: str) -> list[str]:
    """Import files with the standard's FHIR version; each file is its own source. Returns errors."""
    errors = []
    for path in files:
        outcome = service.import_bytes(keys, path.read_bytes(), name=path.name,
                                       source=f"{standard}/{path.name}",
                                       fhir_version=version_of(standard), channel="cli")
        if not outcome.ok:
            errors.append(outcome.error)
    return errors
