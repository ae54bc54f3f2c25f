"""XML attacks refused at every XML entry point, found by scanning the source.

Every place in ``src/regie`` that parses XML must be one of the known entry points below, and
each builds its lxml parser with entities unresolved, no network and no DTD. Then each entry
point is attacked (XXE reading a local file, billion laughs, a DTD fetched over the network):
refused, and the secret file's content never comes out. Parser-level cases in depth:
tests/fhir/test_fhir_adversarial.py and tests/medmij/lists/test_medmij_lists_parser.py.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import regie
from regie.fhir.reader import FhirReadError, read_bytes
from regie.fhir.version import FhirVersion
from regie.medmij.lists.xmlparse import parse_list_xml
from regie.sandbox.fhir.xmlout import to_xml
from tests.web.conftest import app, browser, client  # noqa: F401
from tests.web.helpers import Browser

SOURCE = Path(regie.__file__).parent
PARSING = re.compile(r"etree\.(fromstring|parse|XML|iterparse|XMLPullParser)\(|xml\.(dom|etree)|xml\.sax\.(parse|make_parser)"
                     r"|ElementTree\.(parse|fromstring)|minidom|expat")
ENTRY_POINTS = {"fhir/xmlconv.py", "medmij/lists/xmlparse.py", "sandbox/fhir/xmlout.py"}
SECRET = "geheim-bestand-inhoud-7731"


def test_every_xml_parser_in_the_source_is_a_known_hardened_entry_point() -> None:
    found = {str(path.relative_to(SOURCE)) for path in SOURCE.rglob("*.py") if PARSING.search(path.read_text())}
    assert found == ENTRY_POINTS, f"new XML parsing outside the hardened entry points: {sorted(found - ENTRY_POINTS)}"
    for name in ENTRY_POINTS:
        text = (SOURCE / name).read_text()
        for call in re.findall(r"etree\.XMLParser\((.*?)\)", text, re.S):
            assert "resolve_entities=False" in call and "no_network=True" in call and "load_dtd=False" in call, name


def _attacks(secret_file: Path, root: str) -> list[bytes]:
    return [
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret_file}">]><{root}>&x;</{root}>'.encode(),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
         b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
         + f"<{root}>&d;&d;&d;&d;&d;&d;&d;&d;</{root}>".encode()),
        f'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><{root}/>'.encode(),
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]><{root}/>'.encode(),
    ]


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def test_fhir_xml_import_refuses_them(secret_file: Path) -> None:
    for attack in _attacks(secret_file, 'Patient xmlns="http://hl7.org/fhir"'.split()[0]):
        attack = attack.replace(b"<Patient>", b'<Patient xmlns="http://hl7.org/fhir">')
        with pytest.raises(FhirReadError) as refused:
            read_bytes(attack, name="kwaad.xml", fhir_version=FhirVersion.R4)
        assert SECRET not in str(refused.value)


def test_medmij_lists_refuse_them(secret_file: Path) -> None:
    from regie.medmij.lists.kinds import ListKind

    for kind in ListKind:
        for attack in _attacks(secret_file, "Zorgaanbiederslijst"):
            with pytest.raises(Exception) as refused:
                parse_list_xml(attack, kind)
            assert SECRET not in str(refused.value), kind


def test_sandbox_narrative_never_expands_entities(secret_file: Path) -> None:
    for attack in _attacks(secret_file, 'div xmlns="http://www.w3.org/1999/xhtml"'.split()[0])[:2]:
        attack = attack.replace(b"<div>", b'<div xmlns="http://www.w3.org/1999/xhtml">')
        resource = {"resourceType": "Basic", "id": "b", "code": {"text": "x"},
                    "text": {"status": "generated", "div": attack.decode()}}
        try:
            out = to_xml(resource, FhirVersion.R4)
        except Exception:
            continue  # refused: fine
        assert SECRET.encode() not in out and out.count(b"aaaaaaaaaa") < 10


def test_the_upload_page_refuses_them_and_stores_nothing(browser: Browser, secret_file: Path) -> None:
    browser.register()
    for attack in _attacks(secret_file, "Patient")[:3]:
        attack = attack.replace(b"<Patient>", b'<Patient xmlns="http://hl7.org/fhir">')
        page = browser.client.get("/record/upload")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = browser.client.post("/record/upload", data={"csrf_token": token},
                                       files=[("files", ("kwaad.xml", attack, "application/xml"))])
        assert response.status_code < 500 and SECRET not in response.text
        assert "DOCTYPE" in response.text or response.status_code in (400, 422)
    summary = browser.client.get("/api/v1/record/summary").json()
    assert summary["resources"] == 0
