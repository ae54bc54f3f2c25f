"""The master key: wraps every user's data key (envelope encryption).

It comes from ``REGIE_MASTER_KEY`` (base64, 32 bytes) or from the file
``master.key`` in ``REGIE_HOME``, created on first start with mode 0600.
"""
from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from pathlib import Path

from regie.config import Settings
from regie.errors import ConfigurationError

KEY_BYTES = 32
KEY_FILE_NAME = "master.key"
# Written by `regie keys rotate` (regie.store.key_rotation): the key being rolled in, and the one
# rolled out (kept so a backup made before the rotation, or a late reader, can still open its keys).
NEXT_KEY_FILE_NAME = "master.key.next"
PREVIOUS_KEY_FILE_NAME = "master.key.previous"


def key_file_path(settings: Settings) -> Path:
    return settings.home / KEY_FILE_NAME


def load_master_key(settings: Settings, *, create: bool = True) -> bytes:
    if settings.master_key is not None:
        return _decode(settings.master_key.get_secret_value(), "REGIE_MASTER_KEY")
    path = key_file_path(settings)
    if not path.exists():
        if not create:
            raise ConfigurationError(f"No master key: {path} does not exist and REGIE_MASTER_KEY is not set.")
        _create_key_file(path)
    _refuse_loose_permissions(path)
    return _decode(path.read_text(encoding="ascii").strip(), str(path))


def other_master_keys(settings: Settings) -> list[bytes]:
    """The key file as it is now (a process started before a rotation holds the old key),
    and the next and previous keys, when a rotation left them in ``REGIE_HOME``."""
    keys = []
    for name in (KEY_FILE_NAME, NEXT_KEY_FILE_NAME, PREVIOUS_KEY_FILE_NAME):
        path = settings.home / name
        if path.exists():
            _refuse_loose_permissions(path)
            keys.append(_decode(path.read_text(encoding="ascii").strip(), str(path)))
    return keys


def keyring_for(settings: Settings):
    """The key ring of a process: the master key, and the rotation's other keys on demand."""
    from regie.store.crypto import KeyRing

    return KeyRing(load_master_key(settings), lambda: other_master_keys(settings))


def _create_key_file(path: Path) -> None:
    """Write a new key, unless another process starting at the same moment (a web process and
    a worker on a fresh home, several bench builders) wrote one first: then that one is the key.

    The key is written whole to a file of its own, made durable, then linked to its name in
    one step, so no process ever reads a half-written key and none overwrites another's (every
    record is encrypted under it: a key lost is every record lost)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    encoded = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(encoded + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            return  # another process's key came first
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)  # the name, too, survives a crash
        finally:
            os.close(folder)
    finally:
        draft.unlink(missing_ok=True)


def _refuse_loose_permissions(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    # Like ssh with private keys: any access by group or others is refused,
    # because whoever reads this file can read every record.
    if mode & 0o077:
        raise ConfigurationError(
            f"The master key file {path} can be read by other users (mode {mode:04o}). "
            f"Run: chmod 600 {path}"
        )


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(f"The master key in {where} is not valid base64.") from exc
    if len(key) != KEY_BYTES:
        raise ConfigurationError(
            f"The master key in {where} is {len(key)} bytes; it must be {KEY_BYTES} bytes (base64 of 32 random bytes)."
        )
    return key
