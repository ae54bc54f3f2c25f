"""Extract every translatable text and merge it into the Dutch catalogue.

Usage: .venv/bin/python scripts/update_translations.py
New texts appear untranslated in src/regie/web/locales/nl/LC_MESSAGES/messages.po;
the test suite fails until each has a Dutch translation.
"""
from pathlib import Path

from regie.web.i18n_catalog import extract_catalog, merge_into_po

ROOT = Path(__file__).resolve().parents[1]
po_path = ROOT / "src/regie/web/locales/nl/LC_MESSAGES/messages.po"
missing = merge_into_po(extract_catalog(), po_path)
print(f"{po_path.relative_to(ROOT)}: {len(missing)} untranslated")
for message_id in missing:
    print("  -", message_id)
