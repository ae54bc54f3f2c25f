"""Nictiz fixtures loaded into one user's record, one source per standard (as a provider would be)."""
from __future__ import annotations

import pytest

from regie.store.ingest import RecordService
from regie.web.context import AppContext
from tests.fhir.fixtures import SKIP_REASON, available, fixture_files, load, standard_of
from tests.store.record_helpers import version_of

#: Standards the viewer tests load: GP data, lab, documents, vaccinations, self-measurements, appointments.
STANDARDS = ("GenPractData-2-0", "LaboratoryResults-2-0", "PDFA-3-0", "Immunization-2-0",
             "SelfMeasurements-2-0", "eAppointment-2-0", "BgZ-3-0")


def load_fixtures(context: AppContext, email: str, standards: tuple[str, ...] = STANDARDS) -> int:
    if not available():
        pytest.skip(SKIP_REASON)
    service = RecordService(context.db, context.accounts.keyring)
    with context.db.session() as session:
        user = context.accounts.by_email(session, email)
    keys = service.keys(user)
    count = 0
    for path in fixture_files():
        standard = standard_of(path)
        if standard not in standards:
            continue
        outcome = service.import_bytes(keys, load(path), name=path.name, source=standard,
                                       fhir_version=version_of(standard), channel="cli")
        assert outcome.ok, outcome.error
        count += outcome.resources
    return count
