"""Fixtures for the MedMij list tests.

The reference XSDs and examples are read in place from the shared reference folder
beside the repository; they are never copied into the project.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import xmlschema

from regie.medmij.lists import ListKind

REFERENCE_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "medmij"


def reference_available() -> bool:
    return all((REFERENCE_DIR / k.schema_file).is_file() for k in ListKind)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not reference_available():
        pytest.skip(f"MedMij reference XSDs/examples not found in {REFERENCE_DIR}")
    return REFERENCE_DIR


@pytest.fixture(scope="session")
def reference_schemas(reference_dir: Path) -> dict[ListKind, xmlschema.XMLSchema10]:
    return {
        k: xmlschema.XMLSchema10(str(reference_dir / k.schema_file), allow="local")
        for k in ListKind
    }


def example_bytes(reference_dir: Path, kind: ListKind) -> bytes:
    return (reference_dir / kind.filename.replace(".xml", "_example.xml")).read_bytes()
