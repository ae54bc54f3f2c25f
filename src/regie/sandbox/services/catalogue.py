"""Moved to :mod:`regie.medmij.services.catalogue`; kept so old imports keep working."""

from regie.medmij.services.catalogue import *  # noqa: F403
from regie.medmij.services.catalogue import SERVICES, Query, Service, by_standard, resolve_dates, service

__all__ = ["SERVICES", "Query", "Service", "by_standard", "resolve_dates", "service"]
