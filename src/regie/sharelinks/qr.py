"""The QR code of a share link, as inline SVG (segno, as for TOTP: no script, CSP-safe)."""
from __future__ import annotations

import segno


def qr_svg(url: str, title: str) -> str:
    # Error level "m" survives a smudged phone screen; a quiet zone of 4 modules lets cameras lock on.
    return segno.make(url, error="m").svg_inline(scale=4, dark="#000", light="#fff", title=title, omitsize=False)
