"""Finding the texts to translate (used by a script and by the tests, not at run time)."""
from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

PACKAGE = Path(__file__).resolve().parents[1]  # src/regie
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extract_catalog() -> Catalog:
    catalog = Catalog(locale="nl", project="Regie")
    for filename, lineno, message, comments, context in extract_from_dir(
        PACKAGE,
        METHODS,
        keywords=KEYWORDS,
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}},
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def merge_into_po(template: Catalog, po_path: Path) -> list[str]:
    """Add new ids to the .po, drop ones no longer used; return the untranslated ids."""
    if po_path.exists():
        with po_path.open("rb") as handle:
            existing = read_po(handle, locale="nl")
    else:
        existing = Catalog(locale="nl", project="Regie")
    existing.update(template, no_fuzzy_matching=True)
    existing.obsolete.clear()
    po_path.parent.mkdir(parents=True, exist_ok=True)
    with po_path.open("wb") as handle:
        write_po(handle, existing, width=0, omit_header=False, sort_output=True, include_lineno=False)
    return untranslated(existing)


def untranslated(catalog: Catalog) -> list[str]:
    missing = []
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not message.string or not all(message.string):
                missing.append(message.id[0])
        elif not message.string:
            missing.append(message.id)
    return missing
