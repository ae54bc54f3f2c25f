"""Malformed and hostile input: only FhirReadError may come out, quickly."""

from __future__ import annotations

import base64

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regie.fhir import FhirReadError, FhirVersion, read_bytes

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _read(data: bytes, version: FhirVersion | None = None) -> None:
    try:
        read_bytes(data, name="fuzz", fhir_version=version, max_bytes=2_000_000)
    except FhirReadError as exc:
        assert not exc.reason.startswith("internal error"), exc.reason
        assert exc.name == "fuzz"


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    _read(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
fhir_keys = st.sampled_from([
    "id", "status", "code", "subject", "valueQuantity", "effectiveDateTime", "birthDate",
    "name", "contained", "entry", "resource", "extension", "meta", "text", "component",
    "_birthDate", "foo", "resourceType",
])


@SETTINGS
@given(st.sampled_from(["Patient", "Observation", "Bundle", "Nope", ""]),
       st.dictionaries(fhir_keys, json_values, max_size=6),
       st.sampled_from([None, FhirVersion.STU3, FhirVersion.R4]))
def test_random_json_resources(rtype: str, body: dict, version: FhirVersion | None) -> None:
    body = {**body, "resourceType": rtype}
    _read(msgspec.json.encode(body), version)


@SETTINGS
@given(st.text(max_size=300))
def test_broken_json_text(text: str) -> None:
    _read(("{" + text).encode("utf-8", "surrogatepass"))


xml_names = st.sampled_from(["id", "status", "code", "coding", "system", "value",
                             "extension", "name", "given", "birthDate", "foo", "div",
                             "contained", "Patient", "entry", "resource"])


@st.composite
def xml_docs(draw: st.DrawFn) -> bytes:
    def element(depth: int) -> str:
        name = draw(xml_names)
        attrs = ""
        if draw(st.booleans()):
            val = draw(st.text(alphabet="abc123-:T+ <&\"'", max_size=12))
            val = val.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            attrs = f' value="{val}"'
        kids = "".join(element(depth + 1) for _ in range(draw(st.integers(0, 3 if depth < 3 else 0))))
        return f"<{name}{attrs}>{kids}</{name}>" if kids else f"<{name}{attrs}/>"

    root = draw(st.sampled_from(["Patient", "Observation", "Bundle", "Foo"]))
    ns = draw(st.sampled_from(['xmlns="http://hl7.org/fhir"', "", 'xmlns="urn:x"']))
    body = "".join(element(0) for _ in range(draw(st.integers(0, 4))))
    return f"<{root} {ns}>{body}</{root}>".encode()


@SETTINGS
@given(xml_docs(), st.sampled_from([None, FhirVersion.STU3, FhirVersion.R4]))
def test_random_xml(doc: bytes, version: FhirVersion | None) -> None:
    _read(doc, version)


@SETTINGS
@given(st.binary(max_size=200))
def test_truncated_and_garbled_xml(noise: bytes) -> None:
    base = b'<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><gender value="male"/></Patient>'
    cut = len(noise) % len(base)
    _read(base[:cut] + noise)


ENTITY_ATTACKS = [
    # billion laughs
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
    b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b'<Patient xmlns="http://hl7.org/fhir"><id value="&lol2;"/></Patient>',
    # external entity (XXE)
    b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<Patient xmlns="http://hl7.org/fhir"><id value="&xxe;"/></Patient>',
    # DOCTYPE after a comment and in odd case
    b'<!-- hi --><!doctype Patient><Patient xmlns="http://hl7.org/fhir"/>',
    # parameter entity
    b'<!DOCTYPE p [<!ENTITY % ext SYSTEM "http://example.invalid/x.dtd"> %ext;]><Patient/>',
]


@pytest.mark.parametrize("data", ENTITY_ATTACKS)
def test_entity_attacks_are_refused(data: bytes) -> None:
    with pytest.raises(FhirReadError, match="DOCTYPE"):
        read_bytes(data, name="evil.xml", fhir_version=FhirVersion.STU3)


def test_undeclared_entity_reference_is_an_error() -> None:
    data = b'<Patient xmlns="http://hl7.org/fhir"><id value="&undefined;"/></Patient>'
    with pytest.raises(FhirReadError):
        read_bytes(data, name="e.xml", fhir_version=FhirVersion.STU3)


@pytest.mark.parametrize("depth", [300, 5000, 100_000])
def test_deep_nesting(depth: int) -> None:
    json_doc = b'{"resourceType":"Patient","extension":' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(FhirReadError):
        read_bytes(json_doc, name="deep.json", fhir_version=FhirVersion.R4)
    xml_doc = (b'<Patient xmlns="http://hl7.org/fhir">' + b"<extension>" * depth
               + b"</extension>" * depth + b"</Patient>")
    with pytest.raises(FhirReadError):
        read_bytes(xml_doc, name="deep.xml", fhir_version=FhirVersion.R4)


def test_very_large_strings_are_handled() -> None:
    # FHIR limits a string to 1 MB: a name of exactly 1 MB is read, one character more is not.
    limit = 1024 * 1024
    ok = msgspec.json.encode({"resourceType": "Patient", "id": "p1", "name": [{"text": "x" * limit}]})
    assert read_bytes(ok, name="big.json", fhir_version=FhirVersion.R4).resources[0].items[0].title == "x" * limit
    for size in (limit + 1, 50 * 1024 * 1024):  # up to 50 MB in one string, inside the file limit
        data = msgspec.json.encode({"resourceType": "Patient", "id": "p1", "name": [{"text": "x" * size}]})
        with pytest.raises(FhirReadError, match=r"\$\.name\[0\]\.text: text is longer than FHIR allows"):
            read_bytes(data, name="big.json", fhir_version=FhirVersion.R4)
    with pytest.raises(FhirReadError, match="larger than the limit"):
        read_bytes(ok, name="big.json", fhir_version=FhirVersion.R4, max_bytes=1_000_000)
    # A document travels base64-encoded: it may be larger than 1 MB.
    pdf = base64.b64encode(b"%PDF-1.4 " + b"0" * (2 * limit)).decode()
    binary = msgspec.json.encode({"resourceType": "Binary", "id": "b1", "contentType": "application/pdf",
                                  "data": pdf})
    assert read_bytes(binary, name="pdf.json", fhir_version=FhirVersion.R4).resources[0].resource_type == "Binary"
    xml = (b'<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><name><text value="'
           + b"x" * 11_000_000 + b'"/></name></Patient>')
    with pytest.raises(FhirReadError):  # libxml2's 10 MB node limit (huge_tree=False)
        read_bytes(xml, name="big.xml", fhir_version=FhirVersion.R4)


@pytest.mark.parametrize("data", [
    b'{"resourceType": "Patient", "birthDate": "2020-02-30T"}',
    b'{"resourceType": "Patient", "birthDate": "17-05-1970"}',
    b'{"resourceType": "Observation", "status": "final", "code": {}, '
    b'"effectiveDateTime": "2020-01-01T25:00:00Z"}',
    b'{"resourceType": 5}',
    b'[{"resourceType": "Patient"}]',
    b'{"resourceType": "Patient", "id": null}',
    b'{"resourceType": "Patient", "name": [{"given": "Anna"}]}',
])
def test_bad_values_are_rejected(data: bytes) -> None:
    with pytest.raises(FhirReadError):
        read_bytes(data, name="bad.json", fhir_version=FhirVersion.STU3)
