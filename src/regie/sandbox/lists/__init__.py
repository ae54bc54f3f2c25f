"""Sandbox Stelselnode: builds, signs and serves the four MedMij lists locally.

Must never import regie.web or regie.store: the sandbox stands in for the outside
network and may only know the MedMij protocol (regie.medmij).
"""

from .app import create_lists_app
from .build import build_gnl, build_list, build_ocl, build_whitelist, build_zal
from .config import (
    REAL_GEGEVENSDIENSTEN,
    SandboxClient,
    SandboxConfig,
    SandboxProvider,
    SandboxService,
    default_config,
    make_provider,
)
from .keys import TRUST_ANCHOR_FILE, load_or_create_signing_key, trust_anchor_path
from .publisher import Faults, ListPublisher, Publication

__all__ = [
    "REAL_GEGEVENSDIENSTEN",
    "TRUST_ANCHOR_FILE",
    "Faults",
    "ListPublisher",
    "Publication",
    "SandboxClient",
    "SandboxConfig",
    "SandboxProvider",
    "SandboxService",
    "build_gnl",
    "build_list",
    "build_ocl",
    "build_whitelist",
    "build_zal",
    "create_lists_app",
    "default_config",
    "load_or_create_signing_key",
    "make_provider",
    "trust_anchor_path",
]
