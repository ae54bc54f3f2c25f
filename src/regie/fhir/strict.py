"""Optional full validation with fhir.resources (slow; used in tests and for audits).

R4 data is validated with fhir.resources' R4B models (there is no R4 4.0.1 package).
Importing fhir.resources is deferred to first use because it is heavy.
"""

from __future__ import annotations

from typing import Any

from .document import ParsedDocument
from .errors import FhirReadError
from .version import FhirVersion


def _model_class(version: FhirVersion, resource_type: str) -> Any:
    if version is FhirVersion.STU3:
        from fhir.resources.STU3 import get_fhir_model_class
    else:
        from fhir.resources.R4B import get_fhir_model_class
    return get_fhir_model_class(resource_type)


def strict_validate(doc: ParsedDocument) -> None:
    """Validate every resource of ``doc`` with fhir.resources; raise FhirReadError."""
    for res in doc.resources:
        try:
            _model_class(doc.fhir_version, res.resource_type).model_validate_json(res.json)
        except Exception as exc:  # noqa: BLE001 - pydantic and lookup errors alike
            first = str(exc).splitlines()
            reason = "; ".join(first[:3]) if first else type(exc).__name__
            raise FhirReadError(f"strict validation failed: {reason}", name=doc.name,
                                resource_type=res.resource_type, resource_id=res.id,
                                location=res.location) from None
