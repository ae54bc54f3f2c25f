"""May a freshly downloaded list replace the one we hold?

The Stelselnode raises ``Volgnummer`` by one on every publication. A lower number
means an old (possibly replayed, validly signed) list: refuse it. An equal number is
the same publication: keep what we have.
"""

from __future__ import annotations

from enum import Enum

from .errors import ListVersionError, Problem
from .models import ListHeader, MedMijList


class Replacement(Enum):
    INSTALL = "install"  # nothing held yet
    REPLACE = "replace"  # newer publication
    UNCHANGED = "unchanged"  # same Volgnummer: keep the held list


def _header(item: ListHeader | MedMijList) -> ListHeader:
    return item if isinstance(item, ListHeader) else item.header


def decide_replacement(
    held: ListHeader | MedMijList | None,
    new: ListHeader | MedMijList,
    *,
    list_name: str = "list",
) -> Replacement:
    """Decide what to do with *new*; raise ListVersionError on a lower Volgnummer."""
    new_header = _header(new)
    if held is None:
        return Replacement.INSTALL
    held_header = _header(held)
    if new_header.volgnummer > held_header.volgnummer:
        return Replacement.REPLACE
    if new_header.volgnummer == held_header.volgnummer:
        return Replacement.UNCHANGED
    raise ListVersionError(
        list_name,
        [Problem(
            f"Volgnummer {new_header.volgnummer} is lower than the held "
            f"{held_header.volgnummer}; refusing a possible rollback",
            path=f"/{list_name}/Volgnummer",
        )],
    )
