"""Dutch first: every text on every page and message has a Dutch translation."""
from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from regie.web.i18n_catalog import extract_catalog, untranslated
from regie.web.messages import MESSAGES

PO = Path(__file__).resolve().parents[2] / "src/regie/web/locales/nl/LC_MESSAGES/messages.po"


def test_every_text_has_a_dutch_translation() -> None:
    with PO.open("rb") as handle:
        dutch = read_po(handle, locale="nl")
    extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in extract_catalog() if m.id}
    translated_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in dutch if m.id and m.string}
    missing = sorted(extracted - translated_ids)
    assert not missing, f"run `make translations` and translate: {missing}"
    assert not untranslated(dutch)


def test_every_message_code_is_extractable() -> None:
    extracted = {m.id for m in extract_catalog() if isinstance(m.id, str)}
    assert set(MESSAGES.values()) <= extracted


def test_make_translations_drops_no_text_in_use() -> None:
    """Every Dutch entry is found by the extraction, so `make translations` (which drops
    what it does not find) never loses a translation that a page still asks for. A text
    given to a translation function by another way than ``_()``/``N_()`` is marked ``N_()``."""
    with PO.open("rb") as handle:
        dutch = read_po(handle, locale="nl")
    extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in extract_catalog() if m.id}
    in_catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in dutch if m.id}
    assert sorted(in_catalog - extracted) == []
