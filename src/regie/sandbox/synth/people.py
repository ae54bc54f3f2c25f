"""Synthetic Dutch people: names, addresses, valid BSNs (elfproef), GP practices."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

__all__ = ["Person", "is_valid_bsn", "make_bsn", "person", "person_for_bsn", "persons"]

_GIVEN_F = ("Anna", "Emma", "Sophie", "Julia", "Lotte", "Sanne", "Fleur", "Noor", "Eva",
            "Lisa", "Fatima", "Yasmina", "Ingrid", "Petra", "Marleen", "Johanna", "Wilma",
            "Astrid", "Hanneke", "Mirjam", "Esther", "Annelies", "Saskia", "Femke")
_GIVEN_M = ("Daan", "Sem", "Lucas", "Levi", "Milan", "Thomas", "Bram", "Jan", "Pieter",
            "Kees", "Henk", "Gerrit", "Mohammed", "Youssef", "Ruud", "Wouter", "Sander",
            "Joost", "Maarten", "Bas", "Arjen", "Erik", "Hans", "Tim")
_PREFIXES = ("", "", "", "", "van", "de", "van der", "van den", "ter", "ten", "in 't")
_FAMILY = ("Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters",
           "Hendriks", "Dekker", "Brouwer", "Dijkstra", "Kok", "Jacobs", "Vermeulen",
           "Willems", "Schouten", "Hoekstra", "Koster", "Prins", "Huisman", "Kuipers",
           "Veenstra", "Postma", "Wouters", "Berg", "Linden", "Heuvel", "Wal", "Bosch")
_STREETS = ("Dorpsstraat", "Kerkstraat", "Molenweg", "Schoolstraat", "Stationsweg",
            "Julianastraat", "Beatrixlaan", "Lindelaan", "Eikenlaan", "Nieuwstraat",
            "Marktplein", "Havenkade", "Wilhelminastraat", "Parallelweg", "Zuiderpark")
# (city, postcode prefix)
_CITIES = (("Amsterdam", 10), ("Rotterdam", 30), ("Den Haag", 25), ("Utrecht", 35),
           ("Eindhoven", 56), ("Groningen", 97), ("Tilburg", 50), ("Almere", 13),
           ("Breda", 48), ("Nijmegen", 65), ("Zwolle", 80), ("Leeuwarden", 89),
           ("Maastricht", 62), ("Middelburg", 43), ("Assen", 94), ("Deventer", 74))
_PRACTICE = ("Huisartsenpraktijk De Linde", "Gezondheidscentrum Noord", "Huisartsen aan de "
             "Gracht", "Praktijk De Brug", "Huisartsengroep Oost", "Medisch Centrum Het Park")


def is_valid_bsn(bsn: str) -> bool:
    """Nine digits passing the elfproef (9*d1 + 8*d2 + ... + 2*d8 - 1*d9 ≡ 0 mod 11)."""
    if len(bsn) != 9 or not bsn.isdigit() or bsn == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(bsn[:8], range(9, 1, -1), strict=True))
    total -= int(bsn[8])
    return total % 11 == 0


def make_bsn(rng: random.Random) -> str:
    """A random BSN that passes the elfproef (first digit 1-6, like issued ranges)."""
    while True:
        digits = [rng.randint(1, 6)] + [rng.randint(0, 9) for _ in range(7)]
        total = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True))
        last = total % 11
        if last <= 9:
            bsn = "".join(map(str, digits)) + str(last)
            if is_valid_bsn(bsn):
                return bsn


@dataclass(frozen=True, slots=True)
class Person:
    seed: int
    bsn: str
    gender: str  # "female" | "male"
    given: str
    prefix: str  # voorvoegsel, may be ""
    family: str
    birth_date: date
    street: str
    house_number: int
    postcode: str
    city: str
    phone: str
    gp_name: str  # the GP's display name
    gp_agb: str  # 8-digit AGB code (synthetic)
    practice: str
    practice_agb: str
    size: str = "normal"  # "small" | "normal" | "large"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given, self.prefix, self.family) if p)

    @property
    def key(self) -> str:
        return f"{self.seed}:{self.bsn}"


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))  # str seeds hash via SHA-512


def person_for_bsn(seed: int, bsn: str, *, size: str = "normal") -> Person:
    """The synthetic person with this BSN (deterministic from seed and BSN)."""
    rng = _rng("person", seed, bsn)
    gender = rng.choice(("female", "male"))
    given = rng.choice(_GIVEN_F if gender == "female" else _GIVEN_M)
    year = rng.randint(1935, 2010)
    birth = date(year, rng.randint(1, 12), rng.randint(1, 28))
    city, pc = rng.choice(_CITIES)
    gp_gender = rng.choice(("female", "male"))
    gp_given = rng.choice(_GIVEN_F if gp_gender == "female" else _GIVEN_M)
    gp_family = rng.choice(_FAMILY)
    return Person(
        seed=seed, bsn=bsn, gender=gender, given=given, prefix=rng.choice(_PREFIXES),
        family=rng.choice(_FAMILY), birth_date=birth, street=rng.choice(_STREETS),
        house_number=rng.randint(1, 250),
        postcode=f"{pc}{rng.randint(0, 99):02d} {rng.choice('ABCDEGHJKLMNPRSTVWXZ')}"
                 f"{rng.choice('ABCDEGHJKLMNPRSTVWXZ')}",
        city=city, phone=f"06{rng.randint(10000000, 99999999)}",
        gp_name=f"{gp_given[0]}. {gp_family}", gp_agb=f"01{rng.randint(0, 999999):06d}",
        practice=f"{rng.choice(_PRACTICE)} {city}", practice_agb=f"01{rng.randint(0, 99999):06d}",
        size=size,
    )


def person(seed: int, index: int, *, size: str = "normal") -> Person:
    """The *index*-th synthetic person of *seed*."""
    return person_for_bsn(seed, make_bsn(_rng("bsn", seed, index)), size=size)


def persons(seed: int, count: int, *, size: str = "normal") -> list[Person]:
    return [person(seed, i, size=size) for i in range(count)]
