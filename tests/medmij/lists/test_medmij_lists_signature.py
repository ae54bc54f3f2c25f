"""Detached JWS signatures over list bytes, and the signed-load entry point."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from regie.medmij.lists import (
    ListKind,
    ListSignatureError,
    TrustAnchor,
    TrustAnchorError,
    load_signed_list,
    sign_detached,
    verify_detached,
)

from .conftest import example_bytes

DATA = b"<Whitelist>any bytes at all</Whitelist>"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(params=["ed25519", "p256"])
def key(request):
    if request.param == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def anchor_for(private_key) -> TrustAnchor:
    pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return TrustAnchor.from_pem(pem)


def test_round_trip(key):
    token = sign_detached(DATA, key)
    header_b64, payload, _ = token.split(".")
    assert payload == ""  # detached
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))
    assert header["alg"] in {"EdDSA", "ES256"}
    anchor = anchor_for(key)
    assert header["kid"] == anchor.kid
    assert verify_detached(DATA, token, anchor) == anchor
    assert verify_detached(DATA, token.encode() + b"\n", anchor) == anchor  # as served


def test_token_is_standard_jws_with_detached_payload():
    # Checked without our verifier: RFC 7515 signing input = header "." b64url(payload).
    key = ed25519.Ed25519PrivateKey.generate()
    header_b64, _, sig_b64 = sign_detached(DATA, key).split(".")
    key.public_key().verify(
        base64.urlsafe_b64decode(sig_b64 + "=="), f"{header_b64}.{b64(DATA)}".encode()
    )


def test_tampered_list_fails(key):
    token = sign_detached(DATA, key)
    with pytest.raises(ListSignatureError) as info:
        verify_detached(DATA.replace(b"any", b"all"), token, anchor_for(key), list_name="Whitelist")
    assert info.value.list_name == "Whitelist"
    assert "does not verify" in info.value.reason


def test_wrong_key_fails(key):
    token = sign_detached(DATA, key)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        other = ed25519.Ed25519PrivateKey.generate()
    else:
        other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ListSignatureError, match="no trust anchor matches"):
        verify_detached(DATA, token, anchor_for(other))


def test_wrong_key_without_kid_fails():
    key, other = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    _, _, sig = sign_detached(DATA, key).split(".")
    header = b64(json.dumps({"alg": "EdDSA"}).encode())
    with pytest.raises(ListSignatureError, match="does not verify"):
        verify_detached(DATA, f"{header}..{sig}", anchor_for(other))


def test_key_rotation_picks_matching_anchor():
    old, new = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    anchors = [anchor_for(old), anchor_for(new)]
    assert verify_detached(DATA, sign_detached(DATA, new), anchors) == anchors[1]


def _forge(header: dict, key=None, payload: str = "") -> str:
    key = key or ed25519.Ed25519PrivateKey.generate()
    header_b64 = b64(json.dumps(header).encode())
    sig = key.sign(f"{header_b64}.{b64(DATA)}".encode())
    return f"{header_b64}.{payload}.{b64(sig)}"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "empty"),
        ("not-a-jws", "compact JWS"),
        ("a.b.c.d", "compact JWS"),
        ("!!!..abc", "base64url"),
        (b64(b"[1]") + "..AAAA", "JSON object"),
        (_forge({"alg": "none"}), "no trust anchor matches"),
        (_forge({"alg": "HS256"}), "no trust anchor matches"),
        (_forge({"alg": "EdDSA", "crit": ["b64"], "b64": False}), "not accepted"),
        (_forge({"alg": "EdDSA", "jwk": {"kty": "OKP"}}), "not accepted"),
        (_forge({"alg": "EdDSA"}, payload=b64(DATA)), "carries a payload"),
        ("x" * 5000, "longer than"),
    ],
)
def test_malformed_or_hostile_tokens(token, message):
    with pytest.raises(ListSignatureError, match=message):
        verify_detached(DATA, token, anchor_for(ed25519.Ed25519PrivateKey.generate()))


def test_non_ascii_signature():
    with pytest.raises(ListSignatureError, match="ASCII"):
        anchor = anchor_for(ed25519.Ed25519PrivateKey.generate())
        verify_detached(DATA, "é".encode("latin-1"), anchor)


def test_trust_anchor_errors(tmp_path):
    with pytest.raises(TrustAnchorError):
        TrustAnchor.from_pem(b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    rsa_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(TrustAnchorError, match="Ed25519"):
        TrustAnchor.from_pem(rsa_pem)
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(TrustAnchorError):
        TrustAnchor.from_pem(p384)
    with pytest.raises(TrustAnchorError):
        verify_detached(DATA, "a..b", [])
    key = ed25519.Ed25519PrivateKey.generate()
    path = tmp_path / "anchor.pem"
    path.write_bytes(anchor_for(key).to_pem())
    assert TrustAnchor.from_file(path) == anchor_for(key)


def test_load_signed_list(reference_dir):
    key = ed25519.Ed25519PrivateKey.generate()
    data = example_bytes(reference_dir, ListKind.GNL)
    gnl = load_signed_list(data, sign_detached(data, key), ListKind.GNL, anchor_for(key))
    assert gnl.weergavenaam("1") == "Basisgegevens Zorg"


def test_signature_is_checked_before_parsing():
    # An unsigned hostile document must not even reach the XML parser.
    key = ed25519.Ed25519PrivateKey.generate()
    hostile = b"<!DOCTYPE x [<!ENTITY a 'b'>]><Whitelist>&a;</Whitelist>"
    with pytest.raises(ListSignatureError):
        load_signed_list(hostile, sign_detached(b"other", key), ListKind.WHITELIST, anchor_for(key))
