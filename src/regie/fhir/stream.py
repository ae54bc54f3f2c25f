"""Streaming large JSON Bundles: a 100 MB searchset is read entry by entry and handed to
the importer in small Bundles of the same type, so memory stays flat whatever the size.

Only ``searchset`` and ``collection`` Bundles are split: their entries stand on their
own (a ``transaction``/``document`` must be taken whole). References between entries of
different parts resolve as between files of one source (docs/storage.md). Each part is
atomic and idempotent like a file, so an interrupted import of a big file is completed by
running it again; the whole file is not one transaction.

Numbers are kept exactly as written (FHIR decimals carry their precision: ``1.10``):
ijson gives them as ``Decimal`` and they are written back as the same text.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import ijson
import orjson

# Files from this size on are streamed (REGIE_STREAM_IMPORT_BYTES: for benchmarks and tests).
LARGE_FILE_BYTES = int(os.environ.get("REGIE_STREAM_IMPORT_BYTES", 32 * 1024 * 1024))
PART_ENTRIES = 2000
SPLITTABLE = {"searchset", "collection"}


def bundle_type(path: Path) -> str | None:
    """The type of a JSON Bundle when its top-level ``resourceType`` and ``type`` come before
    ``entry`` (as every server writes them); else None (the file is read whole)."""
    found: dict[str, str] = {}
    try:
        with path.open("rb") as handle:
            for prefix, event, value in ijson.parse(handle):
                if prefix in ("resourceType", "type") and event == "string":
                    found[prefix] = value
                elif prefix == "entry" or (event == "end_map" and prefix == ""):
                    break
    except (ijson.JSONError, OSError, UnicodeDecodeError):
        return None
    return found.get("type") if found.get("resourceType") == "Bundle" else None


def is_large_bundle(path: Path, threshold: int | None = None) -> bool:
    try:
        big = path.suffix.lower() == ".json" and path.stat().st_size >= (threshold or LARGE_FILE_BYTES)
    except OSError:
        return False
    return big and bundle_type(path) in SPLITTABLE


def bundle_parts(path: Path, entries: int = PART_ENTRIES) -> Iterator[tuple[str, bytes]]:
    """(name, JSON bytes) of Bundles with at most ``entries`` entries each, in file order."""
    kind = bundle_type(path)
    if kind not in SPLITTABLE:
        raise ValueError(f"{path.name} is not a searchset or collection Bundle")
    with path.open("rb") as handle:
        items = ijson.items(handle, "entry.item")
        number = 0
        while chunk := list(islice(items, entries)):
            number += 1
            body = {"resourceType": "Bundle", "type": kind, "entry": chunk}
            yield f"{path.name} (part {number})", orjson.dumps(body, default=_exact)


def _exact(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode())
    raise TypeError(type(value).__name__)
