"""Reader behaviour on small synthetic files: conversion rules, errors, detection."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from regie.fhir import FhirReadError, FhirVersion, read_bytes, read_path
from regie.record import Category, Quantity

DATA = Path(__file__).resolve().parents[1] / "data" / "fhir" / "synthetic"


def test_xml_conversion_follows_fhir_json_rules() -> None:
    doc = read_path(DATA / "observation-stu3.xml")
    assert doc.fhir_version is FhirVersion.STU3 and doc.format == "xml"
    (res,) = doc.resources
    data = msgspec.json.decode(res.json)
    assert list(data)[0] == "resourceType"
    assert isinstance(data["category"], list)  # repeating element, even when once
    coding = data["code"]["coding"][0]
    assert coding["id"] == "c1" and coding["userSelected"] is False
    assert data["_effectiveDateTime"]["extension"][0]["valueInteger"] == 3
    assert b'"value":72.50' in res.json  # decimal precision kept exactly
    assert data["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
    (item,) = res.items
    assert item.category is Category.VITAL_SIGNS
    assert item.value == Quantity(Decimal("72.50"), "kg", "http://unitsofmeasure.org", "kg")
    assert doc.source.startswith(b"<?xml")


def test_json_with_contained_and_primitive_extensions() -> None:
    doc = read_path(DATA / "patient-r4.json")
    assert doc.fhir_version is FhirVersion.R4
    (res,) = doc.resources
    assert res.contained[0].resource_type == "Organization"
    assert res.contained[0].items[0].title == "Praktijk Test"
    (item,) = res.items
    assert item.title == "Anna Maria XXX_Test"
    assert item.date is not None and item.date.text == "1970-05" and item.date.precision == "month"


def _obs(**extra: object) -> bytes:
    base = {"resourceType": "Observation", "id": "o1", "status": "final",
            "code": {"text": "x"}}
    base.update(extra)
    return msgspec.json.encode(base)


@pytest.mark.parametrize(("data", "fragment", "location"), [
    (_obs(foo=1), "unknown element `foo`", "$"),
    (_obs(status="done"), "status 'done' is not one of", "$.status"),
    (_obs(effectiveDateTime="2020-01-01T10:00:00"), "wrong format", "$.effectiveDateTime"),
    (_obs(valueQuantity={"value": "72"}), "Expected `float`", "$.valueQuantity.value"),
    (_obs(valueString="a", valueBoolean=True), "only one of value[x]", "$"),
    (_obs(id="bad id!"), "wrong format", "$.id"),
    (_obs(category={"text": "x"}), "Expected `array`", "$.category"),
])
def test_json_errors_name_resource_and_path(data: bytes, fragment: str, location: str) -> None:
    with pytest.raises(FhirReadError) as info:
        read_bytes(data, name="x.json", fhir_version=FhirVersion.R4)
    err = info.value
    assert fragment in err.reason
    assert err.location == location and err.name == "x.json"
    assert err.resource_type == "Observation"


def test_bad_bundle_entry_fails_the_whole_file_naming_the_entry() -> None:
    good = {"resourceType": "Patient", "id": "p1"}
    bad = {"resourceType": "Patient", "id": "p2", "birthDate": "1970-13-45"}
    bundle = {"resourceType": "Bundle", "type": "searchset",
              "entry": [{"resource": good}, {"resource": bad}]}
    with pytest.raises(FhirReadError) as info:
        read_bytes(msgspec.json.encode(bundle), name="b.json", fhir_version=FhirVersion.STU3)
    assert info.value.resource_id == "p2"
    assert info.value.location == "$.entry[1].resource.birthDate"


def test_xml_errors_carry_a_line() -> None:
    xml = (b'<Patient xmlns="http://hl7.org/fhir">\n  <id value="p1"/>\n'
           b'  <active value="yes"/>\n</Patient>')
    with pytest.raises(FhirReadError) as info:
        read_bytes(xml, name="p.xml", fhir_version=FhirVersion.STU3)
    assert info.value.location == "line 3" and "true' or 'false" in info.value.reason
    xml2 = (b'<Patient xmlns="http://hl7.org/fhir">\n  <id value="p1"/>\n'
            b'  <birthDate value="1970-13-45"/>\n</Patient>')
    with pytest.raises(FhirReadError) as info:
        read_bytes(xml2, name="p.xml", fhir_version=FhirVersion.STU3)
    assert info.value.location == "line 3" and info.value.resource_id == "p1"


def test_singleton_element_repeated_in_xml_is_an_error() -> None:
    xml = (b'<Patient xmlns="http://hl7.org/fhir"><id value="p1"/>'
           b'<gender value="male"/><gender value="female"/></Patient>')
    with pytest.raises(FhirReadError, match="more than once"):
        read_bytes(xml, name="p.xml", fhir_version=FhirVersion.STU3)


def test_doctype_is_refused() -> None:
    xml = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n'
           b'<Patient xmlns="http://hl7.org/fhir"><id value="&lol;"/></Patient>')
    with pytest.raises(FhirReadError, match="DOCTYPE") as info:
        read_bytes(xml, name="evil.xml", fhir_version=FhirVersion.STU3)
    assert info.value.location == "line 2"


def test_undetectable_version_is_a_clear_error_and_can_be_passed() -> None:
    data = b'{"resourceType": "Patient", "id": "p1", "gender": "male"}'
    with pytest.raises(FhirReadError, match="cannot tell whether this is FHIR STU3 or R4"):
        read_bytes(data, name="p.json")
    assert read_bytes(data, name="p.json", fhir_version=FhirVersion.R4).resources


def test_structure_decides_the_version_when_profiles_are_silent() -> None:
    stu3 = b'{"resourceType": "Condition", "id": "c1", "clinicalStatus": "active", ' \
        b'"subject": {"reference": "Patient/p"}}'
    r4 = b'{"resourceType": "Condition", "id": "c1", "clinicalStatus": {"text": "actief"}, ' \
        b'"subject": {"reference": "Patient/p"}}'
    assert read_bytes(stu3, name="c.json").fhir_version is FhirVersion.STU3
    assert read_bytes(r4, name="c.json").fhir_version is FhirVersion.R4


def test_size_limit_and_non_fhir_input() -> None:
    with pytest.raises(FhirReadError, match="larger than the limit"):
        read_bytes(b"{}" * 100, name="big.json", max_bytes=50)
    with pytest.raises(FhirReadError, match="neither FHIR JSON"):
        read_bytes(b"hello", name="x.txt")
    with pytest.raises(FhirReadError, match="empty"):
        read_bytes(b"  ", name="x.txt")


def test_unknown_type_goes_to_other_with_narrative() -> None:
    data = msgspec.json.encode({
        "resourceType": "Basic", "id": "b1", "code": {"text": "Iets"},
        "text": {"status": "generated",
                 "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Hallo &amp; dag</p></div>'},
    })
    (res,) = read_bytes(data, name="b.json", fhir_version=FhirVersion.R4).resources
    (item,) = res.items
    assert item.category is Category.OTHER
    assert item.narrative == "Hallo & dag"
