"""Malformed and adversarial input through the import path: a clear error, an unchanged record."""
from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regie.fhir import FhirVersion
from regie.store.db import Database
from regie.store.migrate import upgrade
from tests.store.record_helpers import new_user, service_for

STU3 = FhirVersion.STU3
GOOD = orjson.dumps({
    "resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1", "gender": "female",
                      "name": [{"family": "Jansen"}], "birthDate": "1970-01-01"}},
        {"resource": {"resourceType": "Observation", "id": "o1", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                      "effectiveDateTime": "2024-05-01T10:00:00+02:00",
                      "valueQuantity": {"value": 70.5, "unit": "kg"}}},
    ],
})
GOOD_XML = (b'<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/><entry><resource>'
            b'<Patient><id value="p2"/><gender value="male"/><birthDate value="1971-02-03"/></Patient>'
            b'</resource></entry></Bundle>')
XML_BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            b'<Patient xmlns="http://hl7.org/fhir"><id value="&lol2;"/></Patient>')


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("adversarial")
    db = Database(f"sqlite:///{folder / 'record.sqlite3'}")
    upgrade(db.engine)
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    assert service.import_bytes(keys, GOOD, name="good.json", channel="cli", fhir_version=STU3).ok
    yield service, keys
    db.dispose()


def _state(service, keys):
    with service.open(keys) as repo:
        return repo.summary(), len(repo.audit_page(limit=200)[0])


def _mutations() -> st.SearchStrategy[bytes]:
    truncated = st.integers(0, len(GOOD) - 1).map(lambda n: GOOD[:n])
    flipped = st.tuples(st.integers(0, len(GOOD) - 1), st.sampled_from(b'{}[]":,x\x00')).map(
        lambda t: GOOD[: t[0]] + bytes([t[1]]) + GOOD[t[0] + 1 :])
    wrong_type = st.sampled_from(["Patiënt", "Bundle2", "", "Binary "]).map(
        lambda t: GOOD.replace(b'"Patient"', orjson.dumps(t)))
    unknown_field = st.text(min_size=1, max_size=10).map(
        lambda k: GOOD.replace(b'"gender"', orjson.dumps("x" + k) + b':1,"gender"'))
    bad_date = st.text(max_size=12).map(lambda d: GOOD.replace(b'"1970-01-01"', orjson.dumps(d + "!")))
    deep = st.integers(50, 3000).map(lambda n: b'{"resourceType":"Patient","extension":' + b"[" * n + b"]" * n + b"}")
    xml_truncated = st.integers(1, len(GOOD_XML) - 1).map(lambda n: GOOD_XML[:n])
    xml_flipped = st.tuples(st.integers(0, len(GOOD_XML) - 1), st.sampled_from(b'<>/"=&x\x00')).map(
        lambda t: GOOD_XML[: t[0]] + bytes([t[1]]) + GOOD_XML[t[0] + 1 :])
    xml_bad_date = st.text(max_size=12).map(lambda d: GOOD_XML.replace(b"1971-02-03", d.encode() + b"!"))
    xml_entity = st.sampled_from([b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', b"<!ENTITY e 'x'>"]).map(
        lambda d: d + GOOD_XML)
    return st.one_of(truncated, flipped, wrong_type, unknown_field, bad_date, deep, st.binary(max_size=200),
                     st.just(XML_BOMB), xml_truncated, xml_flipped, xml_bad_date, xml_entity)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_mutations())
def test_malformed_input_leaves_the_record_unchanged(record, data: bytes) -> None:
    service, keys = record
    before = _state(service, keys)
    outcome = service.import_bytes(keys, data, name="upload.json", source="other", channel="cli", fhir_version=STU3)
    if outcome.ok:  # a harmless mutation (e.g. inside a string) may still be valid FHIR
        return
    assert outcome.error and outcome.error.startswith("upload.json") and outcome.error_reason
    assert "internal error" not in outcome.error  # a specific reason, not a crash
    assert _state(service, keys) == before


def test_entities_and_large_input_are_refused(record) -> None:
    service, keys = record
    before = _state(service, keys)
    refused = service.import_bytes(keys, XML_BOMB, name="bomb.xml", channel="cli", fhir_version=STU3)
    assert not refused.ok and "DOCTYPE" in refused.error
    huge = b'{"resourceType":"Patient","id":"p","name":[{"family":"' + b"a" * (2 * 1024 * 1024) + b'"}]}'
    too_big = service.import_bytes(keys, huge, name="huge.json", channel="cli", fhir_version=STU3, max_bytes=1024 * 1024)
    assert not too_big.ok
    # 50 MB in one string (the file is within the default size limit): FHIR allows 1 MB.
    long_name = b'{"resourceType":"Patient","id":"p","name":[{"family":"' + b"a" * (50 * 1024 * 1024) + b'"}]}'
    refused_string = service.import_bytes(keys, long_name, name="long.json", channel="cli", fhir_version=STU3)
    assert not refused_string.ok
    assert refused_string.error_resource == "Patient/p" and refused_string.error_location == "$.name[0].family"
    assert "longer than FHIR allows" in refused_string.error
    assert _state(service, keys) == before
