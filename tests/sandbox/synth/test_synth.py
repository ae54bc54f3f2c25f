"""Synthetic patients: deterministic, valid BSNs, scalable, PDFs well-formed."""

from __future__ import annotations

import random
import re
from datetime import date

import msgspec

from regie.sandbox import synth

TODAY = date(2026, 1, 15)


def _bytes(seed: int, sid: str) -> bytes:
    p = synth.person(seed, 3)
    return msgspec.json.encode(synth.resources_for(p, sid, today=TODAY))


def test_deterministic() -> None:
    for sid in synth.COVERED_SERVICES:
        assert _bytes(11, sid) == _bytes(11, sid)
    assert _bytes(11, "49") != _bytes(12, "49")
    assert synth.person(5, 9) == synth.person(5, 9)


def test_bsns_pass_the_elfproef() -> None:
    people = synth.persons(3, 500)
    assert all(synth.is_valid_bsn(p.bsn) for p in people)
    assert len({p.bsn for p in people}) == 500
    assert synth.is_valid_bsn("111222333") and not synth.is_valid_bsn("111222334")
    assert not synth.is_valid_bsn("12345678") and not synth.is_valid_bsn("abcdefghi")
    rng = random.Random(1)
    assert all(synth.is_valid_bsn(synth.make_bsn(rng)) for _ in range(1000))


def test_gp_data_shape() -> None:
    res = synth.resources_for(synth.person(1, 0), "49", today=TODAY)
    types = {r["resourceType"] for r in res}
    assert {"Patient", "EpisodeOfCare", "Condition", "Encounter", "Composition",
            "Observation", "MedicationRequest", "Medication", "Flag"} <= types
    pat = res[0]
    assert pat["identifier"][0]["system"] == "http://fhir.nl/fhir/NamingSystem/bsn"
    assert all(r["meta"]["profile"][0].startswith(("http://nictiz.nl/", "http://fhir.nl/"))
               for r in res)
    icpc = [r["code"]["coding"][0] for r in res if r["resourceType"] == "Condition"]
    assert all(c["system"] == "http://hl7.org/fhir/sid/icpc-1-nl" for c in icpc)
    ids = [f"{r['resourceType']}/{r['id']}" for r in res]
    assert len(ids) == len(set(ids))


def test_scales_to_tens_of_thousands() -> None:
    big = next(p for i in range(50)
               if (p := synth.person(2, i, size="large")).birth_date.year < 1975)
    res = synth.resources_for(big, "49", today=TODAY)
    assert len(res) > 10_000


def test_pdf_is_well_formed() -> None:
    """Well-formed PDF; the PDF/A structure is checked in test_pdfa.py."""
    pdf = synth.render_pdf("Ontslagbrief", ["Geachte collega, " * 400, "Groet"])
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\s+(\d+)", pdf).group(1))
    assert pdf[startxref:].startswith(b"xref")
    assert b"pdfaid:part" in pdf and b"/Count 2" in pdf
    assert synth.render_pdf("x", ["y"]) == synth.render_pdf("x", ["y"])
