"""Turn a parsed *and schema-validated* list into the typed models.

Because the XSD already checked structure and types, this code only maps; it does
not re-validate. Never call it on a tree that skipped validation.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from lxml import etree

from .errors import ListSchemaError, Problem
from .kinds import ListKind
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


class _Reader:
    def __init__(self, kind: ListKind) -> None:
        self.kind = kind
        self.ns = kind.namespace

    def q(self, path: str) -> str:
        # "A/B" -> "{ns}A/{ns}B"
        return "/".join(f"{{{self.ns}}}{part}" for part in path.split("/"))

    def text(self, element: etree._Element, path: str) -> str:
        found = element.find(self.q(path))
        assert found is not None, f"schema-validated list lacks {path}"
        return found.text or ""

    def all(self, element: etree._Element, path: str) -> list[etree._Element]:
        return element.findall(self.q(path))

    def header(self, root: etree._Element) -> ListHeader:
        return ListHeader(
            tijdstempel=_datetime(self.text(root, "Tijdstempel"), self.kind),
            volgnummer=int(self.text(root, "Volgnummer").strip()),
        )


_FRACTION = re.compile(r"(\.\d{6})\d+")


def _datetime(value: str, kind: ListKind) -> datetime:
    value = value.strip()
    # Python keeps microseconds; xs:dateTime allows any number of fraction digits.
    value = _FRACTION.sub(r"\1", value).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        # Valid xs:dateTime that Python cannot hold (year 0, 24:00:00, ...).
        raise ListSchemaError(
            kind.root,
            [Problem(f"Tijdstempel {value!r} is out of range", path=f"/{kind.root}/Tijdstempel")],
        ) from None
    # The XSD lets a rare zone-less value through (fractional seconds reach 20
    # characters); read it as UTC rather than fail, ordering relies on Volgnummer.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def read_zal(root: etree._Element) -> Zorgaanbiederslijst:
    r = _Reader(ListKind.ZAL)
    return Zorgaanbiederslijst(
        header=r.header(root),
        zorgaanbieders=tuple(
            Zorgaanbieder(
                zorgaanbiedernaam=r.text(za, "Zorgaanbiedernaam"),
                gegevensdiensten=tuple(
                    ZalGegevensdienst(
                        gegevensdienst_id=r.text(gd, "GegevensdienstId"),
                        authorization_endpoint_uri=r.text(
                            gd, "AuthorizationEndpoint/AuthorizationEndpointuri"
                        ),
                        token_endpoint_uri=r.text(gd, "TokenEndpoint/TokenEndpointuri"),
                        systeemrollen=tuple(
                            Systeemrol(
                                systeemrolcode=r.text(rol, "Systeemrolcode"),
                                resource_endpoint_uri=r.text(
                                    rol, "ResourceEndpoint/ResourceEndpointuri"
                                ),
                            )
                            for rol in r.all(gd, "Systeemrollen/Systeemrol")
                        ),
                    )
                    for gd in r.all(za, "Gegevensdiensten/Gegevensdienst")
                ),
            )
            for za in r.all(root, "Zorgaanbieders/Zorgaanbieder")
        ),
    )


def read_ocl(root: etree._Element) -> OAuthclientlist:
    r = _Reader(ListKind.OCL)
    return OAuthclientlist(
        header=r.header(root),
        clients=tuple(
            OAuthclient(
                hostname=r.text(c, "Hostname"),
                organisatienaam=r.text(c, "OAuthclientOrganisatienaam"),
            )
            for c in r.all(root, "OAuthclients/OAuthclient")
        ),
    )


def read_whitelist(root: etree._Element) -> Whitelist:
    r = _Reader(ListKind.WHITELIST)
    return Whitelist(
        header=r.header(root),
        hostnames=tuple(r.text(n, "Hostname") for n in r.all(root, "MedMijNodes/MedMijNode")),
    )


def read_gnl(root: etree._Element) -> Gegevensdienstnamenlijst:
    r = _Reader(ListKind.GNL)
    return Gegevensdienstnamenlijst(
        header=r.header(root),
        gegevensdiensten=tuple(
            GnlGegevensdienst(
                gegevensdienst_id=r.text(g, "GegevensdienstId"),
                weergavenaam=r.text(g, "Weergavenaam"),
            )
            for g in r.all(root, "Gegevensdiensten/Gegevensdienst")
        ),
    )


READERS = {
    ListKind.ZAL: read_zal,
    ListKind.OCL: read_ocl,
    ListKind.WHITELIST: read_whitelist,
    ListKind.GNL: read_gnl,
}


def read_list(root: etree._Element, kind: ListKind) -> MedMijList:
    return READERS[kind](root)
