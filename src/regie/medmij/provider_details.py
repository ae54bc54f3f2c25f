"""Provider details: what people recognise a provider by (name, place, kind).

The ZAL (release2) carries only ``Zorgaanbiedernaam`` (``xxx@medmij``). Newer
Afsprakenstelsel versions add an Aanbiedertype; addresses and AGB codes live in other
registers (the AGB register, the Aanbiedersregister). Regie therefore reads an optional,
signed JSON *provider-details document* published beside the lists (format below; the
sandbox serves one) and otherwise derives a name and kind from the Zorgaanbiedernaam.
See docs/provider-directory.md.

Format ``regie-provider-details/1``::

    {"format": "regie-provider-details/1", "tijdstempel": "2026-01-01T12:00:00+00:00",
     "volgnummer": 3,
     "zorgaanbieders": [{"zorgaanbiedernaam": "apotheekzuidpleinrotterdam@medmij",
                         "naam": "Apotheek Zuidplein", "plaats": "Rotterdam",
                         "soort": "apotheek", "agb": "02012345"}]}

Entries for providers not on the ZAL are ignored: the ZAL decides who exists.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from regie.medmij.lists import ListHeader

DETAILS_FORMAT = "regie-provider-details/1"
DETAILS_FILENAME = "Regie_Zorgaanbiederdetails.json"
KINDS = ("huisarts", "apotheek", "ziekenhuis", "ggz", "langdurige-zorg", "overig")
_MAX_ENTRIES = 200_000
_LIMITS = {"zorgaanbiedernaam": 60, "naam": 120, "plaats": 80, "soort": 30, "agb": 8}


class DetailsError(ValueError):
    """The details document is not what the format promises."""


@dataclass(frozen=True, slots=True)
class ProviderDetails:
    naam: str  # display name
    plaats: str | None = None
    soort: str | None = None  # one of KINDS
    agb: str | None = None


@dataclass(frozen=True)
class DetailsDocument:
    header: ListHeader
    providers: dict[str, ProviderDetails]  # by Zorgaanbiedernaam


def parse_details(data: bytes, *, max_bytes: int = 16 * 1024 * 1024) -> DetailsDocument:
    """Parse and check a details document (call only on signature-checked bytes)."""
    if len(data) > max_bytes:
        raise DetailsError(f"document is {len(data)} bytes, the limit is {max_bytes}")
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DetailsError(f"not UTF-8 JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != DETAILS_FORMAT:
        raise DetailsError(f"format must be {DETAILS_FORMAT!r}")
    volgnummer = document.get("volgnummer")
    if not isinstance(volgnummer, int) or isinstance(volgnummer, bool) or volgnummer < 1:
        raise DetailsError("volgnummer must be a positive integer")
    try:
        tijdstempel = datetime.fromisoformat(str(document.get("tijdstempel")))
    except ValueError as exc:
        raise DetailsError("tijdstempel must be an ISO 8601 date-time") from exc
    if tijdstempel.tzinfo is None:
        tijdstempel = tijdstempel.replace(tzinfo=timezone.utc)
    entries = document.get("zorgaanbieders")
    if not isinstance(entries, list) or len(entries) > _MAX_ENTRIES:
        raise DetailsError("zorgaanbieders must be a list")
    providers: dict[str, ProviderDetails] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise DetailsError(f"zorgaanbieders[{index}] is not an object")
        values: dict[str, str | None] = {}
        for key, limit in _LIMITS.items():
            value = entry.get(key)
            if value is not None and (not isinstance(value, str) or len(value) > limit
                                      or not value.isprintable()):
                raise DetailsError(f"zorgaanbieders[{index}].{key} is not a short text")
            values[key] = value.strip() if isinstance(value, str) and value.strip() else None
        naam, display = values["zorgaanbiedernaam"], values["naam"]
        if not naam or not naam.endswith("@medmij") or not display:
            raise DetailsError(f"zorgaanbieders[{index}] needs zorgaanbiedernaam and naam")
        soort = values["soort"] if values["soort"] in KINDS else None
        providers[naam] = ProviderDetails(display, values["plaats"], soort, values["agb"])
    return DetailsDocument(ListHeader(tijdstempel, volgnummer), providers)


# Derivation from the Zorgaanbiedernaam when no details are known ------------------------

_PREFIXES: tuple[tuple[str, str, str], ...] = (
    # (prefix in the name, shown as, kind)
    ("huisartsenpraktijk", "Huisartsenpraktijk", "huisarts"),
    ("huisartspraktijk", "Huisartspraktijk", "huisarts"),
    ("huisartsen", "Huisartsen", "huisarts"),
    ("huisarts", "Huisarts", "huisarts"),
    ("gezondheidscentrum", "Gezondheidscentrum", "huisarts"),
    ("serviceapotheek", "Service Apotheek", "apotheek"),
    ("apotheek", "Apotheek", "apotheek"),
    ("streekziekenhuis", "Streekziekenhuis", "ziekenhuis"),
    ("ziekenhuis", "Ziekenhuis", "ziekenhuis"),
    ("medischcentrum", "Medisch Centrum", "ziekenhuis"),
    ("umc", "UMC", "ziekenhuis"),
    ("ggz", "GGZ", "ggz"),
    ("psychiatrischcentrum", "Psychiatrisch Centrum", "ggz"),
    ("woonzorgcentrum", "Woonzorgcentrum", "langdurige-zorg"),
    ("zorgcentrum", "Zorgcentrum", "langdurige-zorg"),
    ("verpleeghuis", "Verpleeghuis", "langdurige-zorg"),
)


def derive_details(zorgaanbiedernaam: str) -> ProviderDetails:
    """A readable name and, where the name says so, a kind: ``apotheekdemolen@medmij``
    becomes "Apotheek Demolen" (apotheek). Better than nothing, worse than real details."""
    naam = zorgaanbiedernaam.removesuffix("@medmij")
    for prefix, shown, kind in _PREFIXES:
        if naam.startswith(prefix) and len(naam) > len(prefix):
            return ProviderDetails(f"{shown} {naam[len(prefix):].capitalize()}", None, kind)
    return ProviderDetails(naam.capitalize(), None, None)
