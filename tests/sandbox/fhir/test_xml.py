"""FHIR XML output: `_format=xml` or `Accept: application/fhir+xml` gives the same
resources as JSON (round trip through regie.fhir's XML reader), in FHIR element order."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from regie.fhir import FhirVersion, read_bytes
from regie.sandbox.fhir.xmlout import to_xml
from regie.sandbox.services import service
from regie.sandbox.synth import COVERED_SERVICES

from .conftest import PROVIDER, auth

BASE = f"/{PROVIDER}/fhir"
FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "nictiz"


@pytest.mark.parametrize("sid", COVERED_SERVICES)
def test_served_bundles_round_trip_as_xml(client, token, sid) -> None:
    svc = service(sid)
    version = FhirVersion(svc.fhir_version)
    tok = token(sid)
    checked = 0
    for q in svc.routine():
        if q.interaction != "search":
            continue
        url = f"{BASE}/{sid}/{q.url()}"
        as_json = client.get(url, headers=auth(tok))
        as_xml = client.get(url + ("&" if "?" in url else "?") + "_format=xml",
                            headers={"Authorization": f"Bearer {tok}"})
        assert as_xml.status_code == 200
        assert as_xml.headers["content-type"].startswith("application/fhir+xml")
        from_json = read_bytes(as_json.content, name="json", fhir_version=version)
        from_xml = read_bytes(as_xml.content, name="xml", fhir_version=version)
        assert from_xml.format == "xml" and from_xml.bundle_type == "searchset"
        assert [r.data for r in from_xml.resources] == [r.data for r in from_json.resources]
        checked += len(from_xml.resources)
    assert checked > 0 or sid == "907"  # some persons have no allergies


def test_accept_header_and_errors_in_xml(client, token) -> None:
    tok = token("63")
    xml = {"Authorization": f"Bearer {tok}", "Accept": "application/fhir+xml"}
    response = client.get(f"{BASE}/63/Immunization", headers=xml)
    assert response.headers["content-type"].startswith("application/fhir+xml; fhirVersion=4.0")
    assert etree.fromstring(response.content).tag == "{http://hl7.org/fhir}Bundle"
    refused = client.get(f"{BASE}/63/Immunization", headers={"Accept": "application/fhir+xml"})
    assert refused.status_code == 401
    assert etree.fromstring(refused.content).tag == "{http://hl7.org/fhir}OperationOutcome"
    # _format wins over Accept.
    json_anyway = client.get(f"{BASE}/63/Immunization?_format=json", headers=xml)
    assert json_anyway.json()["resourceType"] == "Bundle"
    metadata = client.get(f"{BASE}/63/metadata?_format=application/fhir%2Bxml")
    assert etree.fromstring(metadata.content).tag == "{http://hl7.org/fhir}CapabilityStatement"


def test_primitive_extensions_ids_and_narrative() -> None:
    patient = {
        "resourceType": "Patient", "id": "p1",
        "text": {"status": "generated",
                 "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Jan &amp; Piet</p></div>'},
        "extension": [{"url": "http://example.org/ext", "valueBoolean": True}],
        "name": [{"id": "n1", "family": "Vries", "_family": {"extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix",
             "valueString": "de"}]}, "given": ["Jan", None], "_given": [None, {"id": "g2",
             "extension": [{"url": "http://example.org/x", "valueCode": "a"}]}]}],
        "birthDate": "1950-01-01", "_birthDate": {"id": "bd"},
        "multipleBirthInteger": 2, "active": False,
    }
    xml = to_xml(patient, "R4")
    root = etree.fromstring(xml)
    names = [etree.QName(el).localname for el in root]
    assert names == ["id", "text", "extension", "active", "name", "birthDate",
                     "multipleBirthInteger"]
    back = read_bytes(xml, name="p.xml", fhir_version=FhirVersion.R4).resources[0].data
    assert back == patient
    with pytest.raises(ValueError):
        to_xml({"resourceType": "Patient", "nonsense": 1}, "R4")


def _tags(el: etree._Element) -> list[str]:
    out = []
    for child in el.iter():
        if isinstance(child.tag, str):
            out.append(etree.QName(child).localname)
    return out


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="Nictiz fixtures not found beside the repository")
def test_element_order_matches_the_nictiz_xml_fixtures() -> None:
    files = sorted(FIXTURES.glob("*/Cert/**/*.xml"))[::7][:60]
    assert files
    compared = 0
    for path in files:
        data = path.read_bytes()
        if b"${" in data:  # date placeholders are not valid FHIR values
            continue
        try:
            doc = read_bytes(data, name=path.name)
        except Exception:  # noqa: BLE001 - some fixtures are deliberately invalid
            continue
        if doc.bundle_type is not None:
            continue
        original = etree.fromstring(data, etree.XMLParser(remove_comments=True))
        ours = etree.fromstring(to_xml(doc.resources[0].data, doc.fhir_version))
        assert _tags(ours) == _tags(original), path.name
        compared += 1
    assert compared >= 5
