"""The sandbox's checks on questionnaire (906) and correction (909) sends: the Nictiz
reference transactions pass them (when the fixtures are beside the repository), what the
qualification would reject is found, and Regie's own Bundles pass."""
from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from regie.sandbox.fhir.qualify import check_transaction, check_update
from regie.sandbox.fhir.search import PatientData
from regie.sandbox.synth.questionnaires import intake_items
from regie.share.correction import correction_bundle
from regie.share.questionnaire import form as qform
from regie.share.questionnaire.bundle import response_bundle

NICTIZ = (Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "nictiz").resolve()
BSN = "999990007"
BASE = "https://provider.example/fhir/906"
QUESTIONNAIRE = {"resourceType": "Questionnaire", "id": "vl-intake", "url": "https://q.example/intake",
                 "title": "Intake", "item": intake_items()}
TASK = {"resourceType": "Task", "id": "t1", "status": "requested", "intent": "order",
        "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/vl-QuestionnaireProvisioningTask"]},
        "code": {"coding": [{"system": "http://loinc.org", "code": "74468-0"}]},
        "owner": {"reference": "Patient/p1", "display": "J. Jansen"},
        "input": [{"type": {"text": "Questionnaire"},
                   "valueReference": {"reference": "Questionnaire/vl-intake", "display": "Intake"}}]}


def _accepted() -> dict:
    return {**copy.deepcopy(TASK), "status": "accepted"}


def _regie_bundle() -> dict:
    items = qform.parse(QUESTIONNAIRE)
    checked = qform.evaluate(items, {"gewicht": ["70"], "lengte": ["170"], "in-behandeling": ["false"],
                                     "rookt": ["true"], "rookt-hoevaak": ["0"]}, complete=True)
    return response_bundle(_accepted(), QUESTIONNAIRE, qform.response_items(items, checked), base_url=BASE,
                           authored=datetime(2026, 1, 5, tzinfo=ZoneInfo("Europe/Amsterdam")), patient_display="P")


def test_regies_questionnaire_bundle_passes():
    data = PatientData([_accepted(), QUESTIONNAIRE])
    assert check_transaction("906", _regie_bundle(), data, BSN) == []


@pytest.mark.parametrize("spoil, expected", [
    (lambda b, d: d.add(copy.deepcopy(TASK)), "before it was answered"),
    (lambda b, d: b["entry"][1]["resource"]["item"][0]["item"][0].update(linkId="onbekend"), "not in the Questionnaire"),
    (lambda b, d: b["entry"][1]["resource"]["item"][0]["item"][0]["answer"][0].update(
        valueDecimal=None, valueString="x") or b["entry"][1]["resource"]["item"][0]["item"][0]["answer"][0].pop(
        "valueDecimal"), "does not fit type decimal"),
    (lambda b, d: b["entry"][1]["resource"]["item"].pop(0), "required linkId 'gewicht'"),
    (lambda b, d: b["entry"][0]["resource"].update(status="accepted"), "must be completed"),
    (lambda b, d: b["entry"][1]["resource"].update(text={"div": BSN}), "BSN"),
    (lambda b, d: b["entry"][1]["resource"]["questionnaire"].update(reference="https://other"), "another Questionnaire"),
])
def test_what_the_qualification_rejects_is_found(spoil, expected):
    bundle, data = _regie_bundle(), PatientData([_accepted(), QUESTIONNAIRE])
    spoil(bundle, data)
    assert any(expected in f for f in check_transaction("906", bundle, data, BSN))


def test_accepting_a_task_changes_only_its_status():
    assert check_update("906", {**copy.deepcopy(TASK), "status": "accepted"}, TASK) == []
    assert check_update("906", {**copy.deepcopy(TASK), "status": "completed"}, TASK)
    changed = {**copy.deepcopy(TASK), "status": "accepted", "description": "anders"}
    assert "beyond its status" in check_update("906", changed, TASK)[-1]
    assert check_update("906", {**copy.deepcopy(TASK), "status": "accepted"}, None) == ["the Task is not known"]


def test_regies_correction_bundle_passes_and_faults_are_found():
    bundle = correction_bundle(topic="Telefoonnummer", text="Mijn nummer is veranderd.", patient_name="J. Jansen",
                               provider_display="Huisartsenpraktijk", sent=datetime(2026, 1, 5, tzinfo=ZoneInfo("UTC")))
    assert check_transaction("909", bundle, PatientData([]), BSN) == []
    bad = copy.deepcopy(bundle)
    bad["entry"][0]["resource"]["category"][0]["coding"][0]["code"] = "other"
    bad["entry"][0]["resource"]["payload"] = []
    bad["entry"][0]["resource"]["sender"]["reference"] = "urn:uuid:unknown"
    findings = check_transaction("909", bad, PatientData([]), BSN)
    assert any("medRecCxReq" in f for f in findings) and any("no message" in f for f in findings)
    assert any("sender is not the Patient" in f for f in findings)


# --- the reference transactions ----------------------------------------------------------


def _resolved(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\$\{DATE, T, D, [-+]\d+\}", "2026-01-05", text)
    text = (text.replace("${task-fullurl}", "https://provider.example/fhir/906/Task/t1")
            .replace("${task-id}", "t1").replace("${server-base}", "https://provider.example/fhir/906/")
            .replace("${UUID-ST}", "urn:uuid:5a0f2c44-4c5e-4c59-9d49-1e6f1a1b2c3d"))
    return json.loads(text)


@pytest.mark.parametrize("questionnaire, transaction", [
    ("medmij-questionnaires-vl-Questionnaire-PHQ-9.xml", "medmij-questionnaires-vl-Transaction-XXX_Vink-PHQ9.json"),
    ("medmij-questionnaires-vl-Questionnaire-INTAKE-NIEUWE-PATIENT.xml",
     "medmij-questionnaires-vl-Transaction-XXX_Vink-Intake.json"),
])
def test_the_reference_questionnaire_transactions_pass(questionnaire, transaction):
    root = NICTIZ / "Questionnaires-2-0" / "Cert" / "resources"
    q_path, t_path = root / "resources-questionnaires" / questionnaire, root / "resources-specific" / transaction
    if not q_path.is_file() or not t_path.is_file():
        pytest.skip("Nictiz fixtures not present beside the repository")
    from regie.fhir.reader import read_path
    from regie.fhir.version import FhirVersion

    definition = read_path(q_path, fhir_version=FhirVersion.STU3).resources[0].data
    bundle = _resolved(t_path)
    task = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")
    known = {**copy.deepcopy(task), "status": "accepted"}
    known.pop("output", None)
    assert check_transaction("906", bundle, PatientData([known, definition]), BSN) == []


def test_the_reference_correction_transaction_passes():
    path = NICTIZ / "PatientCorrections-1-0" / "Cert" / "resources-specific" / "dwv-Transaction-Scenario-1.json"
    if not path.is_file():
        pytest.skip("Nictiz fixtures not present beside the repository")
    assert check_transaction("909", _resolved(path), PatientData([]), BSN) == []
