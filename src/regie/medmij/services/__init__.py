"""The MedMij service catalogue (see :mod:`.catalogue`): per Gegevensdienst its id, name,
FHIR version and the requests a PGO sends. Used by Regie's collector and by the sandbox."""

from .catalogue import SERVICES, Query, Service, by_standard, resolve_dates, service

__all__ = ["SERVICES", "Query", "Service", "by_standard", "resolve_dates", "service"]
