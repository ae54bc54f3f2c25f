"""The service catalogue moved to :mod:`regie.medmij.services`; this re-export keeps the
old import path working for the sandbox and its tests."""

from regie.medmij.services import SERVICES, Query, Service, by_standard, resolve_dates, service

__all__ = ["SERVICES", "Query", "Service", "by_standard", "resolve_dates", "service"]
