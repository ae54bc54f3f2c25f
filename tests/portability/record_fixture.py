"""A record filled from the Nictiz fixtures (several standards, STU3 and R4), shared by the IPS
and PDF tests: built once per test module on SQLite (these tests are about the documents;
tests/portability/test_cli_roundtrip.py covers both databases)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from regie.portability.service import Portability
from regie.config import Settings
from regie.store.db import Database
from regie.store.migrate import upgrade
from regie.store.models import User
from tests.fhir.fixtures import fixture_files, load, standard_of
from tests.store.record_helpers import new_user, service_for, version_of

STANDARDS = ("BgZ-3-0", "Immunization-2-0", "LaboratoryResults-2-0", "SelfMeasurements-2-0")


@dataclass
class FilledRecord:
    portability: Portability
    user: User
    db: Database


def filled_record(folder: Path, standards: tuple[str, ...] = STANDARDS) -> FilledRecord:
    db = Database(f"sqlite:///{folder / 'record.sqlite3'}")
    upgrade(db.engine)
    service, keyring = service_for(db)
    user = new_user(db, keyring)
    keys = service.keys(user)
    for standard in standards:
        files = [(p.name, load(p)) for p in fixture_files() if standard_of(p) == standard]
        outcomes = service.import_many(keys, files, fhir_version=version_of(standard), channel="cli",
                                       source=standard)
        assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    settings = Settings(home=folder, database_url=db.url)
    return FilledRecord(Portability(settings, db, keyring), user, db)
