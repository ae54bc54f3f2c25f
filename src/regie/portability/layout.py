"""The archive's layout, format version and the limits its importer holds to (docs/portability.md)."""
from __future__ import annotations

import re

FORMAT = "regie-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
INDEX = "index.html"
PORTABILITY = "portability.json"
SOURCES = "sources.json"

# One folder per part; in each, resources.ndjson holds one original FHIR resource per line
# (FHIR bulk-data style) and provenance.ndjson, line for line, where it came from.
RECORDS = "records"  # everything collected or uploaded
OWN_DATA = "own-data"  # the patient's own measurements, diary and targets (source "self")
PARTS = (RECORDS, OWN_DATA)
RESOURCES = "resources.ndjson"
PROVENANCE = "provenance.ndjson"
HISTORY = "history.ndjson"  # previous versions, oldest first
HISTORY_PROVENANCE = "history-provenance.ndjson"
NOTES = f"{OWN_DATA}/notes.ndjson"  # FHIR R4 Basic resources, one per note
EXTRAS = "account"  # account/<name>.json: sections other packages register (regie.portability.extras)

SELF_SOURCE = "self"

# What the importer accepts (an archive Regie made stays far below these).
MAX_MEMBERS = 64
MAX_TOTAL_BYTES = 4 * 1024**3  # uncompressed, all members together
MAX_MEMBER_BYTES = 2 * 1024**3
MAX_RATIO = 200  # uncompressed / compressed of one member above 1 MiB: a zip bomb
MAX_LINE_BYTES = 64 * 1024 * 1024  # one resource (the FHIR reader's own limit)

_DATA_FILES = (RESOURCES, PROVENANCE, HISTORY, HISTORY_PROVENANCE)
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def allowed(name: str) -> bool:
    """True for the member names an archive of this format may hold; nothing else is read."""
    if name in (MANIFEST, INDEX, PORTABILITY, SOURCES, NOTES):
        return True
    folder, _, file = name.partition("/")
    if folder in PARTS and file in _DATA_FILES:
        return True
    if folder == EXTRAS and file.endswith(".json") and "/" not in file:
        return bool(_NAME.fullmatch(file[:-5]))
    return False


NOTE_CODE_SYSTEM = "urn:regie:own-data"
NOTE_CODE = "note"
NOTE_TEXT_EXTENSION = "urn:regie:own-data:note-text"
NOTE_SOURCE_EXTENSION = "urn:regie:own-data:note-source"
NOTE_KEY_EXTENSION = "urn:regie:own-data:note-resource-key"
