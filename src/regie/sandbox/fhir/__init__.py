"""regie.sandbox.fhir: the sandbox FHIR resource servers of the MedMij stand-in.

Public API::

    create_fhir_app(config, grants) -> Starlette (ASGI)
    FhirConfig(source, offered=None, faults=FaultPlan(), access_log=AccessLog(),
               received=ReceivedStore())
    DataSource (protocol), FolderSource(root), SynthSource(seed), MultiSource(*sources)
    Fault, FaultKind, FaultPlan, AccessLog, AccessEntry, ReceivedStore, Received
    PatientData, search, SearchError
"""

from .app import DataSource, FhirConfig, create_fhir_app, operation_outcome
from .faults import Fault, FaultKind, FaultPlan
from .folder import FolderSource, resolve_placeholders
from .records import AccessEntry, AccessLog, Received, ReceivedStore
from .search import PatientData, SearchError, search
from .sources import MultiSource, SynthSource

__all__ = [
    "AccessEntry", "AccessLog", "DataSource", "Fault", "FaultKind", "FaultPlan",
    "FhirConfig", "FolderSource", "MultiSource", "PatientData", "Received",
    "ReceivedStore", "SearchError", "SynthSource", "create_fhir_app", "operation_outcome",
    "resolve_placeholders", "search",
]
