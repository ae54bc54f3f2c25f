"""Detached signatures over list bytes: compact JWS with a detached payload.

Format (RFC 7515 appendix F): ``BASE64URL(header) + ".." + BASE64URL(signature)``,
served beside the list at ``<list file>.jws``. The signed payload is the list file
byte for byte, exactly as downloaded.

Why JWS and not an enveloped XML signature (XMLDSig/signxml): the bytes are signed as
they are, so there is no canonicalisation, no signature-wrapping class of attacks,
and the list file itself stays untouched (it still validates against the published
XSD, which has no room for a ds:Signature). Why hand-written on top of
``cryptography`` instead of a JOSE library: only two fixed algorithms are needed, the
verifier must ignore every key hint inside the token anyway, and ~100 lines keep the
dependency list short. Any JOSE library can produce or check these tokens.

The algorithm follows from the configured trust anchor (Ed25519 -> EdDSA, P-256 ->
ES256); the header's ``alg`` must match it, so the token cannot choose its algorithm.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from .errors import ListSignatureError, Problem, TrustAnchorError

PublicKey = Union[ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey]
PrivateKey = Union[ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey]

# A compact detached JWS here is ~200 characters; anything far larger is not ours.
MAX_SIGNATURE_CHARS = 4096
# Header members we understand. Anything else (crit, b64, jwk, jku, x5c, ...) is
# refused: we never take keys or processing rules from the token itself.
_ALLOWED_HEADER = frozenset({"alg", "kid", "typ", "cty"})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if not text or any(c not in _B64URL_ALPHABET for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _alg_for(key: PublicKey) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise TrustAnchorError("only Ed25519 and EC P-256 keys are supported")


def _thumbprint(key: PublicKey) -> str:
    """RFC 7638 JWK thumbprint, used as ``kid`` to pick a key during rotation."""
    # serialization is imported where used (here and below): it loads its SSH support, a
    # tenth of a second, in every process that imports the list code.
    from cryptography.hazmat.primitives import serialization

    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    else:
        numbers = key.public_numbers()
        jwk = {
            "crv": "P-256",
            "kty": "EC",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(canonical).digest())


@dataclass(frozen=True)
class TrustAnchor:
    """A public key that list signatures are checked against."""

    key: PublicKey
    alg: str
    kid: str

    @classmethod
    def from_key(cls, key: PublicKey) -> TrustAnchor:
        return cls(key=key, alg=_alg_for(key), kid=_thumbprint(key))

    @classmethod
    def from_pem(cls, pem: bytes | str) -> TrustAnchor:
        from cryptography.hazmat.primitives import serialization

        data = pem.encode("ascii") if isinstance(pem, str) else pem
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError as exc:
            raise TrustAnchorError(f"not a PEM public key: {exc}") from None
        if not isinstance(key, (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey)):
            raise TrustAnchorError("only Ed25519 and EC P-256 keys are supported")
        return cls.from_key(key)

    @classmethod
    def from_file(cls, path: str | Path) -> TrustAnchor:
        return cls.from_pem(Path(path).read_bytes())

    def to_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def sign_detached(data: bytes, private_key: PrivateKey) -> str:
    """Sign *data* and return the compact detached JWS (``header..signature``)."""
    anchor = TrustAnchor.from_key(private_key.public_key())
    header = b64url(
        json.dumps({"alg": anchor.alg, "kid": anchor.kid}, separators=(",", ":")).encode()
    )
    signing_input = f"{header}.{b64url(data)}".encode("ascii")
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        signature = private_key.sign(signing_input)
    else:
        # JWS wants raw r||s, not the DER that cryptography produces.
        r, s = decode_dss_signature(private_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{header}..{b64url(signature)}"


def _verify_with(anchor: TrustAnchor, signing_input: bytes, signature: bytes) -> bool:
    try:
        if isinstance(anchor.key, ed25519.Ed25519PublicKey):
            anchor.key.verify(signature, signing_input)
        else:
            if len(signature) != 64:
                return False
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            anchor.key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def verify_detached(
    data: bytes,
    signature: bytes | str,
    trust_anchors: TrustAnchor | Sequence[TrustAnchor],
    *,
    list_name: str = "list",
) -> TrustAnchor:
    """Check that *signature* is a valid detached JWS over *data*.

    Returns the trust anchor that verified it; raises ListSignatureError otherwise.
    Several anchors may be configured to allow key rotation.
    """
    anchors = (trust_anchors,) if isinstance(trust_anchors, TrustAnchor) else tuple(trust_anchors)
    if not anchors:
        raise TrustAnchorError("no trust anchor configured")

    def fail(reason: str) -> ListSignatureError:
        return ListSignatureError(list_name, [Problem(reason, path="signature")])

    try:
        token = signature.decode("ascii") if isinstance(signature, bytes) else signature
    except UnicodeDecodeError:
        raise fail("signature is not ASCII text") from None
    token = token.strip()
    if not token:
        raise fail("signature is empty")
    if len(token) > MAX_SIGNATURE_CHARS:
        raise fail(f"signature is longer than {MAX_SIGNATURE_CHARS} characters")
    parts = token.split(".")
    if len(parts) != 3:
        raise fail("signature is not a compact JWS (header..signature)")
    header_b64, payload_b64, signature_b64 = parts
    if payload_b64:
        raise fail("signature carries a payload; a detached JWS is expected")
    try:
        header = json.loads(_b64url_decode(header_b64))
        raw_signature = _b64url_decode(signature_b64)
    except (ValueError, binascii.Error):
        raise fail("signature header or value is not valid base64url/JSON") from None
    if not isinstance(header, dict):
        raise fail("JWS header is not a JSON object")
    unknown = sorted(set(header) - _ALLOWED_HEADER)
    if unknown:
        raise fail(f"JWS header members not accepted: {', '.join(unknown)}")
    alg = header.get("alg")
    kid = header.get("kid")

    candidates = [a for a in anchors if a.alg == alg and (kid is None or a.kid == kid)]
    if not candidates:
        raise fail(f"no trust anchor matches alg={alg!r} kid={kid!r}")
    signing_input = f"{header_b64}.{b64url(bytes(data))}".encode("ascii")
    for anchor in candidates:
        if _verify_with(anchor, signing_input, raw_signature):
            return anchor
    raise fail("signature does not verify against the trust anchor")
