"""The hardened parser and the typed models read from the reference examples."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from regie.medmij.lists import (
    ListKind,
    ListParseError,
    ListSchemaError,
    parse_gnl,
    parse_list,
    parse_ocl,
    parse_whitelist,
    parse_zal,
)

from .conftest import example_bytes

ZAL_NS = ListKind.ZAL.namespace
MINIMAL_ZAL = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<Zorgaanbiederslijst xmlns="{ZAL_NS}">'
    "<Tijdstempel>2026-01-01T00:00:00Z</Tijdstempel><Volgnummer>1</Volgnummer>"
    "<Zorgaanbieders/></Zorgaanbiederslijst>"
).encode()


def test_minimal_list_parses():
    zal = parse_zal(MINIMAL_ZAL)
    assert zal.header.volgnummer == 1
    assert zal.zorgaanbieders == ()


def test_doctype_is_refused_outright():
    doc = MINIMAL_ZAL.replace(b"\n<Zorg", b"\n<!DOCTYPE Zorgaanbiederslijst>\n<Zorg")
    with pytest.raises(ListParseError) as info:
        parse_zal(doc)
    assert info.value.list_name == "Zorgaanbiederslijst"
    assert "DOCTYPE" in info.value.reason
    assert info.value.line == 2
    assert "Zorgaanbiederslijst" in str(info.value) and "line 2" in str(info.value)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Whitelist>&lol9;</Whitelist>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Whitelist [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Whitelist>&xxe;</Whitelist>"""


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "xxe"])
def test_entity_attacks_are_refused(doc):
    with pytest.raises(ListParseError) as info:
        parse_whitelist(doc)
    assert info.value.list_name == "Whitelist"
    assert "DOCTYPE" in info.value.reason
    assert info.value.line == 2


def test_doctype_in_utf16_is_refused_after_parsing():
    # The byte scan cannot see "<!DOCTYPE" in UTF-16; the post-parse check must.
    text = BILLION_LAUGHS.decode().replace(
        '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'
    )
    with pytest.raises(ListParseError, match="DOCTYPE"):
        parse_whitelist(text.encode("utf-16"))


def test_undeclared_entity_reference_is_not_well_formed():
    doc = MINIMAL_ZAL.replace(b"<Zorgaanbieders/>", b"<Zorgaanbieders>&x;</Zorgaanbieders>")
    with pytest.raises(ListParseError, match="not well-formed"):
        parse_zal(doc)


def test_oversized_input_is_refused_before_parsing():
    with pytest.raises(ListParseError, match="limit is 100"):
        parse_zal(MINIMAL_ZAL, max_bytes=100)


def test_default_size_limit():
    padding = b"<!--" + b" " * (16 * 1024 * 1024) + b"-->"
    with pytest.raises(ListParseError, match="the limit is"):
        parse_zal(MINIMAL_ZAL + padding)


@pytest.mark.parametrize("doc", [b"", b"   \n"])
def test_empty_input(doc):
    with pytest.raises(ListParseError, match="empty"):
        parse_gnl(doc)


def test_malformed_xml_reports_line():
    doc = MINIMAL_ZAL.replace(b"</Zorgaanbiederslijst>", b"\n\n</Zorgaanbiederslijs>")
    with pytest.raises(ListParseError) as info:
        parse_zal(doc)
    assert info.value.line == 4
    assert "not well-formed" in info.value.reason


def test_text_is_refused():
    with pytest.raises(TypeError):
        parse_zal(MINIMAL_ZAL.decode())  # type: ignore[arg-type]


def test_wrong_list_is_refused_by_root(reference_dir):
    with pytest.raises(ListParseError) as info:
        parse_zal(example_bytes(reference_dir, ListKind.OCL))
    assert "root element" in info.value.reason
    assert info.value.list_name == "Zorgaanbiederslijst"


def test_wrong_namespace_is_refused():
    doc = MINIMAL_ZAL.replace(b"release2", b"release3")
    with pytest.raises(ListParseError, match="expected"):
        parse_zal(doc)


def test_schema_error_names_list_element_and_line(reference_dir):
    doc = example_bytes(reference_dir, ListKind.ZAL).replace(
        b"https://rcf-rso.nl/rcf/fhir-stu3", b"http://rcf-rso.nl/rcf/fhir-stu3"
    )
    with pytest.raises(ListSchemaError) as info:
        parse_zal(doc)
    problem = info.value.problems[0]
    assert info.value.list_name == "Zorgaanbiederslijst"
    assert problem.path and problem.path.endswith("ResourceEndpointuri")
    assert problem.line == doc[: doc.index(b"http://rcf-rso")].count(b"\n") + 1
    assert "pattern" in problem.reason or "match" in problem.reason


def test_many_schema_errors_are_capped():
    entries = b"".join(
        b"<Gegevensdienst><GegevensdienstId>%d</GegevensdienstId><Weergavenaam>x</Weergavenaam>"
        b"</Gegevensdienst>" % i
        for i in range(100)
    )
    doc = (
        f'<Gegevensdienstnamenlijst xmlns="{ListKind.GNL.namespace}">'
        "<Tijdstempel>2026-01-01T00:00:00Z</Tijdstempel><Volgnummer>1</Volgnummer>"
        "<Gegevensdiensten>"
    ).encode() + entries + b"</Gegevensdiensten></Gegevensdienstnamenlijst>"
    with pytest.raises(ListSchemaError) as info:
        parse_gnl(doc)
    assert len(info.value.problems) == 20
    assert "(+19 more)" in str(info.value)


def test_zal_model(reference_dir):
    zal = parse_zal(example_bytes(reference_dir, ListKind.ZAL))
    assert zal.header.volgnummer == 6
    assert zal.header.tijdstempel == datetime(2018, 4, 16, 12, 56, 33, tzinfo=timezone.utc)
    umc = zal.zorgaanbieder("umcharderwijk@medmij")
    assert umc is not None and umc.scope_naam == "umcharderwijk"
    dienst = umc.gegevensdienst("6")
    assert dienst is not None
    assert dienst.authorization_endpoint_uri == "https://78834.umcharderwijk.nl/oauth/authorize"
    assert dienst.token_endpoint_uri == "https://78834.umcharderwijk.nl:8099/oauth/token"
    assert [r.systeemrolcode for r in dienst.systeemrollen] == [
        "MM-1.0.0-PLB-FHIR",
        "MM-1.0.0-PDB-FHIR",
    ]
    assert dienst.systeemrol("MM-1.0.0-PDB-FHIR").resource_endpoint_uri == (
        "https://78834.umcharderwijk.nl:9100/pdfa"
    )
    assert zal.zorgaanbieder("onbekend@medmij") is None
    with pytest.raises(AttributeError):
        zal.header.volgnummer = 7  # type: ignore[misc]  # frozen


def test_ocl_whitelist_gnl_models(reference_dir):
    ocl = parse_ocl(example_bytes(reference_dir, ListKind.OCL))
    assert ocl.client("medmij.deenigeechtepgo.nl").organisatienaam == "De Enige Echte PGO"
    wl = parse_whitelist(example_bytes(reference_dir, ListKind.WHITELIST))
    assert wl.allows("rcf-rso.nl") and wl.allows("RCF-RSO.nl.")
    assert not wl.allows("evil.example.nl")
    gnl = parse_gnl(example_bytes(reference_dir, ListKind.GNL))
    assert gnl.header.tijdstempel.utcoffset() == timedelta(hours=1)
    assert gnl.weergavenaam("4") == "Laboratoriumresultaten"
    assert gnl.weergavenaam("99") is None


def test_tijdstempel_edge_values():
    def with_time(value: str) -> bytes:
        return MINIMAL_ZAL.replace(b"2026-01-01T00:00:00Z", value.encode())

    nanos = parse_list(with_time("2026-01-01T00:00:00.123456789+01:00"), ListKind.ZAL)
    assert nanos.header.tijdstempel.microsecond == 123456
    naive = parse_list(with_time("2026-01-01T00:00:00.5"), ListKind.ZAL)
    assert naive.header.tijdstempel.tzinfo is timezone.utc
    with pytest.raises(ListSchemaError, match="out of range"):
        parse_list(with_time("2026-01-01T24:00:00Z"), ListKind.ZAL)
