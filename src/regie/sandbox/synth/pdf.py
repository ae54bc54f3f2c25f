"""PDF/A-1b letters for the synthetic patients (fpdf2, with an embedded TrueType font).

What it produces: a PDF 1.4 file with one or more A4 pages of text, conforming to
PDF/A-1b (ISO 19005-1, level B) as far as structure goes:

- the only font is Bitstream Vera Sans, a freely licensed TrueType font that the
  ``reportlab`` package ships (``reportlab/fonts/Vera.ttf``, licence beside it). It is
  embedded as a subset (``FontFile2``) with a ``CIDSet`` and a ``ToUnicode`` map, so the
  text can be copied and searched. No font file is kept in this project;
- an XMP metadata stream with the PDF/A identification (``pdfaid:part=1``,
  ``pdfaid:conformance=B``), the title, author, producer and dates;
- a PDF/A OutputIntent (``GTS_PDFA1``) with the sRGB2014 ICC v2 profile that fpdf2
  ships (from the International Color Consortium, free to embed);
- no encryption, no JavaScript, no transparency, no external content.

It is deterministic: the same arguments give the same bytes. The creation date (and so
the XMP dates and the document ID) comes from *date*, which the generator derives from
its seed; no clock is read.

Characters outside Latin-1, Latin Extended-A and common punctuation are written as
``?`` (the font is trimmed to those once per process, see ``_font_file``).
"""

from __future__ import annotations

import logging
from datetime import date as Date
from datetime import datetime, timezone
from functools import cache
from importlib.resources import files
from typing import Any
from xml.sax.saxutils import escape

__all__ = ["PDFA_PART", "PDFA_CONFORMANCE", "font_path", "render_pdf"]

PDFA_PART = 1
PDFA_CONFORMANCE = "B"

_MARGIN = 20.0  # mm
_TITLE_SIZE = 15
_BODY_SIZE = 10
_LINE = 5.0  # mm, body line height
_PRODUCER = "Regie sandbox"

# fpdf2 logs every subset it makes at INFO; the letters are made by the thousand.
logging.getLogger("fpdf").setLevel(logging.WARNING)
logging.getLogger("fontTools").setLevel(logging.WARNING)


def font_path() -> Any:
    """The TrueType file of Bitstream Vera Sans, as shipped by reportlab."""
    return files("reportlab") / "fonts" / "Vera.ttf"


# Latin-1, Latin Extended-A and the punctuation letters use: the glyphs the sandbox can
# write. Trimming the font to these once per process (and dropping kerning and hinting
# tables fpdf2 does not use) makes each letter about three times faster to write,
# because fpdf2 subsets the whole font again for every document.
_UNICODES = (list(range(0x20, 0x7F)) + list(range(0xA0, 0x180))
             + [0x2013, 0x2014, 0x2018, 0x2019, 0x201A, 0x201C, 0x201D, 0x201E, 0x2022,
                0x2026, 0x20AC, 0x2122])


@cache
def _font_file() -> str:
    """Path of the trimmed font, written once per process to a private temp folder."""
    import atexit
    import shutil
    import tempfile

    from fontTools import subset  # fpdf2 depends on fontTools
    from fontTools.ttLib import TTFont

    font = TTFont(str(font_path()))
    options = subset.Options(notdef_outline=True, recommended_glyphs=True,
                             layout_features=[], name_IDs=["*"], name_languages=["*"])
    options.drop_tables += ["kern", "GPOS", "GSUB", "GDEF", "hdmx", "FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=_UNICODES)
    subsetter.subset(font)
    folder = tempfile.mkdtemp(prefix="regie-sandbox-font-")
    atexit.register(shutil.rmtree, folder, True)
    path = f"{folder}/Vera.ttf"
    font.save(path)
    return path


@cache
def _charset() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(_font_file(), lazy=True).getBestCmap())


def _clean(text: str) -> str:
    chars = _charset()
    return "".join(c if ord(c) in chars or c in "\n" else "?" for c in text)


def _xmp(title: str, author: str, stamp: str) -> str:
    t, a = escape(title), escape(author)
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
        f"<pdfaid:part>{PDFA_PART}</pdfaid:part>"
        f"<pdfaid:conformance>{PDFA_CONFORMANCE}</pdfaid:conformance>"
        "</rdf:Description>"
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:format>application/pdf</dc:format>"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{t}</rdf:li></rdf:Alt></dc:title>'
        f"<dc:creator><rdf:Seq><rdf:li>{a}</rdf:li></rdf:Seq></dc:creator>"
        "</rdf:Description>"
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        f"<xmp:CreatorTool>{_PRODUCER}</xmp:CreatorTool>"
        f"<xmp:CreateDate>{stamp}</xmp:CreateDate>"
        f"<xmp:ModifyDate>{stamp}</xmp:ModifyDate>"
        f"<xmp:MetadataDate>{stamp}</xmp:MetadataDate>"
        "</rdf:Description>"
        '<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        f"<pdf:Producer>{_PRODUCER}</pdf:Producer>"
        "</rdf:Description>"
        "</rdf:RDF></x:xmpmeta>"
    )


def _wrap(pdf: Any, text: str, width: float) -> list[str]:
    """Greedy word wrap by measured width (fpdf2's multi_cell is slow on long text)."""
    lines: list[str] = []
    for raw in text.split("\n"):
        line = ""
        for word in raw.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and pdf.get_string_width(candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def render_pdf(title: str, paragraphs: list[str], *, author: str = "Regie sandbox",
               date: str = "2000-01-01") -> bytes:
    """Render *paragraphs* under *title* as a PDF/A-1b letter dated *date* (ISO)."""
    from fpdf import FPDF

    created = datetime.combine(Date.fromisoformat(date[:10]), datetime.min.time(),
                               tzinfo=timezone.utc).replace(hour=12)
    title, author = _clean(title), _clean(author)
    pdf = FPDF(format="A4", unit="mm", enforce_compliance=f"PDF/A-{PDFA_PART}{PDFA_CONFORMANCE}")
    pdf.set_creation_date(created)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator(_PRODUCER)
    pdf.set_producer(_PRODUCER)
    pdf.set_lang("nl-NL")
    pdf.set_xmp_metadata(_xmp(title, author, created.isoformat(timespec="seconds")))
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(True, margin=_MARGIN)
    pdf.add_font("Vera", "", fname=_font_file())
    width = pdf.w - 2 * _MARGIN
    pdf.add_page()
    pdf.set_font("Vera", size=_TITLE_SIZE)
    for line in _wrap(pdf, title, width):
        pdf.cell(width, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Vera", size=_BODY_SIZE)
    for para in paragraphs:
        for line in _wrap(pdf, _clean(para), width):
            pdf.cell(width, _LINE, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(_LINE)
    return bytes(pdf.output())
