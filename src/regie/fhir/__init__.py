"""regie.fhir: read FHIR STU3/R4 (JSON or XML, resources or Bundles) into record items.

Public API::

    read_bytes(data, *, name, fhir_version=None) -> ParsedDocument
    read_path(path, *, fhir_version=None) -> ParsedDocument
    FhirReadError, FhirVersion, ParsedDocument, ParsedResource, ContainedResource
    parse_fhir_version(value) -> FhirVersion | None   # "R4", "stu3", "4.0.1", FhirVersion
    UnknownFhirVersion (a ValueError)
"""

from .document import ContainedResource, ParsedDocument, ParsedResource
from .errors import FhirReadError
from .reader import DEFAULT_MAX_BYTES, read_bytes, read_path
from .version import FhirVersion, UnknownFhirVersion, parse_fhir_version

__all__ = [
    "DEFAULT_MAX_BYTES", "ContainedResource", "FhirReadError", "FhirVersion",
    "ParsedDocument", "ParsedResource", "UnknownFhirVersion", "parse_fhir_version", "read_bytes",
    "read_path",
]
