"""The sandbox Stelselnode's list-signing key.

Generated on first use and kept in a folder the caller chooses, so signatures stay
verifiable across restarts. The public key is written beside it as PEM: configure
Regie to trust that file. Sandbox only: the private key is stored unencrypted.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

PRIVATE_KEY_FILE = "lists-signing-key.pem"
TRUST_ANCHOR_FILE = "lists-trust-anchor.pem"


def _write_new(path: Path, data: bytes, mode: int) -> bool:
    """Create *path* exclusively; False if another process won the race."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return True


def load_or_create_signing_key(folder: str | Path) -> ed25519.Ed25519PrivateKey:
    """Return the signing key in *folder*, creating it (and the trust anchor) if absent."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key_path = folder / PRIVATE_KEY_FILE
    if not key_path.exists():
        fresh = ed25519.Ed25519PrivateKey.generate()
        _write_new(
            key_path,
            fresh.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            0o600,
        )
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError(f"{PRIVATE_KEY_FILE} is not an Ed25519 key")
    # (Re)write the public half so it always matches the private key in use.
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    anchor = folder / TRUST_ANCHOR_FILE
    if not anchor.exists() or anchor.read_bytes() != pem:
        tmp = anchor.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pem)
        os.replace(tmp, anchor)  # atomic: readers never see half a file
    return key


def trust_anchor_path(folder: str | Path) -> Path:
    return Path(folder) / TRUST_ANCHOR_FILE
