"""Golden snapshots of record items read from Nictiz fixtures (dates resolved to TEST_DAY)."""

from __future__ import annotations

import base64

import pytest

from regie.fhir import FhirVersion, read_bytes
from regie.record import Category, Quantity, apply_attention_flags, item_to_dict
from tests.fhir.fixtures import SKIP_REASON, available, load
from tests.fhir.golden import check_golden

pytestmark = pytest.mark.skipif(not available(), reason=SKIP_REASON)

GP = "GenPractData-2-0/Cert/resources-query-send/"


def _item(rel: str, version: FhirVersion | None = None):  # noqa: ANN202 - test helper
    doc = read_bytes(load(rel), name=rel.rsplit("/", 1)[-1], fhir_version=version)
    assert len(doc.resources) == 1
    (item,) = doc.resources[0].items
    return item


def test_patient_name_and_birth_date() -> None:
    item = _item("GenPractData-2-0/Cert/resources-generic/medmij-gpdata-Patient-kwalificatie1.xml")
    assert item.category is Category.PATIENT
    assert "XXX_Cevat" in item.title
    assert item.date is not None and item.date.precision == "day"
    check_golden("patient", item_to_dict(item))


def test_gp_episode_with_attention_flag() -> None:
    episode = _item(GP + "medmij-gpdata-episodeofcare-ICPC-K78.xml")
    alert = _item(GP + "medmij-gpdata-alert-ICPC-K78.xml")
    other = _item(GP + "medmij-gpdata-episodeofcare-ICPC-D02.xml")
    assert episode.attention is False  # on its own the file carries no flag
    flagged, _, unflagged = apply_attention_flags([episode, alert, other])
    assert flagged.attention is True and unflagged.attention is False
    assert flagged.active is True and unflagged.active is False
    assert flagged.category is Category.PROBLEMS
    check_golden("gp_episode_attention", item_to_dict(flagged))


def test_medication_agreement_with_dose_and_period() -> None:
    item = _item("MP9-3-0-0-beta/Cert/fixtures/mp-MedAgr-mp9-MBH300SCRIPT9MA-tmg.xml")
    assert item.category is Category.MEDICATION
    assert item.kind == "MedicationRequest/medication-agreement"
    assert item.title == "PARACETAMOL TABLET 1000MG"
    assert isinstance(item.value, Quantity) and item.value.unit == "Stuk"
    assert item.date is not None and item.date.precision == "second"
    assert any(d.label == "Dosering" for d in item.details)
    check_golden("medication_agreement", item_to_dict(item))


def test_lab_result_with_value_unit_and_reference_range() -> None:
    item = _item("LaboratoryResults-2-0/Cert/resources-query-send/"
                 "medmij-laboratoryresults-observation1-Hemoglobine.xml")
    assert item.category is Category.RESULTS
    assert isinstance(item.value, Quantity) and item.value.unit
    assert item.reference_ranges and (item.reference_ranges[0].low or item.reference_ranges[0].high)
    check_golden("lab_result", item_to_dict(item))


@pytest.mark.parametrize("line", ["E", "P"])
def test_journal_lines(line: str) -> None:
    item = _item(GP + f"medmij-gpdata-observation-contact01-{line}.xml")
    assert item.category is Category.JOURNAL
    assert item.kind == f"Observation/journal-{line}"
    assert item.link("encounter") is not None
    check_golden(f"journal_{line}", item_to_dict(item))


def test_document_with_its_pdf() -> None:
    base = "PDFA-3-0/Cert/resources/"
    item = _item(base + "medmij-pdfa-DocumentReference-kwalificatie1.xml")
    assert item.category is Category.DOCUMENTS
    link = item.link("binary")
    assert link is not None and link.reference == "Binary/pdfa-binary1"
    doc = read_bytes(load(base + "medmij-pdfa-Binary-kwalificatie1.xml"), name="binary.xml")
    (binary,) = doc.resources
    assert binary.reference == link.reference
    pdf = base64.b64decode(binary.data["content"])
    assert pdf.startswith(b"%PDF")
    check_golden("document", item_to_dict(item))


def test_immunization_with_vaccine_and_date() -> None:
    item = _item("Immunization-2-0/Cert/resources/151d8316-6b4b-11ec-0000-020000000000.xml")
    assert item.category is Category.IMMUNIZATIONS
    assert item.codes and item.date is not None
    check_golden("immunization", item_to_dict(item))


def test_self_measured_blood_pressure() -> None:
    item = _item("SelfMeasurements-2-0/Cert/resources-serve-receive/"
                 "medmij-selfmeasurements-BloodPressure-kwalificatie1.xml")
    assert item.category is Category.VITAL_SIGNS
    assert item.kind == "Observation/blood-pressure"
    codes = {c.codes[0].code for c in item.components}
    assert {"8480-6", "8462-4"} <= codes
    assert all(isinstance(c.value, Quantity) for c in item.components[:2])
    check_golden("self_blood_pressure", item_to_dict(item))
