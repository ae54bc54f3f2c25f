"""The PDF summary from the Nictiz fixtures: rendered on the server, its text read back."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from regie.portability.pdf import SECTIONS
from regie.web.i18n import translations
from tests.fhir.fixtures import SKIP_REASON, available
from tests.portability.record_fixture import filled_record

pytestmark = pytest.mark.skipif(not available(), reason=SKIP_REASON)


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    filled = filled_record(tmp_path_factory.mktemp("pdf"))
    yield filled
    filled.db.dispose()


def _text(record, **options) -> tuple[str, PdfReader]:
    made = record.portability.export(record.user, "pdf", channel="cli", **options)
    data = b"".join(made.chunks)
    assert data.startswith(b"%PDF") and made.media_type == "application/pdf"
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), reader


def test_pdf_with_chosen_sections_and_charts(record) -> None:
    text, reader = _text(record, sections=["allergies", "medication", "vital_signs", "results"])
    assert "Samenvatting voor uw arts" in text
    assert "Naam: " in text and "XXX_" in text and "Geboortedatum: 19" in text  # the fixtures' Patient
    dutch = translations("nl").gettext
    for key in ("allergies", "medication", "vital_signs", "results"):
        assert dutch(SECTIONS[key]) in text
    assert dutch(SECTIONS["problems"]) not in text  # not chosen
    assert "Bijengif" in text
    # A line chart per measured kind with two or more values: its title is drawn with the unit.
    assert "Lichaamsgewicht (kg)" in text and "Hartfrequentie (/min)" in text
    assert reader.metadata.title == "Samenvatting voor uw arts"


def test_pdf_in_english_and_an_empty_section(record) -> None:
    text, _ = _text(record, sections=["procedures", "diary"], language="en")
    assert "Summary for your doctor" in text and "Symptom diary" in text and "Nothing recorded." in text
