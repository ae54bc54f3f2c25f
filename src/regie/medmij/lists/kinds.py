"""The four MedMij lists: names, file names, namespaces, schema files."""

from __future__ import annotations

from enum import Enum


class ListKind(Enum):
    """One of the lists the Stelselnode publishes.

    The value is the root element name, which is also what error messages show.
    """

    ZAL = "Zorgaanbiederslijst"
    OCL = "OAuthclientlist"
    WHITELIST = "Whitelist"
    GNL = "Gegevensdienstnamenlijst"

    @property
    def root(self) -> str:
        return self.value

    @property
    def namespace(self) -> str:
        return _NAMESPACES[self]

    @property
    def filename(self) -> str:
        """Fixed file name on the Stelselnode, e.g. ``MedMij_Whitelist.xml``."""
        return f"MedMij_{self.value}.xml"

    @property
    def signature_filename(self) -> str:
        """Where the detached signature is served, next to the list."""
        return self.filename + SIGNATURE_SUFFIX

    @property
    def schema_file(self) -> str:
        return f"MedMij_{self.value}.xsd"

    @property
    def qualified_root(self) -> str:
        return f"{{{self.namespace}}}{self.root}"


# The odd "xmlns://" scheme is what the Afsprakenstelsel uses; it must match exactly.
_NAMESPACES = {
    ListKind.ZAL: "xmlns://afsprakenstelsel.medmij.nl/zorgaanbiederslijst/release2/",
    ListKind.OCL: "xmlns://afsprakenstelsel.medmij.nl/oauthclientlist/release2/",
    ListKind.WHITELIST: "xmlns://afsprakenstelsel.medmij.nl/whitelist/release2/",
    ListKind.GNL: "xmlns://afsprakenstelsel.medmij.nl/gegevensdienstnamenlijst/release1/",
}

# Detached JWS (RFC 7515 appendix F) served at "<list file>.jws".
SIGNATURE_SUFFIX = ".jws"
SIGNATURE_MEDIA_TYPE = "application/jose"
