"""Time-based one-time passwords (RFC 6238) with replay protection."""
from __future__ import annotations

import time

import pyotp

ISSUER = "Regie"
STEP_SECONDS = 30


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """An inline SVG of the QR code (no script, no external image: CSP-safe)."""
    import segno  # here, as below: a tenth of a second to import, needed only when a QR code is shown

    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", omitsize=False)


def qr_terminal(uri: str) -> str:
    import io

    import segno

    buffer = io.StringIO()
    segno.make(uri, error="m").terminal(out=buffer, compact=True)
    return buffer.getvalue()


def format_secret(secret: str) -> str:
    """Groups of four, easier to type over from a screen."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def matching_step(secret: str, code: str, last_used_step: int, now: float | None = None) -> int | None:
    """Return the time step the code belongs to, or None.

    One step of clock drift either way is allowed; a step at or before the
    last one used is refused so an intercepted code cannot be replayed.
    """
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    now = time.time() if now is None else now
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if step <= last_used_step:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None
