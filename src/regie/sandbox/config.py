"""The sandbox configuration: providers, PGO clients, test persons, base URL, lifetimes.

Frozen dataclasses, so a test builds exactly the network it needs. The lists published by
the sandbox Stelselnode (``regie.sandbox.lists``) are derived from it by
:meth:`SandboxConfig.lists_config`, so the ZAL points at this sandbox's own routes::

    <base>/<provider>/oauth/authorize
    <base>/<provider>/oauth/token
    <base>/<provider>/fhir/<serviceId>

Must never import ``regie.web`` or ``regie.store``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from urllib.parse import urlsplit

from regie.sandbox.lists import REAL_GEGEVENSDIENSTEN, SandboxClient, make_provider
from regie.sandbox.lists import SandboxConfig as ListsConfig

__all__ = [
    "DEFAULT_PORT",
    "Client",
    "Person",
    "Provider",
    "SandboxConfig",
    "base_url_for",
    "default_clients",
    "default_config",
    "default_persons",
    "synth_persons",
    "default_providers",
    "is_ocl_hostname",
    "is_valid_bsn",
]

DEFAULT_PORT = 8100

# The OCL/Whitelist hostname pattern (a lower-case FQDN of at least two labels).
_OCL_HOSTNAME = re.compile(r"([a-z0-9][a-z0-9-]*\.)+[a-z0-9][a-z0-9-]*[a-z0-9]")
_PROVIDER_NAAM = re.compile(r"[a-z]+")


def is_valid_bsn(bsn: str) -> bool:
    """Nine digits that pass the elfproef (11-test) for BSNs."""
    if len(bsn) != 9 or not bsn.isascii() or not bsn.isdigit():
        return False
    digits = [int(c) for c in bsn]
    total = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - digits[8]
    return total % 11 == 0 and bsn != "000000000"


def is_ocl_hostname(hostname: str) -> bool:
    return _OCL_HOSTNAME.fullmatch(hostname) is not None


def is_loopback_host(hostname: str) -> bool:
    return hostname in ("localhost", "127.0.0.1", "::1") or hostname.endswith(".localhost")


@dataclass(frozen=True, slots=True)
class Person:
    """A synthetic test person who can log in at the DigiD simulator."""

    bsn: str
    name: str
    birth_date: date


@dataclass(frozen=True, slots=True)
class Provider:
    """One zorgaanbieder. ``naam`` is the Zorgaanbiedernaam without ``@medmij``."""

    naam: str
    display_name: str  # shown on the sandbox's own pages only (MedMij has no such field)
    service_ids: tuple[str, ...]

    @property
    def zorgaanbiedernaam(self) -> str:
        return f"{self.naam}@medmij"


@dataclass(frozen=True, slots=True)
class Client:
    """A PGO server: ``hostname`` is its OAuth ``client_id`` and the host of its redirect URIs."""

    hostname: str
    organisatienaam: str  # OCL OAuthclientOrganisatienaam, shown on the consent page

    @property
    def on_ocl(self) -> bool:
        """``localhost`` is not a valid OCL hostname; it is accepted off-list (deviation)."""
        return is_ocl_hostname(self.hostname)


def _catalogue_names() -> dict[str, tuple[str, tuple[str, ...]]]:
    """GNL id -> (Weergavenaam, functions) from the shared service catalogue, if present."""
    names: dict[str, tuple[str, tuple[str, ...]]] = {
        gid: (name, ("collect",)) for gid, name in REAL_GEGEVENSDIENSTEN
    }
    try:
        from regie.sandbox.services import SERVICES
    except ImportError:  # pragma: no cover - catalogue is part of the package today
        return names
    for service in SERVICES:
        names[service.id] = (service.name, tuple(service.functions))
    return names


@dataclass(frozen=True)
class SandboxConfig:
    providers: tuple[Provider, ...]
    clients: tuple[Client, ...]
    persons: tuple[Person, ...]
    # Root of every provider route, no trailing slash. For the loopback deviation it must
    # be http on a ``*.localhost`` host, e.g. ``http://sandbox.localhost:8100``.
    base_url: str = f"http://sandbox.localhost:{DEFAULT_PORT}"
    # Root of the front channel (the browser: authorize, DigiD, consent) when it differs
    # from base_url, e.g. a separate listener. ``regie sandbox`` does not need it: the
    # loopback ZAL profile accepts https://<name>.localhost:<port> front-channel URIs.
    front_url: str | None = None
    # GNL: id -> Weergavenaam. Defaults to the shared catalogue's names.
    service_names: tuple[tuple[str, str], ...] = field(default=())
    # Ids that only support "delen" (sending); a scope with one of them must hold exactly
    # one combination. Defaults to the catalogue's share-only services.
    share_only_service_ids: frozenset[str] | None = None
    access_token_lifetime: timedelta = timedelta(minutes=15)
    refresh_token_lifetime: timedelta = timedelta(days=365)
    code_lifetime: timedelta = timedelta(seconds=60)
    flow_lifetime: timedelta = timedelta(minutes=15)  # DigiD + consent must finish within
    digid_session_lifetime: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        names = {p.naam for p in self.providers}
        if len(names) != len(self.providers):
            raise ValueError("provider names must be unique")
        for p in self.providers:
            if not _PROVIDER_NAAM.fullmatch(p.naam) or not 10 <= len(p.zorgaanbiedernaam) <= 57:
                raise ValueError(f"invalid provider name {p.naam!r}: a-z only, 3-50 letters")
        for person in self.persons:
            if not is_valid_bsn(person.bsn):
                raise ValueError(f"test person {person.name!r} has an invalid BSN")
        if len({p.bsn for p in self.persons}) != len(self.persons):
            raise ValueError("test person BSNs must be unique")
        for url in (self.base_url, self.front_url or self.base_url):
            if urlsplit(url).scheme not in ("http", "https") or url.endswith("/"):
                raise ValueError("base_url and front_url must be http(s) URLs without a trailing slash")

    # --- look-ups -------------------------------------------------------------------

    def provider(self, naam: str) -> Provider | None:
        for p in self.providers:
            if p.naam == naam:
                return p
        return None

    def client(self, hostname: str) -> Client | None:
        for c in self.clients:
            if c.hostname == hostname:
                return c
        return None

    def person(self, bsn: str) -> Person | None:
        for p in self.persons:
            if p.bsn == bsn:
                return p
        return None

    def gnl(self) -> tuple[tuple[str, str], ...]:
        """(id, Weergavenaam) for every service some provider offers, in id order."""
        explicit = dict(self.service_names)
        catalogue = _catalogue_names()
        used = sorted({sid for p in self.providers for sid in p.service_ids}, key=_id_key)
        return tuple(
            (sid, explicit.get(sid) or catalogue.get(sid, (f"Gegevensdienst {sid}",))[0])
            for sid in used
        )

    def service_name(self, service_id: str) -> str:
        return dict(self.gnl()).get(service_id, f"Gegevensdienst {service_id}")

    def is_share_only(self, service_id: str) -> bool:
        if self.share_only_service_ids is not None:
            return service_id in self.share_only_service_ids
        functions = _catalogue_names().get(service_id, ("", ("collect",)))[1]
        return "collect" not in functions

    # --- URLs -------------------------------------------------------------------------

    @property
    def front_base_url(self) -> str:
        return self.front_url or self.base_url

    def provider_url(self, naam: str) -> str:
        return f"{self.base_url}/{naam}"

    def authorization_endpoint(self, naam: str) -> str:
        return f"{self.front_base_url}/{naam}/oauth/authorize"

    def token_endpoint(self, naam: str) -> str:
        return f"{self.provider_url(naam)}/oauth/token"

    def resource_endpoint(self, naam: str, service_id: str) -> str:
        return f"{self.provider_url(naam)}/fhir/{service_id}"

    # --- derived configurations -----------------------------------------------------------

    def lists_config(self) -> ListsConfig:
        """The network description for ``regie.sandbox.lists``.

        Clients whose hostname is not a valid OCL hostname (``localhost``) are left off
        the OCL and Whitelist; the sandbox accepts them anyway (loopback deviation).
        """
        return ListsConfig(
            providers=tuple(
                make_provider(
                    p.naam,
                    p.service_ids,
                    base_url=f"{self.base_url}/{{naam}}",
                    front_base_url=f"{self.front_base_url}/{{naam}}",
                )
                for p in self.providers
            ),
            clients=tuple(
                SandboxClient(hostname=c.hostname, organisatienaam=c.organisatienaam)
                for c in self.clients
                if c.on_ocl
            ),
            gegevensdiensten=self.gnl(),
        )

    def with_clients(self, *hostnames: str) -> SandboxConfig:
        """Add PGO clients (``--client HOST``), named after their host."""
        extra = tuple(
            Client(hostname=h, organisatienaam=_org_name(h))
            for h in hostnames
            if self.client(h) is None
        )
        return replace(self, clients=self.clients + extra)


def _id_key(service_id: str) -> tuple[int, str]:
    return (int(service_id), "") if service_id.isdigit() else (10**9, service_id)


def _org_name(hostname: str) -> str:
    name = f"PGO {hostname}"
    return name[:50] if len(name) >= 3 else "PGO"


def base_url_for(port: int = DEFAULT_PORT, *, tls: bool = False) -> str:
    """The provider base URL for a sandbox on this machine.

    Endpoints live on ``sandbox.localhost``: the ZAL (even with the loopback profile)
    refuses bare ``localhost`` and IP literals, and ``*.localhost`` always means loopback.
    """
    scheme = "https" if tls else "http"
    default = 443 if tls else 80
    netloc = "sandbox.localhost" if port == default else f"sandbox.localhost:{port}"
    return f"{scheme}://{netloc}"


def default_providers() -> tuple[Provider, ...]:
    """A GP practice, a hospital, a pharmacy, a mental-health provider, a care home, the
    national vaccination service and a psychologists' practice, with fitting service ids."""
    return (
        Provider("huisartsdevries", "Huisartsenpraktijk De Vries", ("49", "51", "904", "909")),
        Provider("ziekenhuisrivierenland", "Ziekenhuis Rivierenland", ("48", "51", "903", "909")),
        Provider("apotheekdemolen", "Apotheek De Molen", ("48", "901")),
        Provider("ggzdekust", "GGZ De Kust", ("50", "51")),
        Provider("zorgcentrumdelinde", "Zorgcentrum De Linde", ("61",)),
        Provider("rivmvaccinaties", "RIVM Vaccinatiegegevens", ("63",)),
        # Questionnaires (906) and correction requests (909): sends, not collected.
        Provider("praktijkhetanker", "Psychologenpraktijk Het Anker", ("906", "909")),
    )


def default_clients() -> tuple[Client, ...]:
    return (
        # Regie on its default public URL (http://localhost:8000). Not on the OCL.
        Client("localhost", "Regie (lokaal)"),
        # Regie on http://regie.localhost:8000: on the OCL like a real PGO.
        Client("regie.localhost", "Regie"),
    )


def default_persons() -> tuple[Person, ...]:
    """Ten synthetic persons with valid test BSNs (the 9999xxxxx test range).

    Swap in richer ones (e.g. from ``regie.sandbox.synth``) with
    ``dataclasses.replace(config, persons=...)``; only bsn, name and birth_date are used here.
    """
    return (
        Person("999990007", "Anna de Jong", date(1958, 3, 14)),
        Person("999990056", "Bram Jansen", date(1987, 11, 2)),
        Person("999990147", "Chantal Bakker", date(1974, 6, 25)),
        Person("999990196", "Daan Visser", date(2010, 9, 8)),
        Person("999990238", "Esra Yilmaz", date(1992, 1, 30)),
        Person("999990287", "Fenna Smit", date(1945, 12, 19)),
        Person("999990329", "Gerrit Meijer", date(1963, 4, 5)),
        Person("999990378", "Hanneke de Boer", date(2001, 7, 17)),
        Person("999990469", "Imran Mulder", date(1980, 10, 11)),
        Person("999991036", "Julia van Dijk", date(1999, 2, 28)),
    )


def synth_persons(seed: int = 1) -> tuple[Person, ...]:
    """The default test BSNs with the names and birth dates the synthetic-data generator
    (``regie.sandbox.synth``) gives them, so the DigiD page matches the FHIR Patient.
    Falls back to :func:`default_persons` when the generator is not available."""
    fallback = default_persons()
    try:
        from regie.sandbox.synth.people import person_for_bsn
    except ImportError:
        return fallback
    result = []
    for p in fallback:
        s = person_for_bsn(seed, p.bsn)
        name = " ".join(part for part in (s.given, s.prefix, s.family) if part)
        result.append(Person(p.bsn, name, s.birth_date))
    return tuple(result)


def default_config(
    *,
    base_url: str | None = None,
    port: int = DEFAULT_PORT,
    clients: tuple[str, ...] | list[str] = (),
    persons: tuple[Person, ...] | None = None,
    tls: bool = False,
    front_url: str | None = None,
) -> SandboxConfig:
    config = SandboxConfig(
        providers=default_providers(),
        clients=default_clients(),
        persons=persons if persons is not None else default_persons(),
        base_url=base_url or base_url_for(port, tls=tls),
        front_url=front_url,
    )
    return config.with_clients(*clients) if clients else config
