"""The MedMij reference fixtures (XSDs and examples read in place), shared with tests/medmij/lists."""

from tests.medmij.lists.conftest import (  # noqa: F401  (pytest finds fixtures by name here)
    REFERENCE_DIR,
    example_bytes,
    reference_available,
    reference_dir,
    reference_schemas,
)
