"""Synthetic data for 50, 61, 901, 902, 904, 905, 906, 907: every routine query of the
catalogue is answered, and every served Bundle reads with zero errors."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from regie.fhir import FhirVersion, read_bytes
from regie.sandbox import synth
from regie.sandbox.fhir import FhirConfig, SynthSource, create_fhir_app
from regie.sandbox.grants import GrantStore
from regie.sandbox.services import service

SEED = 7
PROVIDER = "zorgaanbieder"
NEW = ("50", "61", "901", "902", "904", "905", "906", "907")


@pytest.fixture(scope="module")
def served():
    grants = GrantStore()
    client = TestClient(create_fhir_app(FhirConfig(source=SynthSource(SEED)), grants))
    bsns = [synth.person(SEED, i).bsn for i in range(3)]

    def get(sid: str, url: str, person: int = 0):
        token = grants.issue(provider=PROVIDER, bsn=bsns[person], service_ids=(sid,),
                             client_id="pgo.example.test").access_token
        return client.get(f"/{PROVIDER}/fhir/{sid}/{url}",
                          headers={"Authorization": f"Bearer {token}"})

    return get


@pytest.mark.parametrize("sid", NEW)
def test_every_routine_search_reads_cleanly(served, sid):
    svc = service(sid)
    total = 0
    for person in range(3):
        for q in svc.routine():
            if q.interaction != "search":
                continue
            response = served(sid, q.url(), person)
            assert response.status_code == 200, (q.text, response.text[:300])
            doc = read_bytes(response.content, name=f"{sid} {q.text}",
                             fhir_version=FhirVersion(svc.fhir_version))
            assert doc.bundle_type == "searchset"
            total += len(doc.resources)
    assert total > 0


def test_self_measurements_shapes(served):
    bp = served("904", "Observation?code=http://loinc.org|85354-9").json()
    first = bp["entry"][0]["resource"]
    assert first["meta"]["profile"][0].endswith("zib-BloodPressure")
    parts = {c["code"]["coding"][0]["code"]: c["valueQuantity"] for c in first["component"]}
    assert set(parts) == {"8480-6", "8462-4"}  # systolic and diastolic
    assert parts["8480-6"]["code"] == "mm[Hg]" and parts["8480-6"]["value"] > parts["8462-4"]["value"]
    assert first["performer"] == [first["subject"]]  # measured by the person
    weight = served("904", "Observation/$lastn?code=http://loinc.org|29463-7").json()
    assert weight["entry"][0]["resource"]["valueQuantity"]["code"] == "kg"
    glucose_codes = set()
    for person in range(3):
        body = served("904", "Observation?code=http://loinc.org|14743-9,http://loinc.org|14770-2",
                      person).json()
        for entry in body.get("entry", []):
            res = entry["resource"]
            assert res["valueQuantity"]["code"] == "mmol/L"
            glucose_codes.add(res["code"]["coding"][0]["code"])
    assert glucose_codes  # at least one of the three persons measures glucose


def test_questionnaire_tasks_point_at_readable_questionnaires(served):
    tasks = served("906", "Task?code=http://loinc.org|74468-0&status=requested").json()
    assert tasks["total"] >= 1
    for entry in tasks["entry"]:
        ref = entry["resource"]["input"][0]["valueReference"]["reference"]
        response = served("906", ref)
        assert response.status_code == 200
        doc = read_bytes(response.content, name=ref, fhir_version=FhirVersion.STU3)
        assert doc.resources[0].resource_type == "Questionnaire"


def test_ggz_panel_members_resolve(served):
    body = served("50", "Observation?category=http://hl7.org/fhir/observation-category|survey").json()
    resources = {f"Observation/{e['resource']['id']}": e["resource"] for e in body["entry"]}
    panels = [r for r in resources.values() if "related" in r]
    assert panels
    for panel in panels:
        assert all(m["target"]["reference"] in resources for m in panel["related"])


def test_generation_is_lazy_and_deterministic():
    from datetime import date

    person = synth.person(SEED, 1)
    for sid in NEW:
        once = synth.resources_for(person, sid, provider="x", today=date(2026, 1, 15))
        again = synth.resources_for(person, sid, provider="x", today=date(2026, 1, 15))
        assert once == again
    source = SynthSource(SEED)
    assert source._cache == {}  # nothing is made before a PGO asks
