"""regie.record: the health record domain (pure Python; no I/O, no FHIR, no storage).

Items are produced by :mod:`regie.fhir` and stored/displayed by the rest of Regie.
"""

from .categories import CATEGORY_TITLES_NL, Category
from .dates import FhirDate
from .linking import apply_attention_flags, resolve_medication
from .matching import match_key, preferred_coding
from .model import (
    LINK_RELATIONS,
    Coding,
    Component,
    Detail,
    Link,
    Quantity,
    RecordItem,
    ReferenceRange,
    Value,
)
from .serialise import item_from_dict, item_to_dict

__all__ = [
    "CATEGORY_TITLES_NL", "Category", "Coding", "Component", "Detail", "FhirDate",
    "LINK_RELATIONS", "Link", "Quantity", "RecordItem", "ReferenceRange", "Value",
    "apply_attention_flags", "resolve_medication",
    "item_from_dict", "item_to_dict", "match_key", "preferred_coding",
]
