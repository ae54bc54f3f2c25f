"""The FHIR version a caller passes: every documented form works, anything else is a clear error."""
from __future__ import annotations

import orjson
import pytest

from regie.fhir import FhirReadError, FhirVersion, UnknownFhirVersion, parse_fhir_version, read_bytes, read_path

# Valid in STU3 and R4 alike: without a version the reader cannot tell and says so.
PATIENT = orjson.dumps({"resourceType": "Patient", "id": "p1", "gender": "female"})


@pytest.mark.parametrize(("given", "expected"), [
    (FhirVersion.R4, FhirVersion.R4), ("R4", FhirVersion.R4), ("r4", FhirVersion.R4), (" R4 ", FhirVersion.R4),
    ("4.0.1", FhirVersion.R4), ("4.0", FhirVersion.R4), (FhirVersion.STU3, FhirVersion.STU3),
    ("STU3", FhirVersion.STU3), ("stu3", FhirVersion.STU3), ("3.0.2", FhirVersion.STU3), ("3.0.1", FhirVersion.STU3),
])
def test_documented_forms_are_read_as_that_version(given, expected) -> None:
    assert parse_fhir_version(given) is expected
    doc = read_bytes(PATIENT, name="p.json", fhir_version=given)
    assert doc.fhir_version is expected and isinstance(doc.fhir_version, FhirVersion)


def test_none_means_detect() -> None:
    assert parse_fhir_version(None) is None
    with pytest.raises(FhirReadError, match="cannot tell whether this is FHIR STU3 or R4"):
        read_bytes(PATIENT, name="p.json", fhir_version=None)


@pytest.mark.parametrize("given", ["R5", "DSTU2", "5.0.0", "1.0.2", "4.01", "4.0.x", "", "R 4", 4, 4.0, b"R4", ["R4"]])
def test_anything_else_is_a_specific_error_not_an_internal_one(given, tmp_path) -> None:
    with pytest.raises(UnknownFhirVersion, match="unknown FHIR version") as caught:
        parse_fhir_version(given)
    assert "STU3" in str(caught.value) and "R4" in str(caught.value)
    with pytest.raises(FhirReadError) as read_error:
        read_bytes(PATIENT, name="p.json", fhir_version=given)
    assert read_error.value.name == "p.json"
    assert read_error.value.reason.startswith("unknown FHIR version")
    assert "internal error" not in str(read_error.value)
    path = tmp_path / "p.json"
    path.write_bytes(PATIENT)
    with pytest.raises(FhirReadError, match="unknown FHIR version"):
        read_path(path, fhir_version=given)


def test_a_long_value_is_cut_in_the_message() -> None:
    with pytest.raises(UnknownFhirVersion) as caught:
        parse_fhir_version("x" * 10_000)
    assert len(str(caught.value)) < 300
