"""What the sandbox Stelselnode publishes: providers, their services and endpoints,
OAuth clients (PGOs) and the service names.

Plain frozen dataclasses, so a test can build exactly the network it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Service ids and display names. The ids are the ones public PGO code uses today;
# the exact production Weergavenamen are not confirmed, read them from the real GNL.
REAL_GEGEVENSDIENSTEN: tuple[tuple[str, str], ...] = (
    ("48", "Basisgegevensset Zorg (BgZ)"),
    ("49", "Huisartsgegevens"),
    ("50", "Geestelijke gezondheidszorg (GGZ)"),
    ("51", "Documenten (PDF/A)"),
    ("61", "Langdurige zorg (BgLZ)"),
    ("63", "Vaccinaties"),
)

# Illustrative Systeemrolcodes in the documented <standard>-<version>-<role>-FHIR
# shape. NOT the production codes (the Catalogus was not available).
SANDBOX_SYSTEEMROLLEN: dict[str, str] = {
    "48": "BGZ-2017-BZB-FHIR",
    "49": "HA-2.0-HGB-FHIR",
    "50": "GGZ-1.0-GGB-FHIR",
    "51": "PDFA-3.0-PDB-FHIR",
    "61": "BGLZ-3.0-LZB-FHIR",
    "63": "VACC-2.0-VCB-FHIR",
}


@dataclass(frozen=True)
class SandboxService:
    """One Gegevensdienst as a provider offers it, with its endpoints."""

    gegevensdienst_id: str
    authorization_endpoint_uri: str
    token_endpoint_uri: str
    # Systeemrolcode -> ResourceEndpointuri, in list order.
    systeemrollen: tuple[tuple[str, str], ...]

    def uris(self) -> tuple[str, ...]:
        return (
            self.authorization_endpoint_uri,
            self.token_endpoint_uri,
            *(uri for _, uri in self.systeemrollen),
        )


@dataclass(frozen=True)
class SandboxProvider:
    zorgaanbiedernaam: str  # "<lower-case letters>@medmij"
    services: tuple[SandboxService, ...]


@dataclass(frozen=True)
class SandboxClient:
    """A PGO server on the OCL: hostname (= OAuth client_id) and display name."""

    hostname: str
    organisatienaam: str


@dataclass(frozen=True)
class SandboxConfig:
    providers: tuple[SandboxProvider, ...]
    clients: tuple[SandboxClient, ...]
    gegevensdiensten: tuple[tuple[str, str], ...] = REAL_GEGEVENSDIENSTEN
    # Nodes to whitelist beyond the clients and the endpoint hosts.
    extra_nodes: tuple[str, ...] = field(default=())

    def whitelist_hostnames(self) -> tuple[str, ...]:
        """Every client host and every endpoint host, each once, in a stable order."""
        hosts: dict[str, None] = {}
        for client in self.clients:
            hosts[client.hostname] = None
        for provider in self.providers:
            for service in provider.services:
                for uri in service.uris():
                    hostname = urlsplit(uri).hostname
                    if hostname:
                        hosts[hostname] = None
        for node in self.extra_nodes:
            hosts[node] = None
        return tuple(hosts)

    def uses_loopback_http(self) -> bool:
        """True when the ZAL needs the loopback schema profile (the documented sandbox
        deviation): some endpoint is plain http, or a front-channel (authorization)
        endpoint is https with a port."""
        return any(
            uri.startswith("http://")
            for p in self.providers
            for s in p.services
            for uri in s.uris()
        ) or any(
            urlsplit(s.authorization_endpoint_uri).port is not None
            for p in self.providers
            for s in p.services
        )

    def without_provider(self, zorgaanbiedernaam: str) -> SandboxConfig:
        return SandboxConfig(
            providers=tuple(p for p in self.providers if p.zorgaanbiedernaam != zorgaanbiedernaam),
            clients=self.clients,
            gegevensdiensten=self.gegevensdiensten,
            extra_nodes=self.extra_nodes,
        )


def make_provider(
    scope_naam: str,
    service_ids: tuple[str, ...],
    *,
    base_url: str,
    front_base_url: str | None = None,
) -> SandboxProvider:
    """A provider whose endpoints all live under *base_url*/<scope_naam>/.

    *base_url* may contain ``{naam}``, e.g. ``https://{naam}.sandbox.localhost`` or
    ``http://{naam}.sandbox.localhost:8100`` (loopback deviation). *front_base_url*,
    when given, is used for the front channel (the AuthorizationEndpointuri) instead.
    """
    root = base_url.format(naam=scope_naam).rstrip("/")
    front = (front_base_url or base_url).format(naam=scope_naam).rstrip("/")
    return SandboxProvider(
        zorgaanbiedernaam=f"{scope_naam}@medmij",
        services=tuple(
            SandboxService(
                gegevensdienst_id=gid,
                authorization_endpoint_uri=f"{front}/oauth/authorize",
                token_endpoint_uri=f"{root}/oauth/token",
                systeemrollen=(
                    (SANDBOX_SYSTEEMROLLEN.get(gid, f"SANDBOX-{gid}-FHIR"), f"{root}/fhir/{gid}"),
                ),
            )
            for gid in service_ids
        ),
    )


def default_config(
    base_url: str = "https://{naam}.sandbox.localhost",
    pgo_hostname: str = "regie.sandbox.localhost",
) -> SandboxConfig:
    """A small network: four providers covering the six real services, one PGO."""
    return SandboxConfig(
        providers=(
            make_provider("huisartspraktijkzonnebloem", ("49", "63"), base_url=base_url),
            make_provider("ziekenhuisrivierenland", ("48", "51"), base_url=base_url),
            make_provider("ggzdekust", ("50",), base_url=base_url),
            make_provider("zorgcentrumdelinde", ("61",), base_url=base_url),
        ),
        clients=(SandboxClient(hostname=pgo_hostname, organisatienaam="Regie (sandbox)"),),
    )
