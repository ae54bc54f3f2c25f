"""The one exception type of regie.fhir."""

from __future__ import annotations


class FhirReadError(ValueError):
    """A FHIR file could not be read; the whole file is rejected.

    Attributes say where: ``name`` (file name as given by the caller), ``resource_type``
    and ``resource_id`` of the offending resource when known, ``location`` (``line 12``
    for XML, a JSON path such as ``$.entry[3].resource.status`` for JSON) and ``reason``,
    a sentence a user or developer can act on.
    """

    def __init__(
        self,
        reason: str,
        *,
        name: str,
        resource_type: str | None = None,
        resource_id: str | None = None,
        location: str | None = None,
    ) -> None:
        self.reason = reason
        self.name = name
        self.resource_type = resource_type
        self.resource_id = resource_id
        self.location = location
        super().__init__(self._message())

    def _message(self) -> str:
        where = [self.name]
        if self.resource_type:
            where.append(f"{self.resource_type}/{self.resource_id or '?'}")
        if self.location:
            where.append(self.location)
        return f"{': '.join(where)}: {self.reason}"
