"""The one-call entry points: bytes (+ detached signature) in, typed list out.

Order matters: size limit, then signature over the raw bytes, and only then parse,
so unauthenticated input never reaches the XML parser or the schema validator.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import ListParseError, Problem
from .kinds import ListKind
from .models import (
    Gegevensdienstnamenlijst,
    MedMijList,
    OAuthclientlist,
    Whitelist,
    Zorgaanbiederslijst,
)
from .reader import read_list
from .schema import SchemaProfile, validate_tree
from .signature import TrustAnchor, verify_detached
from .xmlparse import DEFAULT_MAX_BYTES, parse_list_xml


def parse_list(
    data: bytes,
    kind: ListKind,
    *,
    profile: SchemaProfile = SchemaProfile.MEDMIJ,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> MedMijList:
    """Parse and schema-validate list bytes WITHOUT a signature check."""
    tree = parse_list_xml(data, kind, max_bytes=max_bytes)
    validate_tree(tree, kind, profile)
    return read_list(tree.getroot(), kind)


def load_signed_list(
    data: bytes,
    signature: bytes | str,
    kind: ListKind,
    trust_anchors: TrustAnchor | Sequence[TrustAnchor],
    *,
    profile: SchemaProfile = SchemaProfile.MEDMIJ,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> MedMijList:
    """Verify the detached signature over *data*, then parse and validate it."""
    if len(data) > max_bytes:
        raise ListParseError(
            kind.root, [Problem(f"document is {len(data)} bytes, the limit is {max_bytes}")]
        )
    verify_detached(data, signature, trust_anchors, list_name=kind.root)
    return parse_list(data, kind, profile=profile, max_bytes=max_bytes)


# Typed shortcuts, so callers get the concrete model type without casts.


def parse_zal(
    data: bytes,
    *,
    profile: SchemaProfile = SchemaProfile.MEDMIJ,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Zorgaanbiederslijst:
    result = parse_list(data, ListKind.ZAL, profile=profile, max_bytes=max_bytes)
    assert isinstance(result, Zorgaanbiederslijst)
    return result


def parse_ocl(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> OAuthclientlist:
    result = parse_list(data, ListKind.OCL, max_bytes=max_bytes)
    assert isinstance(result, OAuthclientlist)
    return result


def parse_whitelist(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Whitelist:
    result = parse_list(data, ListKind.WHITELIST, max_bytes=max_bytes)
    assert isinstance(result, Whitelist)
    return result


def parse_gnl(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Gegevensdienstnamenlijst:
    result = parse_list(data, ListKind.GNL, max_bytes=max_bytes)
    assert isinstance(result, Gegevensdienstnamenlijst)
    return result
