"""Every Bundle type the issue names (searchset with _include, collection, transaction,
batch, document), in JSON and XML, is split into its resources; partial dates stay as given."""
from __future__ import annotations

import orjson
import pytest

from regie.fhir import FhirVersion, read_bytes
from regie.record import Category

SUBJECT = {"reference": "Patient/p1"}


def _condition(rid: str, onset: str) -> dict:
    return {"resourceType": "Condition", "id": rid, "subject": SUBJECT,
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "195967001", "display": "Astma"}]},
            "onsetDateTime": onset}


def _bundle(kind: str) -> dict:
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Jansen"}]}
    entries = [{"fullUrl": "urn:uuid:0b8a6a6e-3a1e-4a47-9a55-5f2a3f0e0001", "resource": _condition("c1", "2020")},
               {"fullUrl": "urn:uuid:0b8a6a6e-3a1e-4a47-9a55-5f2a3f0e0002", "resource": _condition("c2", "2020-07")},
               {"fullUrl": "urn:uuid:0b8a6a6e-3a1e-4a47-9a55-5f2a3f0e0003", "resource": patient}]
    if kind == "searchset":
        entries[0]["search"] = entries[1]["search"] = {"mode": "match"}
        entries[2]["search"] = {"mode": "include"}  # an _include'd resource
    if kind in ("transaction", "batch"):
        for entry in entries:
            entry["request"] = {"method": "PUT", "url": f"{entry['resource']['resourceType']}/{entry['resource']['id']}"}
    if kind == "document":
        composition = {"resourceType": "Composition", "id": "doc1", "status": "final", "subject": SUBJECT,
                       "type": {"text": "Samenvatting"}, "date": "2024-01-02T10:00:00+01:00", "title": "Samenvatting",
                       "author": [{"display": "Huisarts"}]}
        entries.insert(0, {"fullUrl": "urn:uuid:0b8a6a6e-3a1e-4a47-9a55-5f2a3f0e0000", "resource": composition})
    bundle = {"resourceType": "Bundle", "type": kind, "entry": entries}
    if kind == "document":
        bundle["identifier"] = {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0b8a6a6e-3a1e-4a47-9a55-5f2a3f0e00ff"}
        bundle["timestamp"] = "2024-01-02T10:00:00+01:00"
    return bundle


def _as_xml(value, name: str) -> str:
    """Minimal FHIR XML for the dicts above (strings, objects, lists; no primitives extensions)."""
    if isinstance(value, list):
        return "".join(_as_xml(v, name) for v in value)
    if isinstance(value, dict):
        if "resourceType" in value:
            inner = "".join(_as_xml(v, k) for k, v in value.items() if k != "resourceType")
            resource = f'<{value["resourceType"]} xmlns="http://hl7.org/fhir">{inner}</{value["resourceType"]}>'
            return f"<{name}>{resource}</{name}>" if name else resource
        return f"<{name}>{''.join(_as_xml(v, k) for k, v in value.items())}</{name}>"
    return f'<{name} value="{value}"/>'


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("kind", ["searchset", "collection", "transaction", "batch", "document"])
def test_every_bundle_type_is_split_into_its_resources(kind: str, fmt: str) -> None:
    bundle = _bundle(kind)
    data = orjson.dumps(bundle) if fmt == "json" else _as_xml(bundle, "").encode()
    doc = read_bytes(data, name=f"{kind}.{fmt}", fhir_version=FhirVersion.R4)
    assert doc.bundle_type == kind and doc.format == fmt
    types = [r.resource_type for r in doc.resources]
    assert types == (["Composition"] if kind == "document" else []) + ["Condition", "Condition", "Patient"]
    if kind == "searchset":
        assert [r.search_mode for r in doc.resources] == ["match", "match", "include"]
    conditions = [r for r in doc.resources if r.resource_type == "Condition"]
    dates = [(r.items[0].date.text, r.items[0].date.precision) for r in conditions]
    assert dates == [("2020", "year"), ("2020-07", "month")]  # partial dates kept as given
    assert all(r.items[0].category is Category.PROBLEMS for r in conditions)
    assert [r.full_url for r in conditions][0].startswith("urn:uuid:")
