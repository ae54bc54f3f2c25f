"""Lists built by the sandbox: valid against the reference XSDs, signed, numbered."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from regie.medmij.lists import (
    ListKind,
    ListSchemaError,
    SchemaProfile,
    TrustAnchor,
    load_signed_list,
    parse_list,
)
from regie.sandbox.lists import (
    REAL_GEGEVENSDIENSTEN,
    ListPublisher,
    SandboxClient,
    SandboxConfig,
    build_list,
    default_config,
    make_provider,
)
from regie.sandbox.lists.keys import PRIVATE_KEY_FILE, TRUST_ANCHOR_FILE

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
LOOPBACK = "http://{naam}.sandbox.localhost:8100"


@pytest.mark.parametrize("kind", list(ListKind), ids=lambda k: k.name)
def test_default_lists_are_valid_against_reference(reference_schemas, kind):
    xml = build_list(kind, default_config(), NOW, 42)
    tree = etree.ElementTree(etree.fromstring(xml))
    reference_schemas[kind].validate(tree)  # raises with the reason if invalid
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert parse_list(xml, kind).header.volgnummer == 42


@pytest.mark.parametrize(
    "kind", [ListKind.OCL, ListKind.WHITELIST, ListKind.GNL], ids=lambda k: k.name
)
def test_loopback_config_other_lists_stay_reference_valid(reference_schemas, kind):
    xml = build_list(kind, default_config(base_url=LOOPBACK), NOW, 1)
    assert reference_schemas[kind].is_valid(etree.ElementTree(etree.fromstring(xml)))


def test_loopback_zal_is_the_documented_deviation(reference_schemas):
    xml = build_list(ListKind.ZAL, default_config(base_url=LOOPBACK), NOW, 1)
    assert not reference_schemas[ListKind.ZAL].is_valid(etree.ElementTree(etree.fromstring(xml)))
    with pytest.raises(ListSchemaError):
        parse_list(xml, ListKind.ZAL)
    zal = parse_list(xml, ListKind.ZAL, profile=SchemaProfile.LOOPBACK)
    service = zal.zorgaanbieder("ggzdekust@medmij").gegevensdienst("50")
    assert service.authorization_endpoint_uri == (
        "http://ggzdekust.sandbox.localhost:8100/oauth/authorize"
    )


def test_gnl_has_the_real_service_ids():
    gnl = parse_list(build_list(ListKind.GNL, default_config(), NOW, 1), ListKind.GNL)
    ids = [g.gegevensdienst_id for g in gnl.gegevensdiensten]
    assert ids == ["48", "49", "50", "51", "61", "63"]
    assert gnl.weergavenaam("49") == "Huisartsgegevens"
    assert dict(REAL_GEGEVENSDIENSTEN)["63"] == "Vaccinaties"


def test_whitelist_holds_clients_and_endpoint_hosts():
    config = default_config()
    wl = parse_list(build_list(ListKind.WHITELIST, config, NOW, 1), ListKind.WHITELIST)
    assert wl.allows("regie.sandbox.localhost")
    assert wl.allows("ggzdekust.sandbox.localhost")
    assert len(wl.hostnames) == len(set(wl.hostnames)) == 5


def test_custom_config():
    config = SandboxConfig(
        providers=(make_provider("testumc", ("48",), base_url="https://za.example.nl/{naam}"),),
        clients=(SandboxClient("pgo.example.nl", "Test PGO"),),
        gegevensdiensten=(("48", "BgZ"),),
    )
    zal = parse_list(build_list(ListKind.ZAL, config, NOW, 3), ListKind.ZAL)
    svc = zal.zorgaanbieder("testumc@medmij").gegevensdienst("48")
    assert svc.token_endpoint_uri == "https://za.example.nl/testumc/oauth/token"
    assert svc.systeemrollen[0].resource_endpoint_uri == "https://za.example.nl/testumc/fhir/48"


def test_naive_timestamp_is_refused():
    with pytest.raises(ValueError, match="timezone"):
        build_list(ListKind.GNL, default_config(), datetime(2026, 1, 1), 1)


def test_publisher_signs_numbers_and_persists(tmp_path):
    publisher = ListPublisher(default_config(), tmp_path, clock=lambda: NOW)
    anchor = TrustAnchor.from_file(tmp_path / TRUST_ANCHOR_FILE)
    assert (tmp_path / PRIVATE_KEY_FILE).stat().st_mode & 0o077 == 0
    for kind in ListKind:
        pub = publisher.current(kind)
        assert pub.volgnummer == 1
        loaded = load_signed_list(pub.xml, pub.signature, kind, anchor)
        assert loaded.header.tijdstempel == NOW
    publisher.publish(ListKind.OCL)
    assert publisher.current(ListKind.OCL).volgnummer == 2
    assert publisher.current(ListKind.ZAL).volgnummer == 1
    # Same edition, same bytes: equal Volgnummer really means no change.
    assert publisher.current(ListKind.ZAL) == publisher.current(ListKind.ZAL)

    # A restarted sandbox keeps its key and never goes back in Volgnummer.
    again = ListPublisher(default_config(), tmp_path)
    assert again.trust_anchor == anchor
    assert again.current(ListKind.OCL).volgnummer == 3
    assert again.current(ListKind.GNL).volgnummer == 2


def test_publisher_uses_loopback_profile_for_http(tmp_path):
    publisher = ListPublisher(default_config(base_url=LOOPBACK), tmp_path)
    assert publisher.profile is SchemaProfile.LOOPBACK
    pub = publisher.current(ListKind.ZAL)
    zal = load_signed_list(pub.xml, pub.signature, ListKind.ZAL, publisher.trust_anchor,
                           profile=SchemaProfile.LOOPBACK)
    assert len(zal.zorgaanbieders) == 4


def test_publisher_refuses_a_config_that_breaks_the_schema(tmp_path):
    bad = SandboxConfig(providers=(), clients=(SandboxClient("Not A Hostname", "X PGO"),))
    with pytest.raises(ListSchemaError):
        ListPublisher(bad, tmp_path)


def test_timestamp_is_now_by_default(tmp_path):
    publisher = ListPublisher(default_config(), tmp_path)
    stamp = parse_list(publisher.current(ListKind.GNL).xml, ListKind.GNL).header.tijdstempel
    assert abs(datetime.now(timezone.utc) - stamp) < timedelta(minutes=1)
