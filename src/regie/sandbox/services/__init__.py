"""The MedMij service catalogue (see :mod:`.catalogue`)."""

from .catalogue import SERVICES, Query, Service, by_standard, resolve_dates, service

__all__ = ["SERVICES", "Query", "Service", "by_standard", "resolve_dates", "service"]
