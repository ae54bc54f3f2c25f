"""--data mode: the Nictiz fixtures, read in place, served per provider/service/person."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from regie.sandbox.fhir import FhirConfig, FolderSource, create_fhir_app, resolve_placeholders
from regie.sandbox.grants import GrantStore

FIXTURES = (Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures"
            / "nictiz").resolve()

# (service, standard folder, BSN we give the person, Patient id in the fixtures)
PEOPLE = [
    ("63", "Immunization-2-0", "999900011", "nl-core-Patient--XXX-Boekwijt"),
    ("63", "Immunization-2-0", "999900023", "nl-core-Patient--AntoonvandeXXX-Bergge"),
    ("51", "PDFA-3-0", "999900035", "example-pdfa-kwalificatie1"),
    ("51", "PDFA-3-0", "999900047", "example-pdfa-kwalificatie3"),
    ("903", "LaboratoryResults-2-0", "999900059", "laboratoryresults-patient-kwalificatie1"),
    ("905", "eAppointment-2-0", "999900060", "eAfspraak-Patient-kwalificatie1"),
    ("48", "BgZ-3-0", "999900072", "medmij-bgz-patient-ts-01"),
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    if not FIXTURES.is_dir():
        pytest.skip("Nictiz fixtures not present beside the repository")
    root = tmp_path_factory.mktemp("data")
    for sid, std, bsn, pid in PEOPLE:
        person = root / "nictizzorg" / sid / bsn
        person.mkdir(parents=True)
        (person / "person.toml").write_text(
            f'patient = "{pid}"\ninclude = ["{FIXTURES / std}"]\n', encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def served(data_dir):
    grants = GrantStore()
    app = create_fhir_app(FhirConfig(source=FolderSource(data_dir)), grants)
    return TestClient(app), grants


def _get(served, sid: str, bsn: str, query: str) -> dict:
    client, grants = served
    tok = grants.issue(provider="nictizzorg", bsn=bsn, service_ids=(sid,),
                       client_id="pgo.example.test").access_token
    resp = client.get(f"/nictizzorg/fhir/{sid}/{query}",
                      headers={"Authorization": f"Bearer {tok}"})
    assert resp.status_code == 200, resp.text[:300]
    return resp.json()


def test_persons_listed(data_dir) -> None:
    assert len(FolderSource(data_dir).persons()) == len(PEOPLE)


@pytest.mark.parametrize(("sid", "bsn", "query", "count"), [
    ("63", "999900011", "Immunization", 2),
    ("63", "999900023", "Immunization", 1),
    ("51", "999900035", "DocumentReference?status=current", 3),
    ("51", "999900047", "DocumentReference?status=current", 2),
    ("51", "999900047", "DocumentManifest?status=current", 2),
    ("903", "999900059", "Observation?category=http://snomed.info/sct|49581000146104", 3),
    ("48", "999900072", "Condition", 6),
    ("48", "999900072", "Consent?category=http://snomed.info/sct|11291000146105", 1),
    ("48", "999900072", "Immunization?status=completed", 1),
    ("48", "999900072", "Patient?_include=Patient:general-practitioner", 1),
])
def test_expected_counts(served, sid, bsn, query, count) -> None:
    assert _get(served, sid, bsn, query)["total"] == count


def test_binary_and_patient_separation(served) -> None:
    docs = _get(served, "51", "999900035", "DocumentReference?status=current")
    url = docs["entry"][0]["resource"]["content"][0]["attachment"]["url"]
    client, grants = served
    tok = grants.issue(provider="nictizzorg", bsn="999900035", service_ids=("51",),
                       client_id="c").access_token
    pdf = client.get(f"/nictizzorg/fhir/51/{url.split('/fhir/')[-1]}",
                     headers={"Authorization": f"Bearer {tok}"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    tok = grants.issue(provider="nictizzorg", bsn="999900011", service_ids=("63",),
                       client_id="c").access_token
    h = {"Authorization": f"Bearer {tok}"}
    base = "/nictizzorg/fhir/63/Patient/"
    assert client.get(base + "nl-core-Patient--XXX-Boekwijt", headers=h).status_code == 200
    assert client.get(base + "nl-core-Patient--AntoonvandeXXX-Bergge",
                      headers=h).status_code == 404


def test_dates_resolved_relative_to_today(served) -> None:
    appts = _get(served, "905", "999900060", "Appointment")
    assert appts["total"] >= 1
    text = str(appts)
    assert "${DATE" not in text
    recent = (date.today() - timedelta(days=365)).isoformat()
    within = _get(served, "905", "999900060", f"Appointment?date=ge{recent}")
    assert within["total"] >= 1


def test_resolve_placeholders() -> None:
    today = date(2024, 3, 31)
    assert resolve_placeholders(b'"${DATE, T, D, -5}T10:00:00Z"', today) == \
        b'"2024-03-26T10:00:00Z"'
    assert resolve_placeholders(b"${DATE, T, D, +0} ${DATE, T, Y, -3}", today) == \
        b"2024-03-31 2021-03-31"
    assert resolve_placeholders(b"${task-id}", today) == b"${task-id}"
