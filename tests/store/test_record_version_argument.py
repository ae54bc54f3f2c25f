"""import_bytes / import_many / import_paths take the FHIR version in every documented form;
anything else is refused before a file is read, with the record unchanged."""
from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from regie.fhir import FhirVersion, UnknownFhirVersion
from regie.store.db import Database
from tests.store.record_helpers import new_user, service_for

# Valid in STU3 and R4 alike, so only the version passed decides.
PATIENT = orjson.dumps({"resourceType": "Patient", "id": "p1", "gender": "female"})


@pytest.mark.parametrize(("given", "expected"), [("R4", "R4"), ("stu3", "STU3"), ("4.0.1", "R4"),
                                                 (FhirVersion.STU3, "STU3")])
def test_import_bytes_accepts_the_documented_forms(db: Database, given, expected) -> None:
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    outcome = service.import_bytes(keys, PATIENT, name="p.json", fhir_version=given, channel="cli")
    assert outcome.ok and outcome.new == 1, outcome.error
    with service.open(keys) as repo:
        (item,), _ = repo.page(category="patient")
        assert repo.detail(item["id"])["provenance"]["fhir_version"] == expected


@pytest.mark.parametrize("given", ["R5", "4.01", 4, object()])
def test_an_unknown_version_is_refused_before_anything_is_read(db: Database, tmp_path: Path, given) -> None:
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    path = tmp_path / "p.json"
    path.write_bytes(PATIENT)
    calls = [
        lambda: service.import_bytes(keys, PATIENT, name="p.json", fhir_version=given, channel="cli"),
        lambda: service.import_many(keys, [("p.json", PATIENT)], fhir_version=given, channel="web"),
        lambda: service.import_paths(keys, [path], fhir_version=given, channel="cli"),
        lambda: service.import_path(keys, path, fhir_version=given, channel="cli"),
    ]
    for call in calls:
        with pytest.raises(UnknownFhirVersion, match="unknown FHIR version.*STU3.*R4"):
            call()
    with service.open(keys) as repo:
        assert repo.summary()["resources"] == 0
        assert repo.audit_page(limit=10)[0] == []
