"""Our XSDs must give the same verdict as the reference XSDs.

Each case mutates a reference example (or leaves it alone) and checks that
xmlschema, with our schema and with the reference schema, agrees on valid/invalid.
Each case also states the expected verdict, so a mutation that accidentally keeps
the document valid (or breaks it in an unintended way) is noticed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from regie.medmij.lists import ListKind, SchemaProfile, load_schema

from .conftest import example_bytes

Mutation = Callable[[etree._Element, str], None]


def q(ns: str, path: str) -> str:
    return "/".join(f"{{{ns}}}{p}" for p in path.split("/"))


def first(root: etree._Element, ns: str, path: str) -> etree._Element:
    found = root.find(q(ns, path))
    assert found is not None, path
    return found


def set_text(path: str, value: str) -> Mutation:
    def mutate(root: etree._Element, ns: str) -> None:
        first(root, ns, path).text = value

    return mutate


def drop(path: str) -> Mutation:
    def mutate(root: etree._Element, ns: str) -> None:
        node = first(root, ns, path)
        node.getparent().remove(node)

    return mutate


def duplicate(path: str) -> Mutation:
    def mutate(root: etree._Element, ns: str) -> None:
        node = first(root, ns, path)
        node.addnext(copy.deepcopy(node))

    return mutate


def append_child(path: str, name: str, text: str = "x", namespace: str | None = None) -> Mutation:
    def mutate(root: etree._Element, ns: str) -> None:
        parent = root if path == "." else first(root, ns, path)
        child = etree.SubElement(parent, f"{{{namespace or ns}}}{name}")
        child.text = text

    return mutate


def set_attribute(path: str, name: str, value: str) -> Mutation:
    def mutate(root: etree._Element, ns: str) -> None:
        (root if path == "." else first(root, ns, path)).set(name, value)

    return mutate


def swap_header(root: etree._Element, ns: str) -> None:
    tijd = first(root, ns, "Tijdstempel")
    root.remove(tijd)
    first(root, ns, "Volgnummer").addnext(tijd)


def empty_container(path: str) -> Mutation:
    def mutate(root: etree._Element, ns: str) -> None:
        for child in list(first(root, ns, path)):
            child.getparent().remove(child)

    return mutate


def keep(root: etree._Element, ns: str) -> None:
    return None


CONTAINERS = {
    ListKind.ZAL: ("Zorgaanbieders", "Zorgaanbieder"),
    ListKind.OCL: ("OAuthclients", "OAuthclient"),
    ListKind.WHITELIST: ("MedMijNodes", "MedMijNode"),
    ListKind.GNL: ("Gegevensdiensten", "Gegevensdienst"),
}


def common_cases(kind: ListKind) -> list[tuple[str, Mutation, bool]]:
    box, entry = CONTAINERS[kind]
    return [
        ("unchanged", keep, True),
        ("no Tijdstempel", drop("Tijdstempel"), False),
        ("no Volgnummer", drop("Volgnummer"), False),
        ("no container", drop(box), False),
        ("empty container", empty_container(box), True),
        ("Volgnummer 0", set_text("Volgnummer", "0"), False),
        ("Volgnummer -1", set_text("Volgnummer", "-1"), False),
        ("Volgnummer text", set_text("Volgnummer", "zeven"), False),
        ("Volgnummer decimal", set_text("Volgnummer", "7.0"), False),
        ("Volgnummer +5", set_text("Volgnummer", "+5"), True),
        ("Volgnummer padded", set_text("Volgnummer", " 007 "), True),
        ("Volgnummer huge", set_text("Volgnummer", "9" * 40), True),
        ("Tijdstempel no zone", set_text("Tijdstempel", "2018-04-16T12:56:33"), False),
        ("Tijdstempel fraction no zone", set_text("Tijdstempel", "2018-04-16T12:56:33.5"), True),
        ("Tijdstempel offset", set_text("Tijdstempel", "2018-04-16T12:56:33+02:00"), True),
        ("Tijdstempel date only", set_text("Tijdstempel", "2018-04-16Z"), False),
        ("Tijdstempel 30 Feb", set_text("Tijdstempel", "2018-02-30T12:00:00Z"), False),
        ("Tijdstempel text", set_text("Tijdstempel", "vandaag om twaalf uur 's middags"), False),
        ("header swapped", swap_header, False),
        ("Volgnummer twice", duplicate("Volgnummer"), False),
        ("extra root element", append_child(".", "Extra"), False),
        ("extra element in entry", append_child(f"{box}/{entry}", "Extra"), False),
        ("foreign namespace element", append_child(".", "Extra", namespace="urn:x"), False),
        ("attribute on root", set_attribute(".", "versie", "2"), False),
        ("xsi attribute on root", set_attribute(
            ".", "{http://www.w3.org/2001/XMLSchema-instance}type", "xs:string"), False),
        ("duplicate entry", duplicate(f"{box}/{entry}"), False),
    ]


HOSTNAMES = [
    ("medmij.example.nl", True),
    ("a.bc", True),
    ("a.b", False),  # last label needs two characters
    ("localhost", False),
    ("Medmij.example.nl", False),
    ("medmij.example.nl.", False),
    ("-x.example.nl", False),
    ("x-.example.nl", True),
    ("example.n-", False),
    ("127.0.0.1", False),
    ("10.0.0.10", True),
    ("my_host.example.nl", False),
    ("", False),
]


def specific_cases(kind: ListKind) -> list[tuple[str, Mutation, bool]]:
    cases: list[tuple[str, Mutation, bool]] = []
    if kind is ListKind.ZAL:
        za = "Zorgaanbieders/Zorgaanbieder"
        gd = f"{za}/Gegevensdiensten/Gegevensdienst"
        auth = f"{gd}/AuthorizationEndpoint/AuthorizationEndpointuri"
        token = f"{gd}/TokenEndpoint/TokenEndpointuri"
        rol = f"{gd}/Systeemrollen/Systeemrol"
        res = f"{rol}/ResourceEndpoint/ResourceEndpointuri"
        names = [
            ("abcd@medmij", True), ("abc@medmij", True), ("ab@medmij", False),
            ("Umc@medmij", False), ("umc1@medmij", False), ("umc@medmij.nl", False),
            ("umc@MedMij", False), ("a" * 50 + "@medmij", True), ("a" * 51 + "@medmij", False),
            ("umc harderwijk@medmij", False),
        ]
        cases += [(f"naam {v!r}", set_text(f"{za}/Zorgaanbiedernaam", v), ok) for v, ok in names]
        uris = [
            ("https://a.example.nl/oauth/authorize", True, True),
            ("https://a.example.nl", True, True),
            ("https://a.example.nl/", False, False),
            ("https://a.example.nl:8443/x", False, True),
            ("https://a.example.nl:123456/x", False, False),
            ("https://a.example.nl:/x", False, False),
            ("http://a.example.nl/x", False, False),
            ("http://a.sandbox.localhost:8100/x", False, False),
            ("https://a.example.nl/x?y=1", False, False),
            ("https://a.example.nl/x#y", False, False),
            ("https://a.example.nl//x", False, False),
            ("https://A.example.nl/x", False, False),
            ("https://a.b/x", True, False),  # front channel allows a 1-char TLD
            ("https://localhost/x", False, False),
            ("https://127.0.0.1/x", True, False),
            ("https://a.example.nl:\u0661\u0662\u0663/x", False, True),  # \d is Unicode
            ("https://a.example.nl/p\u00e4d", True, True),
            ("https://user@a.example.nl/x", False, False),
            (" https://a.example.nl/x", False, False),
        ]
        for v, front_ok, back_ok in uris:
            cases.append((f"authorize {v!r}", set_text(auth, v), front_ok))
            cases.append((f"token {v!r}", set_text(token, v), back_ok))
            cases.append((f"resource {v!r}", set_text(res, v), back_ok))
        cases += [
            ("no Gegevensdiensten entries", empty_container(f"{za}/Gegevensdiensten"), False),
            ("no Systeemrol entries", empty_container(f"{gd}/Systeemrollen"), False),
            ("no TokenEndpoint", drop(f"{gd}/TokenEndpoint"), False),
            ("no AuthorizationEndpointuri", drop(auth), False),
            ("no ResourceEndpoint", drop(f"{rol}/ResourceEndpoint"), False),
            ("duplicate Gegevensdienst", duplicate(gd), False),
            ("duplicate Systeemrol", duplicate(rol), False),
            ("two AuthorizationEndpointuri", duplicate(auth), False),
            ("GegevensdienstId empty", set_text(f"{gd}/GegevensdienstId", ""), False),
            ("GegevensdienstId 30", set_text(f"{gd}/GegevensdienstId", "9" * 30), True),
            ("GegevensdienstId 31", set_text(f"{gd}/GegevensdienstId", "9" * 31), False),
            ("GegevensdienstId text", set_text(f"{gd}/GegevensdienstId", "BgZ"), True),
            ("Systeemrolcode 31", set_text(f"{rol}/Systeemrolcode", "X" * 31), False),
            ("Systeemrolcode empty", set_text(f"{rol}/Systeemrolcode", ""), False),
            ("Zorgaanbiedernaam twice", duplicate(f"{za}/Zorgaanbiedernaam"), False),
        ]
    elif kind is ListKind.OCL:
        c = "OAuthclients/OAuthclient"
        cases += [(f"host {v!r}", set_text(f"{c}/Hostname", v), ok) for v, ok in HOSTNAMES]
        cases += [
            ("org 2 chars", set_text(f"{c}/OAuthclientOrganisatienaam", "AB"), False),
            ("org 3 chars", set_text(f"{c}/OAuthclientOrganisatienaam", "ABC"), True),
            ("org 50 chars", set_text(f"{c}/OAuthclientOrganisatienaam", "A" * 50), True),
            ("org 51 chars", set_text(f"{c}/OAuthclientOrganisatienaam", "A" * 51), False),
            ("no org", drop(f"{c}/OAuthclientOrganisatienaam"), False),
            ("no hostname", drop(f"{c}/Hostname"), False),
            ("same hostname twice",
             set_text(f"{c}/Hostname", "pgocluster68.personalhealthprovider.net"), False),
        ]
    elif kind is ListKind.WHITELIST:
        n = "MedMijNodes/MedMijNode"
        cases += [(f"host {v!r}", set_text(f"{n}/Hostname", v), ok) for v, ok in HOSTNAMES]
        cases += [
            ("no hostname", drop(f"{n}/Hostname"), False),
            ("two hostnames in node", duplicate(f"{n}/Hostname"), False),
            ("same hostname twice", set_text(f"{n}/Hostname", "rcf-rso.nl"), False),
        ]
    else:
        g = "Gegevensdiensten/Gegevensdienst"
        cases += [
            ("name 2 chars", set_text(f"{g}/Weergavenaam", "BG"), False),
            ("name 3 chars", set_text(f"{g}/Weergavenaam", "BgZ"), True),
            ("name 50 chars", set_text(f"{g}/Weergavenaam", "N" * 50), True),
            ("name 51 chars", set_text(f"{g}/Weergavenaam", "N" * 51), False),
            ("id empty", set_text(f"{g}/GegevensdienstId", ""), False),
            ("id 31", set_text(f"{g}/GegevensdienstId", "1" * 31), False),
            ("same id twice", set_text(f"{g}/GegevensdienstId", "2"), False),
            ("id with spaces differs", set_text(f"{g}/GegevensdienstId", " 2"), True),
            ("no name", drop(f"{g}/Weergavenaam"), False),
            ("name before id", swap_children(g), False),
        ]
    return cases


def swap_children(path: str) -> Mutation:
    def mutate(root: etree._Element, ns: str) -> None:
        node = first(root, ns, path)
        a, b = list(node)[:2]
        node.remove(a)
        b.addnext(a)

    return mutate


ALL_CASES = [
    pytest.param(kind, mutation, expected, id=f"{kind.name}-{name}")
    for kind in ListKind
    for name, mutation, expected in common_cases(kind) + specific_cases(kind)
]


@pytest.mark.parametrize(("kind", "mutation", "expected"), ALL_CASES)
def test_same_verdict_as_reference(reference_dir, reference_schemas, kind, mutation, expected):
    tree = etree.ElementTree(etree.fromstring(example_bytes(reference_dir, kind)))
    mutation(tree.getroot(), kind.namespace)

    reference_verdict = reference_schemas[kind].is_valid(tree)
    ours = load_schema(kind).is_valid(tree)
    assert ours == reference_verdict, f"ours={ours} reference={reference_verdict}"
    assert reference_verdict == expected, "mutation does not test what it claims"
    # The sandbox profile widens only the ZAL endpoint URIs, never narrows anything.
    if reference_verdict:
        assert load_schema(kind, SchemaProfile.LOOPBACK).is_valid(tree)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("http://a.sandbox.localhost:8100/oauth/authorize", True),
        ("http://a.localhost/x", True),
        ("http://localhost:8100/x", False),  # hosts must still be MedMij hostnames
        ("http://127.0.0.1:8100/x", False),
        ("http://a.example.nl:8100/x", False),  # only loopback may drop TLS
        ("http://a.localhost.example.nl/x", False),
    ],
)
def test_loopback_profile_only_widens_for_localhost(reference_dir, uri, expected):
    tree = etree.ElementTree(etree.fromstring(example_bytes(reference_dir, ListKind.ZAL)))
    ns = ListKind.ZAL.namespace
    names = (f"{{{ns}}}AuthorizationEndpointuri", f"{{{ns}}}ResourceEndpointuri")
    for el in tree.getroot().iter(*names):
        el.text = uri
    assert load_schema(ListKind.ZAL, SchemaProfile.LOOPBACK).is_valid(tree) is expected
    assert load_schema(ListKind.ZAL).is_valid(tree) is False


def _zal_with(reference_dir, front: str, back: str | None = None):
    tree = etree.ElementTree(etree.fromstring(example_bytes(reference_dir, ListKind.ZAL)))
    ns = ListKind.ZAL.namespace
    for el in tree.getroot().iter(f"{{{ns}}}AuthorizationEndpointuri"):
        el.text = front
    if back is not None:
        for el in tree.getroot().iter(f"{{{ns}}}TokenEndpointuri", f"{{{ns}}}ResourceEndpointuri"):
            el.text = back
    return tree


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        # The extra acceptance: https with a port on the front channel, on *.localhost only,
        # so `regie sandbox --tls` on a high port needs one listener.
        ("https://sandbox.localhost:8443/huisartsdevries/oauth/authorize", True),
        ("https://a.b.localhost:1/x", True),
        ("https://a.localhost:65535", True),
        ("https://localhost:8443/x", False),  # bare localhost is no MedMij hostname
        ("https://127.0.0.1:8443/x", False),
        ("https://[::1]:8443/x", False),
        ("https://a.example.nl:8443/x", False),  # a real host never gets a front-channel port
        ("https://a.localhost.example.nl:8443/x", False),
        ("https://sandbox.localhost:/x", False),
        ("https://sandbox.localhost:123456/x", False),
        ("https://sandbox.localhost:8443/x?y=1", False),
        ("https://sandbox.localhost:8443/x#y", False),
        ("https://Sandbox.localhost:8443/x", False),
    ],
)
def test_loopback_profile_accepts_https_front_channel_with_port_on_localhost(
    reference_dir, uri, expected
):
    tree = _zal_with(reference_dir, uri, "https://sandbox.localhost:8443/p/oauth/token")
    assert load_schema(ListKind.ZAL, SchemaProfile.LOOPBACK).is_valid(tree) is expected
    # Production stays as strict as the reference: no port on the front channel at all.
    assert load_schema(ListKind.ZAL).is_valid(tree) is False


def test_production_profile_still_refuses_a_front_channel_port_like_the_reference(
    reference_dir, reference_schemas
):
    for uri in ("https://sandbox.localhost:8443/x", "https://a.example.nl:8443/x"):
        tree = _zal_with(reference_dir, uri)
        assert reference_schemas[ListKind.ZAL].is_valid(tree) is False
        assert load_schema(ListKind.ZAL).is_valid(tree) is False
    # ... and both accept the same URI without the port.
    tree = _zal_with(reference_dir, "https://sandbox.localhost/x")
    assert reference_schemas[ListKind.ZAL].is_valid(tree) is True
    assert load_schema(ListKind.ZAL).is_valid(tree) is True
    assert load_schema(ListKind.ZAL, SchemaProfile.LOOPBACK).is_valid(tree) is True


FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Random strings in the URI and hostname fields: the hand-written cases above cover
# the documented rules; this covers corners nobody thought of.
_URI_ALPHABET = "abz09-.:/?#A_@ \u0661"
_uri_text = st.one_of(
    st.text(alphabet=_URI_ALPHABET, max_size=30),
    st.tuples(st.sampled_from(["https://", "http://", "https:/", ""]),
              st.text(alphabet=_URI_ALPHABET, max_size=30)).map("".join),
)


@FAST
@given(front=_uri_text, back=_uri_text)
def test_random_uris_same_verdict(reference_dir, reference_schemas, front, back):
    tree = etree.ElementTree(etree.fromstring(example_bytes(reference_dir, ListKind.ZAL)))
    ns = ListKind.ZAL.namespace
    first(tree.getroot(), ns, "Zorgaanbieders/Zorgaanbieder/Gegevensdiensten/Gegevensdienst/"
          "AuthorizationEndpoint/AuthorizationEndpointuri").text = front
    first(tree.getroot(), ns, "Zorgaanbieders/Zorgaanbieder/Gegevensdiensten/Gegevensdienst/"
          "TokenEndpoint/TokenEndpointuri").text = back
    ours = load_schema(ListKind.ZAL).is_valid(tree)
    assert ours == reference_schemas[ListKind.ZAL].is_valid(tree)


@FAST
@given(host=st.text(alphabet="ab09-._A", max_size=20))
def test_random_hostnames_same_verdict(reference_dir, reference_schemas, host):
    for kind, path in ((ListKind.OCL, "OAuthclients/OAuthclient/Hostname"),
                       (ListKind.WHITELIST, "MedMijNodes/MedMijNode/Hostname")):
        tree = etree.ElementTree(etree.fromstring(example_bytes(reference_dir, kind)))
        first(tree.getroot(), kind.namespace, path).text = host
        assert load_schema(kind).is_valid(tree) == reference_schemas[kind].is_valid(tree)
