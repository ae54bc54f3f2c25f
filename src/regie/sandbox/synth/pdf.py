"""A minimal PDF writer for synthetic letters (no dependency).

What it produces: a PDF 1.4 file with one or more A4 pages of text in the standard
Helvetica font (WinAnsi encoding), an Info dictionary and an XMP metadata stream that
declares PDF/A-1b identification (``pdfaid:part=1``, ``conformance=B``), an sRGB-less
document ID, and a correct cross-reference table. It is **not** PDF/A-conformant: the
standard font is not embedded and there is no OutputIntent with an ICC profile. It is
deterministic: the same input gives the same bytes (no clock, fixed document ID).
"""

from __future__ import annotations

import hashlib
import textwrap

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
    objects[catalog - 1] = (b"<< /Type /Catalog /Pages %d 0 R /Metadata %d 0 R >>"
                            % (pages_obj, meta))
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


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
