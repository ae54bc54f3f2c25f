"""The provider directory: who is on the ZAL, as people recognise them, and search.

Built from the held lists (see ``regie.medmij.lists_client``):

- the ZAL decides which providers exist, their services and every endpoint;
- the GNL gives the services' display names (``Weergavenaam``);
- the provider-details document gives display name, place and kind (else derived from
  the Zorgaanbiedernaam, see ``regie.medmij.provider_details``);
- the Whitelist decides which hosts may be contacted (:meth:`Directory.allowed_host`).

    directory = ListsClient(settings, db).directory()
    for hit in directory.search("apotheek zuidplein rotterdm"):
        print(hit.provider.display_name, hit.provider.place)
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from regie.medmij.lists import (
    Gegevensdienstnamenlijst,
    Whitelist,
    ZalGegevensdienst,
    Zorgaanbiederslijst,
)
from regie.medmij.provider_details import DetailsDocument, derive_details
from regie.medmij.search import Searchable, SearchIndex


@dataclass(frozen=True, slots=True)
class DirectoryService:
    id: str  # GegevensdienstId
    name: str  # GNL Weergavenaam (or "Gegevensdienst <id>" when the GNL lacks it)


@dataclass(frozen=True, slots=True)
class DirectoryProvider:
    zorgaanbiedernaam: str  # "xxx@medmij": the key everywhere
    display_name: str
    place: str | None
    kind: str | None  # huisarts | apotheek | ziekenhuis | ggz | langdurige-zorg | overig
    agb: str | None
    services: tuple[DirectoryService, ...]
    details_known: bool  # False: name and kind derived from the Zorgaanbiedernaam

    @property
    def scope_naam(self) -> str:
        """The provider part of an OAuth scope (``<scope_naam>~<serviceId>``)."""
        return self.zorgaanbiedernaam.removesuffix("@medmij")


@dataclass(frozen=True, slots=True)
class SearchResult:
    provider: DirectoryProvider
    score: float


class Directory:
    def __init__(
        self,
        providers: tuple[DirectoryProvider, ...],
        *,
        zal: Zorgaanbiederslijst | None = None,
        whitelist: Whitelist | None = None,
    ) -> None:
        self.providers = providers
        self.zal = zal
        self.whitelist = whitelist
        self._by_name = {p.zorgaanbiedernaam: p for p in providers}
        self._index = SearchIndex([
            Searchable(p.zorgaanbiedernaam, p.display_name, p.place, p.kind) for p in providers
        ])

    @classmethod
    def build(
        cls,
        *,
        zal: Zorgaanbiederslijst | None,
        gnl: Gegevensdienstnamenlijst | None,
        whitelist: Whitelist | None = None,
        details: DetailsDocument | None = None,
    ) -> Directory:
        names = {g.gegevensdienst_id: g.weergavenaam for g in gnl.gegevensdiensten} if gnl else {}
        known = details.providers if details else {}
        providers = []
        for z in zal.zorgaanbieders if zal else ():
            info = known.get(z.zorgaanbiedernaam)
            shown = info or derive_details(z.zorgaanbiedernaam)
            providers.append(DirectoryProvider(
                zorgaanbiedernaam=z.zorgaanbiedernaam,
                display_name=shown.naam,
                place=shown.plaats,
                kind=shown.soort,
                agb=shown.agb,
                services=tuple(
                    DirectoryService(g.gegevensdienst_id,
                                     names.get(g.gegevensdienst_id, f"Gegevensdienst {g.gegevensdienst_id}"))
                    for g in z.gegevensdiensten
                ),
                details_known=info is not None,
            ))
        providers.sort(key=lambda p: (p.display_name.lower(), p.place or "", p.zorgaanbiedernaam))
        return cls(tuple(providers), zal=zal, whitelist=whitelist)

    def __len__(self) -> int:
        return len(self.providers)

    def provider(self, zorgaanbiedernaam: str) -> DirectoryProvider | None:
        return self._by_name.get(zorgaanbiedernaam)

    def search(self, query: str, limit: int = 20, *, kind: str | None = None) -> list[SearchResult]:
        return [
            SearchResult(self._by_name[hit.key], hit.score)
            for hit in self._index.search(query, limit, kind=kind)
        ]

    def service_endpoints(self, zorgaanbiedernaam: str, gegevensdienst_id: str) -> ZalGegevensdienst | None:
        """The authorization, token and resource endpoints: only ever from the ZAL."""
        if self.zal is None:
            return None
        provider = self.zal.zorgaanbieder(zorgaanbiedernaam)
        return provider.gegevensdienst(gegevensdienst_id) if provider else None

    def allowed_host(self, url: str) -> bool:
        """May Regie contact the host of *url*? Only when it is on the held Whitelist
        (no Whitelist held: nothing is allowed)."""
        if self.whitelist is None:
            return False
        try:
            host = urlsplit(url).hostname
        except ValueError:
            return False
        return bool(host) and self.whitelist.allows(host)
