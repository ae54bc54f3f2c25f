"""Single-use recovery codes, for when the second factor is lost."""
from __future__ import annotations

import hashlib
import secrets

CODE_COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed over


def new_codes() -> list[str]:
    # 12 characters of a 31-letter alphabet: about 59 bits, enough for a fast hash.
    return [_format("".join(secrets.choice(_ALPHABET) for _ in range(12))) for _ in range(CODE_COUNT)]


def normalise(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch in _ALPHABET)


def code_hash(code: str) -> str:
    return hashlib.sha256(b"regie-recovery|" + normalise(code).encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    return len(normalise(code)) == 12


def _format(raw: str) -> str:
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
