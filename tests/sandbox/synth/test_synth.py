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
    pdf = synth.render_pdf("Ontslagbrief", ["Geachte collega, " * 400, "Groet"])
    assert pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)", pdf).group(1))
    assert pdf[startxref:].startswith(b"xref")
    offsets = [int(m) for m in re.findall(rb"(\d{10}) 00000 n", pdf)]
    for n, off in enumerate(offsets, start=1):
        assert pdf[off:].startswith(b"%d 0 obj" % n)
    assert b"pdfaid:part" in pdf and b"/Count 2" in pdf
    assert synth.render_pdf("x", ["y"]) == synth.render_pdf("x", ["y"])


def test_pdf_has_a_pdfa_output_intent_with_an_srgb_profile() -> None:
    import struct

    from regie.sandbox.synth.pdf import srgb_icc_profile

    pdf = synth.render_pdf("Brief", ["Geachte collega,", "Met vriendelijke groet,"])
    assert b"/OutputIntents [<< /Type /OutputIntent /S /GTS_PDFA1" in pdf
    assert b"<pdfaid:part>1</pdfaid:part>" in pdf
    icc = srgb_icc_profile()
    assert icc in pdf
    size, = struct.unpack(">I", icc[:4])
    assert size == len(icc) and icc[36:40] == b"acsp" and icc[12:20] == b"mntrRGB "
    count, = struct.unpack(">I", icc[128:132])
    tags = {}
    for i in range(count):
        sig, offset, length = struct.unpack(">4sII", icc[132 + 12 * i: 144 + 12 * i])
        assert offset % 4 == 0 and offset + length <= size
        tags[sig] = icc[offset: offset + length]
    assert {b"desc", b"cprt", b"wtpt", b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC",
            b"bTRC"} <= set(tags)
    assert tags[b"rTRC"][:4] == b"curv"
