"""Pure cross-item enrichment, usable within one file (the reader) or across files (store).

* :func:`apply_attention_flags`: a GP attention flag ("attentievlag") is sent as a Flag
  (zib-Alert) whose ``flag-detail`` extension points at the EpisodeOfCare; the episode
  item gets ``attention=True`` when an active Flag points at it.
* :func:`resolve_medication`: medication events that name their product only by
  reference get the codes (and title, if they had none) of the Medication item.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from .model import RecordItem


def _key(item: RecordItem) -> str | None:
    return f"{item.resource_type}/{item.resource_id}" if item.resource_id else None


def _target(reference: str | None) -> str | None:
    """``Type/id`` from a relative or absolute reference (history suffix dropped)."""
    if not reference or reference.startswith(("#", "urn:")):
        return None
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else None


def apply_attention_flags(items: Iterable[RecordItem]) -> list[RecordItem]:
    """Items with ``attention`` set on episodes that an active Flag points at."""
    items = list(items)
    flagged = {
        t for it in items
        if it.resource_type == "Flag" and it.status in (None, "active")
        for link in it.links if link.relation == "detail" and (t := _target(link.reference))
    }
    return [replace(it, attention=True) if it.resource_type == "EpisodeOfCare"
            and _key(it) in flagged else it for it in items]


def resolve_medication(items: Iterable[RecordItem]) -> list[RecordItem]:
    """Copy Medication codes/title onto events that reference the product."""
    items = list(items)
    products = {_key(it): it for it in items if it.resource_type == "Medication" and it.codes}
    out = []
    for it in items:
        link = it.link("medication")
        product = products.get(_target(link.reference)) if link and not it.codes else None
        if product is not None:
            title = it.title if (link and link.display) else product.title
            it = replace(it, codes=product.codes, title=title)
        out.append(it)
    return out
