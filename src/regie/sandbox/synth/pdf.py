"""A minimal PDF writer for synthetic letters (no dependency).

What it produces: a PDF 1.4 file with one or more A4 pages of text in the standard
Helvetica font (WinAnsi encoding), an Info dictionary and an XMP metadata stream that
declares PDF/A-1b identification (``pdfaid:part=1``, ``conformance=B``), a PDF/A
OutputIntent (``GTS_PDFA1``) with an sRGB ICC profile the module builds itself (ICC v2,
D50 primaries, gamma 2.2 curves), a document ID and a correct cross-reference table.
It is still **not** PDF/A-1b conformant: the standard font is not embedded (PDF/A-1
6.3.4), which needs a font file the project does not ship. It is deterministic: the
same input gives the same bytes (no clock, fixed document ID).
"""

from __future__ import annotations

import hashlib
import struct
import textwrap
from functools import cache

__all__ = ["render_pdf"]

_LINES_PER_PAGE = 50


def _esc(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def render_pdf(title: str, paragraphs: list[str], *, author: str = "Regie sandbox",
               date: str = "2000-01-01") -> bytes:
    """Render *paragraphs* (wrapped at 90 characters) under *title* as a PDF."""
    lines: list[str] = []
    for para in paragraphs:
        lines.extend(textwrap.wrap(para, 90) or [""])
        lines.append("")
    pages = [lines[i:i + _LINES_PER_PAGE] for i in range(0, max(len(lines), 1),
                                                         _LINES_PER_PAGE)] or [[]]
    objects: list[bytes] = []  # index i holds object i+1

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in later
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
               b"/Encoding /WinAnsiEncoding >>")
    page_ids = []
    for n, page_lines in enumerate(pages):
        ops = [b"BT", b"/F1 16 Tf", b"56 790 Td", b"(" + _esc(title if n == 0 else
                                                             f"{title} ({n + 1})") + b") Tj",
               b"/F1 10 Tf", b"0 -28 Td", b"13 TL"]
        for line in page_lines:
            ops.append(b"(" + _esc(line) + b") '")
        ops.append(b"ET")
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
            % (pages_obj, font, content)))
    objects[pages_obj - 1] = (b"<< /Type /Pages /Kids [" + b" ".join(
        b"%d 0 R" % p for p in page_ids) + b"] /Count %d >>" % len(page_ids))
    pdf_date = "D:" + date.replace("-", "")[:8] + "000000Z"
    xmp = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<pdfaid:part>1</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{_xml(title)}</rdf:li></rdf:Alt>'
        '</dc:title></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode("utf-8")
    meta = add(b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(xmp)
               + xmp + b"\nendstream")
    info = add(b"<< /Title (" + _esc(title) + b") /Author (" + _esc(author)
               + b") /Producer (Regie sandbox) /CreationDate (" + pdf_date.encode() + b") >>")
    icc = srgb_icc_profile()
    profile = add(b"<< /N 3 /Length %d >>\nstream\n" % len(icc) + icc + b"\nendstream")
    intent = (b"<< /Type /OutputIntent /S /GTS_PDFA1 "
              b"/OutputConditionIdentifier (sRGB IEC61966-2.1) /Info (sRGB IEC61966-2.1) "
              b"/RegistryName (http://www.color.org) /DestOutputProfile %d 0 R >>" % profile)
    objects[catalog - 1] = (b"<< /Type /Catalog /Pages %d 0 R /Metadata %d 0 R "
                            b"/OutputIntents [" % (pages_obj, meta) + intent + b"] >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    doc_id = hashlib.md5(bytes(out)).hexdigest().encode()  # noqa: S324 - an ID, not security
    out += (b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\n"
            % (len(objects) + 1, catalog, info, doc_id, doc_id))
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


@cache
def srgb_icc_profile() -> bytes:
    """A small ICC v2 display profile for sRGB: D50-adapted primaries (as in the
    standard sRGB profile), the D50 white point and a gamma 2.2 tone curve per channel
    (close to the sRGB curve). Built here so no binary profile has to be shipped."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)

    def text(kind: bytes, value: str) -> bytes:
        if kind == b"desc":
            raw = value.encode("ascii") + b"\0"
            return (b"desc" + b"\0" * 4 + struct.pack(">I", len(raw)) + raw
                    + b"\0" * 8 + b"\0" * 3 + b"\0" * 67)
        return b"text" + b"\0" * 4 + value.encode("ascii") + b"\0"

    curve = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, 0x0233) + b"\0\0"  # gamma 2.2
    tags = [
        (b"desc", text(b"desc", "sRGB IEC61966-2.1 (Regie sandbox)")),
        (b"cprt", text(b"text", "No copyright, use freely")),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"\0" * 4 + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2000, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 4
              + b"\0" * 4 + b"\0" * 4 + b"\0" * 4 + b"\0" * 8 + struct.pack(">I", 0)
              + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 4 + b"\0" * 16
              + b"\0" * 28)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
