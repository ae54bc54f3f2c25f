"""Plausible Dutch care providers for the sandbox ZAL, and the provider-details document.

The ZAL only carries ``Zorgaanbiedernaam`` (``xxx@medmij``) and services. People look
for "Huisartsenpraktijk De Linde in Utrecht", so the sandbox also publishes, beside the
lists, a signed *provider-details document* (Regie's design, see
docs/provider-directory.md)::

    GET /Regie_Zorgaanbiederdetails.json      application/json
    GET /Regie_Zorgaanbiederdetails.json.jws  application/jose (detached JWS, like the lists)

Everything here is deterministic from a seed. Must never import regie.web or regie.store.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

__all__ = [
    "DETAILS_FILENAME",
    "DETAILS_FORMAT",
    "KIND_SERVICES",
    "LANDMARKS",
    "DirectoryProvider",
    "details_document",
    "details_routes",
    "generate_directory",
    "sandbox_directory",
]

DETAILS_FILENAME = "Regie_Zorgaanbiederdetails.json"
DETAILS_FORMAT = "regie-provider-details/1"

# Kind -> GNL service ids such a provider typically offers (real ids, see NOTES).
KIND_SERVICES: dict[str, tuple[str, ...]] = {
    "huisarts": ("49", "51"),
    "apotheek": ("48",),
    "ziekenhuis": ("48", "51"),
    "ggz": ("50", "51"),
    "langdurige-zorg": ("61",),
}

# Real Dutch places, roughly weighted by size (more providers in bigger places).
_PLACES: tuple[tuple[str, int], ...] = (
    ("Amsterdam", 40), ("Rotterdam", 30), ("Den Haag", 26), ("Utrecht", 20),
    ("Eindhoven", 12), ("Groningen", 12), ("Tilburg", 11), ("Almere", 11), ("Breda", 10),
    ("Nijmegen", 10), ("Apeldoorn", 9), ("Haarlem", 9), ("Arnhem", 9), ("Enschede", 9),
    ("Amersfoort", 9), ("Zaandam", 8), ("'s-Hertogenbosch", 8), ("Hoofddorp", 7),
    ("Zwolle", 7), ("Zoetermeer", 7), ("Leiden", 7), ("Maastricht", 7), ("Dordrecht", 7),
    ("Ede", 6), ("Alphen aan den Rijn", 6), ("Alkmaar", 6), ("Emmen", 6), ("Delft", 6),
    ("Venlo", 5), ("Deventer", 5), ("Sittard", 5), ("Helmond", 5), ("Oss", 5),
    ("Leeuwarden", 5), ("Hilversum", 5), ("Heerlen", 5), ("Amstelveen", 5), ("Hengelo", 4),
    ("Purmerend", 4), ("Roosendaal", 4), ("Schiedam", 4), ("Lelystad", 4), ("Gouda", 4),
    ("Vlaardingen", 4), ("Hoorn", 4), ("Almelo", 4), ("Spijkenisse", 4), ("Assen", 4),
    ("Capelle aan den IJssel", 4), ("Veenendaal", 4), ("Katwijk", 3), ("Zeist", 3),
    ("Nieuwegein", 3), ("Roermond", 3), ("Den Helder", 3), ("Doetinchem", 3),
    ("Hoogeveen", 3), ("Terneuzen", 3), ("Kampen", 3), ("Woerden", 3), ("Houten", 3),
    ("Weert", 3), ("Tiel", 3), ("Culemborg", 2), ("Middelburg", 3), ("Vlissingen", 3),
    ("Goes", 2), ("Harderwijk", 3), ("Zutphen", 2), ("Heerenveen", 3), ("Sneek", 2),
    ("Drachten", 2), ("Meppel", 2), ("Winterswijk", 2), ("Bergen op Zoom", 3),
    ("Waalwijk", 2), ("Uden", 2), ("Veghel", 2), ("Boxtel", 2), ("Oosterhout", 2),
    ("Etten-Leur", 2), ("Gorinchem", 2), ("Barneveld", 2), ("Wageningen", 2),
    ("Naaldwijk", 2), ("Rijswijk", 3), ("Voorburg", 2), ("Wassenaar", 2), ("Heemstede", 2),
    ("Bussum", 2), ("Huizen", 2), ("Soest", 2), ("Baarn", 2), ("Zevenaar", 2),
    ("Oldenzaal", 2), ("Steenwijk", 2), ("Dokkum", 1), ("Franeker", 1), ("Harlingen", 1),
    ("Delfzijl", 1), ("Winschoten", 1), ("Stadskanaal", 1), ("Veendam", 1), ("Coevorden", 1),
    ("Zierikzee", 1), ("Hulst", 1), ("Venray", 2), ("Geleen", 2), ("Kerkrade", 2),
    ("Valkenburg", 1), ("Brunssum", 1), ("Nuenen", 1), ("Veldhoven", 2), ("Best", 1),
    ("Schagen", 1), ("Enkhuizen", 1), ("Edam", 1), ("Volendam", 1), ("Monnickendam", 1),
    ("IJsselstein", 2), ("Vianen", 1), ("Leerdam", 1), ("Zaltbommel", 1), ("Druten", 1),
)

_DISTRICTS: dict[str, tuple[str, ...]] = {
    "Amsterdam": ("Oost", "West", "Noord", "Zuid", "Bijlmer", "De Pijp", "Jordaan",
                  "Slotervaart", "Osdorp", "Watergraafsmeer", "IJburg", "Buitenveldert"),
    "Rotterdam": ("Zuidplein", "Kralingen", "Blijdorp", "Delfshaven", "Ommoord", "Hillegersberg",
                  "Feijenoord", "Charlois", "Crooswijk", "Alexander", "Overschie", "IJsselmonde"),
    "Den Haag": ("Schilderswijk", "Transvaal", "Scheveningen", "Loosduinen", "Ypenburg",
                 "Mariahoeve", "Duinoord", "Bezuidenhout", "Escamp", "Leidschenveen"),
    "Utrecht": ("Overvecht", "Kanaleneiland", "Lombok", "Zuilen", "Hoograven", "Leidsche Rijn",
                "Tuindorp", "Wittevrouwen", "Lunetten", "Vleuten"),
    "Groningen": ("Paddepoel", "Vinkhuizen", "Beijum", "Lewenborg", "Helpman", "Oosterpark"),
    "Eindhoven": ("Woensel", "Strijp", "Gestel", "Stratum", "Tongelre"),
    "Tilburg": ("Reeshof", "Oud-Noord", "Berkel-Enschot", "Udenhout"),
    "Nijmegen": ("Dukenburg", "Lindenholt", "Hatert", "Lent", "Oosterhout"),
}
_COMPASS = ("Oost", "West", "Noord", "Zuid", "Centrum")

_NATURE = (
    "De Linde", "De Eik", "De Beuk", "De Wilg", "De Kastanje", "De Molen", "De Brug",
    "De Haven", "De Zonnebloem", "De Vlinder", "De Poort", "De Hoeve", "De Akker", "De Weide",
    "De Duinen", "De Horst", "De Vaart", "De Dijk", "De Terp", "De Esch", "De Hof", "De Kern",
    "De Waag", "De Toren", "De Klaver", "De Meander", "Het Lindehof", "De Bosrand",
    "Parkzicht", "Het Spectrum", "De Schakel", "De Bron", "De Driehoek", "De Vijverhof",
    "Het Kompas", "De Regenboog", "De Lelie", "De Berkenhof", "De Esdoorn", "De Plataan",
    "Het Anker", "De Vuurtoren", "De Singel", "De Gracht", "De Markt", "De Boog",
    "Zonnehof", "Rozenhof", "Eikenhorst", "Lindenhof", "Weidezicht", "Waterrijk",
)
_SURNAMES = (
    "De Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "De Boer", "Mulder", "De Groot",
    "Bos", "Vos", "Peters", "Hendriks", "Van Leeuwen", "Dekker", "Brouwer", "De Wit",
    "Dijkstra", "Smits", "De Graaf", "Van der Meer", "Van der Linden", "Kok", "Jacobs",
    "De Haan", "Vermeulen", "Van den Berg", "Van Dijk", "Schouten", "Van Beek", "Willems",
    "Hoekstra", "Koster", "Prins", "Post", "Kuipers", "Huisman", "Kramer", "Postma", "Blom",
)
_REGIONS = (
    "Rivierenland", "Gelderse Vallei", "Amstelland", "Zaanstreek", "Noordwest", "Kennemerland",
    "West-Brabant", "Oost-Achterhoek", "Zuidoost", "Midden-Holland", "De Kempen", "Twente",
    "Drenthe", "Friesland", "Zeeland", "Flevoland", "Noord-Limburg", "Zuid-Limburg",
    "Rijnmond", "Haaglanden", "Gooi en Vecht", "Westfriesland", "Veluwe", "IJsselland",
    "Betuwe", "Maasland", "Stedendriehoek", "Bollenstreek", "Kop van Noord-Holland",
)
_SAINTS = ("Sint Antonius", "Sint Jansdal", "Sint Franciscus", "Sint Anna", "Sint Jans",
           "Maria", "Elisabeth", "Sint Lucas", "Sint Bernardus", "Sint Catharina")


@dataclass(frozen=True, slots=True)
class DirectoryProvider:
    """One generated provider. ``naam`` is the Zorgaanbiedernaam without ``@medmij``."""

    naam: str
    display_name: str
    place: str
    kind: str  # a key of KIND_SERVICES
    service_ids: tuple[str, ...]
    agb: str  # an 8-digit, AGB-like code (made up)

    @property
    def zorgaanbiedernaam(self) -> str:
        return f"{self.naam}@medmij"


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in plain if "a" <= ch <= "z")


def _suffix(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def _district(rng: random.Random, place: str) -> str:
    return rng.choice(_DISTRICTS.get(place, _COMPASS))


def _name_for(rng: random.Random, kind: str, place: str) -> str:
    roll = rng.random()
    if kind == "huisarts":
        if roll < 0.40:
            return f"Huisartsenpraktijk {rng.choice(_NATURE)}"
        if roll < 0.65:
            return f"Huisartsenpraktijk {rng.choice(_SURNAMES)}"
        if roll < 0.82:
            return f"Gezondheidscentrum {_district(rng, place)}"
        if roll < 0.92:
            return f"Huisartsen {rng.choice(_NATURE).removeprefix('De ').removeprefix('Het ')}"
        return f"Huisartsenpraktijk {place} {_district(rng, place)}"
    if kind == "apotheek":
        if roll < 0.45:
            return f"Apotheek {rng.choice(_NATURE)}"
        if roll < 0.80:
            return f"Apotheek {_district(rng, place)}"
        if roll < 0.92:
            return f"Apotheek {rng.choice(_SURNAMES)}"
        return f"Service Apotheek {place}"
    if kind == "ziekenhuis":
        if roll < 0.35:
            return f"Ziekenhuis {rng.choice(_REGIONS)}"
        if roll < 0.60:
            return f"{rng.choice(_SAINTS)} Ziekenhuis"
        if roll < 0.80:
            return f"Medisch Centrum {place}"
        return f"Streekziekenhuis {rng.choice(_REGIONS)}"
    if kind == "ggz":
        if roll < 0.40:
            return f"GGZ {rng.choice(_REGIONS)}"
        if roll < 0.65:
            return f"GGZ {rng.choice(_NATURE)}"
        if roll < 0.85:
            return f"Psychiatrisch Centrum {place}"
        return f"Praktijk voor Psychologie {rng.choice(_SURNAMES)}"
    # langdurige zorg
    if roll < 0.45:
        return f"Zorgcentrum {rng.choice(_NATURE)}"
    if roll < 0.75:
        return f"Woonzorgcentrum {rng.choice(_NATURE)}"
    return f"Verpleeghuis {rng.choice(_NATURE)}"


# Share of each kind in the directory (GP practices and pharmacies are by far the most).
_KIND_WEIGHTS = (("huisarts", 45), ("apotheek", 30), ("ggz", 10), ("langdurige-zorg", 10),
                 ("ziekenhuis", 5))


# Always part of a directory of at least this many providers: the examples people (and
# the search benchmark) look for.
LANDMARKS: tuple[tuple[str, str, str], ...] = (
    ("Huisartsenpraktijk De Linde", "Utrecht", "huisarts"),
    ("Gezondheidscentrum Oost", "Almere", "huisarts"),
    ("Apotheek Zuidplein", "Rotterdam", "apotheek"),
    ("Ziekenhuis Rivierenland", "Tiel", "ziekenhuis"),
    ("GGZ De Kust", "Den Helder", "ggz"),
    ("Zorgcentrum De Linde", "Zwolle", "langdurige-zorg"),
)


def generate_directory(count: int, seed: int = 1, *,
                       avoid_names: Iterable[str] = ()) -> tuple[DirectoryProvider, ...]:
    """*count* plausible providers, the same for the same (count, seed, avoid_names).

    With *count* >= 20 the first ones are the fixed LANDMARKS. Names are unique per
    place; the Zorgaanbiedernaam is derived from name and place (a-z only, at most 50
    letters) and unique. No provider gets a display name in *avoid_names* (case does not
    matter; landmarks included): the sandbox passes the names of its answering providers,
    so a patient never has to guess which "Huisartsenpraktijk De Vries" answers.
    """
    rng = random.Random(seed)
    avoid = {name.casefold() for name in avoid_names}
    landmarks = [m for m in LANDMARKS if m[0].casefold() not in avoid] if count >= 20 else []
    places = [p for p, _ in _PLACES]
    place_weights = [w for _, w in _PLACES]
    kinds = [k for k, _ in _KIND_WEIGHTS]
    kind_weights = [w for _, w in _KIND_WEIGHTS]
    seen_names: set[tuple[str, str]] = set()
    used: set[str] = set()
    result: list[DirectoryProvider] = []
    attempts = 0
    while len(result) < count:
        attempts += 1
        if attempts > count * 50:
            raise ValueError(f"cannot make {count} distinct providers")
        if landmarks:
            name, place, kind = landmarks.pop(0)
        else:
            kind = rng.choices(kinds, kind_weights)[0]
            place = rng.choices(places, place_weights)[0]
            name = _name_for(rng, kind, place)
        if (name, place) in seen_names or name.casefold() in avoid:
            continue
        seen_names.add((name, place))
        base = (_slug(name) + _slug(place))[:46]
        naam, n = base, 0
        while naam in used:
            naam = base + _suffix(n)
            n += 1
        used.add(naam)
        agb = f"{rng.randrange(10**7, 10**8):08d}"
        result.append(DirectoryProvider(naam, name, place, kind, KIND_SERVICES[kind], agb))
    return tuple(result)


# Where the sandbox's own (answering) providers are, for the details document: with a
# place and kind they stand out from the generated ones in Regie's provider search.
CONFIGURED_DETAILS: dict[str, tuple[str, str]] = {
    "huisartsdevries": ("Utrecht", "huisarts"),
    "ziekenhuisrivierenland": ("Tiel", "ziekenhuis"),
    "apotheekdemolen": ("Utrecht", "apotheek"),
    "ggzdekust": ("Den Helder", "ggz"),
    "zorgcentrumdelinde": ("Zwolle", "langdurige-zorg"),
    "rivmvaccinaties": ("Bilthoven", "overig"),
    "praktijkhetanker": ("Utrecht", "ggz"),
}


def sandbox_directory(config, size: int, seed: int = 1):
    """The sandbox *config* with *size* generated providers added to its ZAL, and the
    details-document entries for all of them: ``(config, entries)``.

    The configured providers (the ones whose data is worth collecting) get a place and
    kind (:data:`CONFIGURED_DETAILS`); generated ones never take their names.
    """
    from dataclasses import replace

    from regie.sandbox.config import Provider

    generated = generate_directory(size, seed=seed,
                                   avoid_names=[p.display_name for p in config.providers]) if size else ()
    entries: list[DirectoryProvider | dict[str, str]] = []
    for p in config.providers:
        place, kind = CONFIGURED_DETAILS.get(p.naam, ("", ""))
        entries.append({"zorgaanbiedernaam": p.zorgaanbiedernaam, "naam": p.display_name,
                        "plaats": place, "soort": kind})
    entries.extend(generated)
    if generated:
        config = replace(config, providers=config.providers + tuple(
            Provider(p.naam, p.display_name, p.service_ids) for p in generated))
    return config, entries


def details_document(
    providers: Iterable[DirectoryProvider] | Iterable[dict[str, str]],
    *,
    volgnummer: int = 1,
    tijdstempel: datetime | None = None,
) -> bytes:
    """The provider-details JSON document (UTF-8), ready to sign and serve.

    Accepts generated providers or dicts with ``zorgaanbiedernaam``, ``naam`` and
    optionally ``plaats``, ``soort``, ``agb``.
    """
    entries = []
    for p in providers:
        if isinstance(p, DirectoryProvider):
            entries.append({"zorgaanbiedernaam": p.zorgaanbiedernaam, "naam": p.display_name,
                            "plaats": p.place, "soort": p.kind, "agb": p.agb})
        else:
            entries.append({k: v for k, v in p.items() if v})
    moment = (tijdstempel or datetime.now(timezone.utc)).astimezone(timezone.utc)
    document = {
        "format": DETAILS_FORMAT,
        "tijdstempel": moment.isoformat(timespec="seconds"),
        "volgnummer": volgnummer,
        "zorgaanbieders": entries,
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def details_routes(state_dir: str | Path, document: Callable[[], bytes]) -> list:
    """Starlette routes serving the details document and its detached signature, signed
    with the sandbox Stelselnode's list key in *state_dir*. *document* is called once."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from regie.medmij.lists import SIGNATURE_MEDIA_TYPE, sign_detached
    from regie.sandbox.lists import load_or_create_signing_key

    body = document()
    signature = sign_detached(body, load_or_create_signing_key(Path(state_dir)))
    headers = {"Cache-Control": "no-cache"}

    async def serve_document(request: Request) -> Response:
        return Response(body, media_type="application/json", headers=headers)

    async def serve_signature(request: Request) -> Response:
        return Response(signature, media_type=SIGNATURE_MEDIA_TYPE, headers=headers)

    return [
        Route(f"/{DETAILS_FILENAME}", serve_document, methods=["GET"]),
        Route(f"/{DETAILS_FILENAME}.jws", serve_signature, methods=["GET"]),
    ]
