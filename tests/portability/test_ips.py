"""The International Patient Summary from the Nictiz fixtures: valid FHIR R4 (fhir.resources and
Regie's own validator), a document Bundle with the IPS Composition, every IPS section with its
LOINC code, entries with the IPS profiles, narratives in Dutch and English."""
from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fhir.resources.R4B.bundle import Bundle

from regie.fhir import FhirVersion, read_bytes
from regie.portability.ips import IPS, SECTIONS
from tests.fhir.fixtures import SKIP_REASON, available
from tests.portability.record_fixture import filled_record

pytestmark = pytest.mark.skipif(not available(), reason=SKIP_REASON)

SECTION_LOINC = {"problems": "11450-4", "medication": "10160-0", "allergies": "48765-2",
                 "immunizations": "11369-6", "results": "30954-2", "procedures": "47519-4",
                 "devices": "46264-8", "vital_signs": "8716-3"}
ENTRY_PROFILE = {
    "problems": {"Condition": IPS + "Condition-uv-ips"},
    "medication": {"MedicationStatement": IPS + "MedicationStatement-uv-ips"},
    "allergies": {"AllergyIntolerance": IPS + "AllergyIntolerance-uv-ips"},
    "immunizations": {"Immunization": IPS + "Immunization-uv-ips"},
    "results": {"Observation": IPS + "Observation-results-laboratory-uv-ips"},
    "procedures": {"Procedure": IPS + "Procedure-uv-ips"},
    "devices": {"DeviceUseStatement": IPS + "DeviceUseStatement-uv-ips"},
    "vital_signs": {"Observation": "http://hl7.org/fhir/StructureDefinition/vitalsigns"},
}


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    filled = filled_record(tmp_path_factory.mktemp("ips"))
    yield filled
    filled.db.dispose()


def _ips(record, **options) -> tuple[bytes, dict]:
    made = record.portability.export(record.user, "ips", channel="cli", **options)
    data = b"".join(made.chunks)
    assert made.media_type == "application/fhir+json" and made.filename.endswith(".json")
    return data, orjson.loads(data)


def _structure(data: bytes, bundle: dict) -> dict[str, dict]:
    """Checks every IPS document must pass; returns the sections by key."""
    Bundle.model_validate_json(data)  # FHIR R4 structure (fhir.resources' R4B models)
    doc = read_bytes(data, name="ips.json", fhir_version=FhirVersion.R4)  # Regie's own validation
    assert len(doc.resources) == len(bundle["entry"])
    assert bundle["type"] == "document" and bundle["meta"]["profile"] == [IPS + "Bundle-uv-ips"]
    assert bundle["identifier"]["value"].startswith("urn:uuid:") and bundle["timestamp"]
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    assert len(by_url) == len(bundle["entry"])
    composition = bundle["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert composition["meta"]["profile"] == [IPS + "Composition-uv-ips"]
    assert composition["type"]["coding"][0] == {"system": "http://loinc.org", "code": "60591-5",
                                                "display": "Patient summary Document"}
    assert composition["status"] == "final"
    patient = by_url[composition["subject"]["reference"]]
    assert patient["resourceType"] == "Patient" and patient["meta"]["profile"] == [IPS + "Patient-uv-ips"]
    assert by_url[composition["author"][0]["reference"]]["resourceType"] == "Device"
    sections = {}
    for section in composition["section"]:
        key = next(k for k, code in SECTION_LOINC.items() if section["code"]["coding"][0]["code"] == code)
        sections[key] = section
        div = section["text"]["div"]
        assert 'lang="nl"' in div and 'lang="en"' in div and section["text"]["status"] == "generated"
        assert ("entry" in section) != ("emptyReason" in section)
        for ref in section.get("entry", []):
            resource = by_url[ref["reference"]]  # every entry resolves inside the document
            if "absent-unknown" not in orjson.dumps(resource).decode():
                assert resource["meta"]["profile"] == [ENTRY_PROFILE[key][resource["resourceType"]]]
            subject = resource.get("subject") or resource.get("patient")
            assert subject == {"reference": composition["subject"]["reference"]}
    for required in ("problems", "medication", "allergies"):
        assert sections[required].get("entry"), required
    return sections


def test_ips_from_the_nictiz_fixtures(record) -> None:
    data, bundle = _ips(record)
    sections = _structure(data, bundle)
    assert set(sections) == set(SECTION_LOINC) == {s.key for s in SECTIONS}
    text = data.decode()
    # Content from each standard arrives in its section (STU3 BgZ, R4 immunizations, lab results).
    assert "Bijengif" in sections["allergies"]["text"]["div"]
    assert sections["immunizations"].get("entry") and sections["results"].get("entry")
    assert sections["vital_signs"].get("entry") and sections["problems"].get("entry")
    patient = bundle["entry"][1]["resource"]
    assert patient["birthDate"] and patient["name"][0].get("family")
    assert "Patiëntsamenvatting" in text and "International Patient Summary" in text
    conditions = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition"]
    assert all(c["code"].get("coding") for c in conditions)


def test_ips_of_an_empty_record_says_there_is_no_information(tmp_path: Path) -> None:
    empty = filled_record(tmp_path, standards=())
    try:
        data, bundle = _ips(empty)
        sections = _structure(data, bundle)
        absent = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"][3:]}
        assert set(absent) == {"Condition", "MedicationStatement", "AllergyIntolerance"}
        codes = {r.get("code", r.get("medicationCodeableConcept"))["coding"][0]["code"] for r in absent.values()}
        assert codes == {"no-problem-info", "no-medication-info", "no-allergy-info"}
        for optional in ("immunizations", "results", "procedures", "devices", "vital_signs"):
            assert sections[optional]["emptyReason"]["coding"][0]["code"] == "unavailable"
    finally:
        empty.db.dispose()
