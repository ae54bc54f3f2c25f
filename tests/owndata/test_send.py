"""The batch Bundle of self-measurements meets the qualification checks and the sandbox takes it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import orjson

from regie.fhir import FhirVersion, read_bytes
from regie.owndata import measurements as meas
from regie.owndata.send import check_bundle, measurements_bundle
from regie.sandbox.fhir.receive import apply_bundle

NOW = datetime(2026, 1, 5, 8, 30, tzinfo=timezone.utc)


def _all_types() -> list[meas.Measurement]:
    raws = {"blood_pressure": {"systolic": 128, "diastolic": 82}, "bmi": {"value": 23}}
    out = []
    for index, (key, kind) in enumerate(meas.TYPES.items()):
        raw = raws.get(key, {spec.name: (kind.fields[0].bounds.plausible[0] + kind.fields[0].bounds.plausible[1]) / 2
                             for spec in kind.fields})
        m = meas.check(key, {k: Decimal(v).quantize(Decimal(1)) for k, v in raw.items()}, unit=None,
                       time=NOW - timedelta(hours=index), position="sitting" if key == "blood_pressure" else None,
                       moment="fasting" if key == "blood_glucose" else None, now=NOW)
        if key == "bmi":
            m.derived_from = ["weight-1", "height-1"]
        out.append(m)
    return out


def test_bundle_passes_the_checks_and_the_sandbox() -> None:
    bundle = measurements_bundle(_all_types(), "Marieke Bergzoon")
    assert bundle["type"] == "batch" and len(bundle["entry"]) == 1 + len(meas.TYPES)
    assert check_bundle(bundle, bsn="999911120") == []
    doc = read_bytes(orjson.dumps(bundle), name="send.json", fhir_version=FhirVersion.STU3)
    assert len(doc.resources) == len(bundle["entry"])
    response, kept, warnings = apply_bundle(bundle, iter(f"id{i}" for i in range(100)).__next__)
    assert warnings == [] and response["type"] == "batch-response"
    observation = kept[1]
    assert observation["subject"]["reference"] == "Patient/id0"
    assert b"bsn" not in orjson.dumps(bundle).lower()


def test_checks_find_what_the_scripts_refuse() -> None:
    bundle = measurements_bundle(_all_types()[:1], "M. Bergzoon")
    bundle["entry"][1]["resource"]["id"] = "x"
    bundle["entry"][1]["resource"]["subject"].pop("display")
    bundle["entry"][0]["resource"]["identifier"] = [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "999911120"}]
    bundle["entry"][1]["resource"]["code"]["coding"][0].pop("system")
    problems = " | ".join(check_bundle(bundle, bsn="999911120"))
    for expected in ("carries no id", "without display", "a BSN identifier", "contains the BSN", "without system"):
        assert expected in problems
