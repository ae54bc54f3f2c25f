"""MedMij scope syntax: ``<zorgaanbiedernaam without @medmij>~<GegevensdienstId>``.

- Verzamelen (collect): one or more combinations, separated by single spaces, all for
  the same provider: ``umcx~42 umcx~48``.
- Delen (send): exactly one combination.
- Abonneren (``subscribe~<days>/<combination>``) is not supported by the sandbox and is
  refused as ``invalid_scope``.
"""

from __future__ import annotations

import re

__all__ = ["ScopeError", "parse_scope"]

_COMBINATION = re.compile(r"(?P<naam>[a-z]+)~(?P<sid>[^\s~/]{1,30})")


class ScopeError(ValueError):
    """The scope breaks the MedMij syntax, or asks for something the provider won't give."""


def parse_scope(scope: str, provider: str) -> tuple[str, ...]:
    """The requested GegevensdienstIds, in request order; raises :class:`ScopeError`."""
    if not scope:
        raise ScopeError("scope ontbreekt")
    if scope.startswith("subscribe~"):
        raise ScopeError("abonneren (subscribe~) wordt door de sandbox niet ondersteund")
    parts = scope.split(" ")
    service_ids: list[str] = []
    for part in parts:
        match = _COMBINATION.fullmatch(part)
        if match is None:
            raise ScopeError(
                f"scope-deel {part!r} is niet van de vorm <zorgaanbieder>~<gegevensdienstId>"
                " (gescheiden door een enkele spatie)"
            )
        if match["naam"] != provider:
            raise ScopeError(f"scope-deel {part!r} is voor een andere zorgaanbieder")
        if match["sid"] in service_ids:
            raise ScopeError(f"gegevensdienst {match['sid']} staat dubbel in de scope")
        service_ids.append(match["sid"])
    return tuple(service_ids)
