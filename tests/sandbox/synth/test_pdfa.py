"""The synthetic letters are PDF/A-1b in structure: identification in XMP, an sRGB
OutputIntent, every font embedded, no encryption, no JavaScript; and they still travel
through the FHIR server as Binary/DocumentReference bundles that regie.fhir reads."""

from __future__ import annotations

import base64
import io
from datetime import date

import pytest
from lxml import etree

from regie.sandbox import synth
from regie.sandbox.synth.pdf import PDFA_CONFORMANCE, PDFA_PART, render_pdf

pypdf = pytest.importorskip("pypdf")
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject  # noqa: E402

NS = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
      "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
      "dc": "http://purl.org/dc/elements/1.1/",
      "xmp": "http://ns.adobe.com/xap/1.0/",
      "pdf": "http://ns.adobe.com/pdf/1.3/"}

LETTER = ["Datum: 2024-05-06",
          "Betreft: Jeroen van 't Hoff-Çelik, geboren 1961-02-03, Straße 1, 1234 AB Zoëterwoude",
          "Geachte collega, " * 300,
          "Met vriendelijke groet,", "Dr. Ünal", "Unicode outside the font: \u4e2d \u20bf"]


def _reader(pdf: bytes):
    return pypdf.PdfReader(io.BytesIO(pdf), strict=True)


def _all_objects(reader) -> list:
    """Every indirect object of the file (1 .. /Size-1)."""
    out = []
    for num in range(1, int(reader.trailer["/Size"])):
        try:
            obj = reader.get_object(IndirectObject(num, 0, reader))
        except Exception:  # a free entry
            continue
        if obj is not None:
            out.append(obj)
    return out


def _walk(obj, seen: set[int] | None = None):
    """Every dictionary reachable from *obj* (direct objects included)."""
    seen = set() if seen is None else seen
    if isinstance(obj, IndirectObject):
        key = obj.idnum
        if key in seen:
            return
        seen.add(key)
        obj = obj.get_object()
    if isinstance(obj, DictionaryObject):
        yield obj
        for k, v in obj.items():
            if k != "/Parent":
                yield from _walk(v, seen)
    elif isinstance(obj, ArrayObject):
        for v in obj:
            yield from _walk(v, seen)


@pytest.fixture(scope="module")
def letter() -> bytes:
    return render_pdf("Ontslagbrief – Jeroen van 't Hoff", LETTER, date="2024-05-06")


def test_header_trailer_and_no_encryption(letter: bytes) -> None:
    assert letter.startswith(b"%PDF-1.4\n%")
    assert all(b >= 128 for b in letter.split(b"\n")[1][1:5])  # binary comment (6.1.2)
    r = _reader(letter)
    assert not r.is_encrypted and "/Encrypt" not in r.trailer
    ids = r.trailer["/ID"]  # PDF/A-1 6.1.3: a file identifier
    assert len(ids) == 2 and ids[0] == ids[1] and len(ids[0]) == 16
    assert len(r.pages) >= 2  # the long paragraph wraps onto a second page


def test_xmp_declares_pdfa_1b_and_matches_the_document(letter: bytes) -> None:
    r = _reader(letter)
    meta = r.trailer["/Root"]["/Metadata"].get_object()
    assert meta["/Type"] == "/Metadata" and meta["/Subtype"] == "/XML"
    assert "/Filter" not in meta  # readable without decoding
    raw = meta.get_data()
    assert raw.startswith(b"<?xpacket begin=") and raw.rstrip().endswith(b'<?xpacket end="w"?>')
    doc = etree.fromstring(raw.split(b"?>", 1)[1].rsplit(b"<?xpacket", 1)[0].strip())
    assert doc.xpath("//pdfaid:part/text()", namespaces=NS) == [str(PDFA_PART)] == ["1"]
    assert doc.xpath("//pdfaid:conformance/text()", namespaces=NS) == [PDFA_CONFORMANCE] == ["B"]
    assert doc.xpath("//dc:title//rdf:li/text()", namespaces=NS) == [
        "Ontslagbrief – Jeroen van 't Hoff"]
    stamp = "2024-05-06T12:00:00+00:00"
    for field in ("CreateDate", "ModifyDate", "MetadataDate"):
        assert doc.xpath(f"//xmp:{field}/text()", namespaces=NS) == [stamp]
    # Info entries, where present, must equal their XMP twins (6.7.3).
    info = r.trailer.get("/Info")
    if info is not None:
        info = info.get_object()
        if "/Title" in info:
            assert info["/Title"] == "Ontslagbrief – Jeroen van 't Hoff"
        if "/Producer" in info:
            assert doc.xpath("//pdf:Producer/text()", namespaces=NS) == [info["/Producer"]]
        if "/CreationDate" in info:
            assert str(info["/CreationDate"]).startswith("D:20240506120000")


def test_srgb_output_intent(letter: bytes) -> None:
    r = _reader(letter)
    intents = r.trailer["/Root"]["/OutputIntents"]
    assert len(intents) == 1
    intent = intents[0].get_object()
    assert intent["/Type"] == "/OutputIntent" and intent["/S"] == "/GTS_PDFA1"
    assert "sRGB" in intent["/OutputConditionIdentifier"]
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3
    icc = profile.get_data()
    assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB " and icc[8] == 2  # ICC v2
    assert int.from_bytes(icc[:4], "big") == len(icc)


def test_every_font_is_an_embedded_truetype_subset(letter: bytes) -> None:
    r = _reader(letter)
    fonts = [d for d in _walk(r.trailer["/Root"]) if d.get("/Type") == "/Font"]
    assert fonts
    assert any(f["/Subtype"] == "/Type0" for f in fonts)
    for font in fonts:
        if font["/Subtype"] == "/Type0":  # composite: the glyphs are in its descendant
            (desc,) = font["/DescendantFonts"]
            assert desc.get_object()["/Subtype"] == "/CIDFontType2"
            assert "/ToUnicode" in font
            continue
        assert font["/Subtype"] in ("/CIDFontType2", "/TrueType"), font
        fd = font["/FontDescriptor"].get_object()
        # FontFile2 = TrueType program, embedded in the file (6.3.4)
        assert "/FontFile2" in fd, font
        program = fd["/FontFile2"].get_object().get_data()
        assert program[:4] in (b"\x00\x01\x00\x00", b"true")
        tag, _, base = str(fd["/FontName"]).lstrip("/").partition("+")
        assert len(tag) == 6 and tag.isupper() and "Vera" in base
        assert "/CIDSet" in fd  # PDF/A-1 6.3.5: a CID subset lists its CIDs


def test_no_javascript_no_actions_that_launch_no_transparency(letter: bytes) -> None:
    r = _reader(letter)
    root = r.trailer["/Root"]
    assert "/JavaScript" not in root.get("/Names", {})
    assert "/AA" not in root and "/AcroForm" not in root
    for obj in _all_objects(r):
        if isinstance(obj, DictionaryObject):
            assert not {"/JS", "/JavaScript", "/AA"} & set(obj.keys())
            assert obj.get("/S") not in ("/JavaScript", "/Launch", "/ImportData", "/SubmitForm",
                                         "/ResetForm", "/Sound", "/Movie")
            assert "/SMask" not in obj or obj["/SMask"] == "/None"
            assert obj.get("/CA", 1) == 1 and obj.get("/ca", 1) == 1
            assert "/EmbeddedFiles" not in obj
    open_action = root.get("/OpenAction")
    if isinstance(open_action, DictionaryObject):
        assert open_action.get("/S") == "/GoTo"


def test_text_is_extractable_and_unknown_characters_degrade(letter: bytes) -> None:
    text = "".join(p.extract_text() for p in _reader(letter).pages)
    assert "Geachte collega" in text and "Zoëterwoude" in text and "Ünal" in text
    assert "\u4e2d" not in text  # not in the font: written as '?'


def test_deterministic_and_dated_from_the_argument() -> None:
    a = render_pdf("Brief", ["Geachte collega,"], date="2023-01-02")
    assert a == render_pdf("Brief", ["Geachte collega,"], date="2023-01-02")
    b = render_pdf("Brief", ["Geachte collega,"], date="2023-01-03")
    assert a != b and b"2023-01-03T12:00:00+00:00" in b


def test_generated_letters_are_pdfa_and_read_through_fhir() -> None:
    """The letters the generator makes, served as Binary/DocumentReference bundles by the
    FHIR server, still read cleanly with regie.fhir and decode to PDF/A."""
    fhir = pytest.importorskip("regie.fhir")
    from starlette.testclient import TestClient

    from regie.sandbox.fhir import FhirConfig, SynthSource, create_fhir_app
    from regie.sandbox.grants import GrantStore

    seed = 7
    person = synth.person(seed, 1)
    res = synth.resources_for(person, "51", today=date(2026, 1, 15))
    assert res == synth.resources_for(person, "51", today=date(2026, 1, 15))  # seeded
    grants = GrantStore()
    client = TestClient(create_fhir_app(FhirConfig(source=SynthSource(seed)), grants))
    tok = grants.issue(provider="huisartsdevries", bsn=person.bsn, service_ids=("51",),
                       client_id="pgo.example.test").access_token
    headers = {"Authorization": f"Bearer {tok}", "Accept": "application/fhir+json"}
    resp = client.get("/huisartsdevries/fhir/51/DocumentReference?status=current",
                      headers=headers)
    assert resp.status_code == 200
    doc = fhir.read_bytes(resp.content, name="51-DocumentReference.json",
                          fhir_version=fhir.FhirVersion.STU3)
    assert doc.bundle_type == "searchset" and doc.resources
    refs = [e["resource"] for e in resp.json()["entry"]
            if e["resource"]["resourceType"] == "DocumentReference"]
    assert refs
    for ref in refs:
        att = ref["content"][0]["attachment"]
        assert att["contentType"] == "application/pdf"
        binary = client.get(f"/huisartsdevries/fhir/51/{att['url']}", headers=headers)
        assert binary.status_code == 200
        read = fhir.read_bytes(binary.content, name="51-Binary.json",
                               fhir_version=fhir.FhirVersion.STU3)
        assert read.resources
        pdf = base64.b64decode(binary.json()["content"])
        assert len(pdf) == att["size"]
        r = _reader(pdf)
        assert b"<pdfaid:part>1</pdfaid:part>" in r.trailer["/Root"]["/Metadata"].get_object(
        ).get_data()
        assert r.trailer["/Root"]["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
