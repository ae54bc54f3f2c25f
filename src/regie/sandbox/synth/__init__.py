"""regie.sandbox.synth: synthetic Dutch patients as FHIR, deterministic from a seed.

Public API::

    person(seed, index, size="normal") -> Person      # the index-th person of a seed
    persons(seed, count) -> list[Person]
    person_for_bsn(seed, bsn, size="normal") -> Person  # any valid BSN is a person
    resources_for(person, service_id, provider=..., today=...) -> list[dict] | None
    is_valid_bsn(bsn), make_bsn(rng)
    render_pdf(title, paragraphs) -> bytes
    COVERED_SERVICES

Generation is lazy (per person and service, on request) and deterministic: the same
seed, BSN, provider and *today* give the same resources, byte for byte. ``size``
("small", "normal", "large") scales the history: "large" gives tens of thousands of
resources for GP data.
"""

from .fhir import COVERED_SERVICES, resources_for
from .pdf import render_pdf
from .people import Person, is_valid_bsn, make_bsn, person, person_for_bsn, persons

__all__ = [
    "COVERED_SERVICES", "Person", "is_valid_bsn", "make_bsn", "person", "person_for_bsn",
    "persons", "render_pdf", "resources_for",
]
