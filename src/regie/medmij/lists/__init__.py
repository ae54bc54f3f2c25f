"""The MedMij lists (ZAL, OCL, Whitelist, GNL) as the PGO receives them.

Typical use by a list collector::

    anchor = TrustAnchor.from_file(settings.medmij_list_trust_anchor)
    zal = load_signed_list(xml_bytes, jws_text, ListKind.ZAL, anchor)
    decision = decide_replacement(held_zal, zal, list_name=ListKind.ZAL.root)
    if decision is not Replacement.UNCHANGED:
        ...store zal...
"""

from .errors import (
    ListError,
    ListParseError,
    ListSchemaError,
    ListSignatureError,
    ListVersionError,
    Problem,
    TrustAnchorError,
)
from .kinds import SIGNATURE_MEDIA_TYPE, SIGNATURE_SUFFIX, ListKind
from .loader import load_signed_list, parse_gnl, parse_list, parse_ocl, parse_whitelist, parse_zal
from .models import (
    Gegevensdienstnamenlijst,
    GnlGegevensdienst,
    ListHeader,
    MedMijList,
    OAuthclient,
    OAuthclientlist,
    Systeemrol,
    Whitelist,
    ZalGegevensdienst,
    Zorgaanbieder,
    Zorgaanbiederslijst,
)
from .schema import SchemaProfile, load_schema, schema_path
from .signature import TrustAnchor, sign_detached, verify_detached
from .versioning import Replacement, decide_replacement
from .xmlparse import DEFAULT_MAX_BYTES, parse_list_xml

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SIGNATURE_MEDIA_TYPE",
    "SIGNATURE_SUFFIX",
    "Gegevensdienstnamenlijst",
    "GnlGegevensdienst",
    "ListError",
    "ListHeader",
    "ListKind",
    "ListParseError",
    "ListSchemaError",
    "ListSignatureError",
    "ListVersionError",
    "MedMijList",
    "OAuthclient",
    "OAuthclientlist",
    "Problem",
    "Replacement",
    "SchemaProfile",
    "Systeemrol",
    "TrustAnchor",
    "TrustAnchorError",
    "Whitelist",
    "ZalGegevensdienst",
    "Zorgaanbieder",
    "Zorgaanbiederslijst",
    "decide_replacement",
    "load_schema",
    "load_signed_list",
    "parse_gnl",
    "parse_list",
    "parse_list_xml",
    "parse_ocl",
    "parse_whitelist",
    "parse_zal",
    "schema_path",
    "sign_detached",
    "verify_detached",
]
