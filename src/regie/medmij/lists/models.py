"""Typed, immutable views of the four MedMij lists.

Field names follow the XML element names (Dutch), in snake_case, so the mapping to
the Afsprakenstelsel stays obvious. Collections are tuples to keep instances hashable
and frozen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Union


@dataclass(frozen=True)
class ListHeader:
    """The two header fields every list carries."""

    tijdstempel: datetime
    volgnummer: int


# --- Zorgaanbiederslijst ------------------------------------------------------------


@dataclass(frozen=True)
class Systeemrol:
    systeemrolcode: str
    resource_endpoint_uri: str


@dataclass(frozen=True)
class ZalGegevensdienst:
    gegevensdienst_id: str
    authorization_endpoint_uri: str
    token_endpoint_uri: str
    systeemrollen: tuple[Systeemrol, ...]

    def systeemrol(self, code: str) -> Systeemrol | None:
        return next((r for r in self.systeemrollen if r.systeemrolcode == code), None)


@dataclass(frozen=True)
class Zorgaanbieder:
    zorgaanbiedernaam: str
    gegevensdiensten: tuple[ZalGegevensdienst, ...]

    @property
    def scope_naam(self) -> str:
        """The name without ``@medmij``: the provider part of an OAuth scope."""
        return self.zorgaanbiedernaam.removesuffix("@medmij")

    def gegevensdienst(self, gegevensdienst_id: str) -> ZalGegevensdienst | None:
        return next(
            (g for g in self.gegevensdiensten if g.gegevensdienst_id == gegevensdienst_id), None
        )


@dataclass(frozen=True)
class Zorgaanbiederslijst:
    header: ListHeader
    zorgaanbieders: tuple[Zorgaanbieder, ...]

    def zorgaanbieder(self, naam: str) -> Zorgaanbieder | None:
        return next((z for z in self.zorgaanbieders if z.zorgaanbiedernaam == naam), None)


# --- OAuth client list --------------------------------------------------------------


@dataclass(frozen=True)
class OAuthclient:
    hostname: str
    organisatienaam: str


@dataclass(frozen=True)
class OAuthclientlist:
    header: ListHeader
    clients: tuple[OAuthclient, ...]

    def client(self, hostname: str) -> OAuthclient | None:
        return next((c for c in self.clients if c.hostname == hostname), None)


# --- Whitelist ----------------------------------------------------------------------


@dataclass(frozen=True)
class Whitelist:
    header: ListHeader
    hostnames: tuple[str, ...]

    def allows(self, hostname: str) -> bool:
        # Exact match: list entries are lower-case FQDNs without a trailing dot.
        return hostname.lower().rstrip(".") in self.hostnames


# --- Gegevensdienstnamenlijst -------------------------------------------------------


@dataclass(frozen=True)
class GnlGegevensdienst:
    gegevensdienst_id: str
    weergavenaam: str


@dataclass(frozen=True)
class Gegevensdienstnamenlijst:
    header: ListHeader
    gegevensdiensten: tuple[GnlGegevensdienst, ...]

    def weergavenaam(self, gegevensdienst_id: str) -> str | None:
        return next(
            (
                g.weergavenaam
                for g in self.gegevensdiensten
                if g.gegevensdienst_id == gegevensdienst_id
            ),
            None,
        )


MedMijList = Union[Zorgaanbiederslijst, OAuthclientlist, Whitelist, Gegevensdienstnamenlijst]
