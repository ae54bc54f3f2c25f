"""The QR code of a share link, as inline SVG (segno, as for TOTP: no script, CSP-safe)."""
from __future__ import annotations


def qr_svg(url: str, title: str) -> str:
    import segno  # here: a tenth of a second to import, needed only when a share link's QR code is shown

    # Error level "m" survives a smudged phone screen; a quiet zone of 4 modules lets cameras lock on.
    return segno.make(url, error="m").svg_inline(scale=4, dark="#000", light="#fff", title=title, omitsize=False)
