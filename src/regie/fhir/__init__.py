"""regie.fhir: read FHIR STU3/R4 (JSON or XML, resources or Bundles) into record items.

Public API::

    read_bytes(data, *, name, fhir_version=None) -> ParsedDocument
    read_path(path, *, fhir_version=None) -> ParsedDocument
    FhirReadError, FhirVersion, ParsedDocument, ParsedResource, ContainedResource
"""

from .document import ContainedResource, ParsedDocument, ParsedResource
from .errors import FhirReadError
from .reader import DEFAULT_MAX_BYTES, read_bytes, read_path
from .version import FhirVersion

__all__ = [
    "DEFAULT_MAX_BYTES", "ContainedResource", "FhirReadError", "FhirVersion",
    "ParsedDocument", "ParsedResource", "read_bytes", "read_path",
]
