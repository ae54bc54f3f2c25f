"""Sandbox authorization servers (one per provider), DigiD simulator, consent and
access-log pages, and their fault switches.

Must never import regie.web or regie.store.
"""

from .faults import FaultBoard, ProviderFaults
from .scope import ScopeError, parse_scope
from .server import DIGID_COOKIE, AuthorizationServers
from .state import LogEntry, OAuthState

__all__ = [
    "DIGID_COOKIE",
    "AuthorizationServers",
    "FaultBoard",
    "LogEntry",
    "OAuthState",
    "ProviderFaults",
    "ScopeError",
    "parse_scope",
]
