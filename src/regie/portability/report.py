"""The portability report: which services were collected from which providers.

Built from the collections and lasting consents (``regie.collect``: provider names,
service ids, states, times), so another PGO can ask the same providers for the same
services again. Part of the archive (``portability.json``)
and shown on ``/export/portability``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from regie.medmij.services import service as catalogue_service


@dataclass
class ServiceLine:
    id: str  # GegevensdienstId
    name: str
    fhir_version: str | None
    standard: str | None
    collections: int = 0  # times asked
    succeeded: int = 0  # collections that finished ("done")
    last_collected_at: datetime | None = None  # last finished collection


@dataclass
class ProviderLine:
    provider: str  # Zorgaanbiedernaam (xxx@medmij)
    services: list[ServiceLine] = field(default_factory=list)
    first_at: datetime | None = None
    last_at: datetime | None = None
    lasting_permission: bool = False  # a long-lived consent is held
    schedule_days: int | None = None


def portability_report(collections: list[dict[str, Any]], consents: list[dict[str, Any]]) -> list[ProviderLine]:
    """Per provider (alphabetical), the services asked for, how often and when last collected.

    ``collections`` and ``consents`` as :class:`regie.collect.service.Collections` gives them
    (``history`` and ``consents``: provider and services decrypted there)."""
    providers: dict[str, ProviderLine] = {}
    services: dict[tuple[str, str], ServiceLine] = {}
    for row in sorted(collections, key=lambda r: (r["created_at"], r["id"])):
        created = _when(row["created_at"])
        line = providers.setdefault(row["provider"], ProviderLine(row["provider"]))
        line.first_at = line.first_at or created
        line.last_at = created
        for service_id in [str(s) for s in row.get("services") or []]:
            key = (row["provider"], service_id)
            if key not in services:
                services[key] = _service_line(service_id)
                line.services.append(services[key])
            entry = services[key]
            entry.collections += 1
            if row["state"] == "done":
                entry.succeeded += 1
                finished = _when(row.get("finished_at")) or created
                if entry.last_collected_at is None or finished > entry.last_collected_at:
                    entry.last_collected_at = finished
    for consent in consents:
        line = providers.setdefault(consent["provider"], ProviderLine(consent["provider"]))
        line.lasting_permission = True
        line.schedule_days = consent.get("schedule_days")
    for line in providers.values():
        line.services.sort(key=lambda s: s.id)
    return [providers[name] for name in sorted(providers) if name]


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _service_line(service_id: str) -> ServiceLine:
    try:
        entry = catalogue_service(service_id)
    except KeyError:
        return ServiceLine(service_id, service_id, None, None)
    return ServiceLine(service_id, entry.name, entry.fhir_version, entry.standard)


def as_json(lines: list[ProviderLine]) -> dict[str, Any]:
    """The report as written into the archive (``portability.json``)."""
    return {
        "about": "Services collected over MedMij per care provider. A new PGO can ask each provider "
                 "for the same services (GegevensdienstId) again.",
        "providers": [asdict(line) for line in lines],
    }
