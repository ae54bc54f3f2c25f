"""Master key rotation: re-wrap every user's data key under a new master key, without downtime.

Steps (each safe to interrupt; running it again finishes the job):
1. The new key is written to ``master.key.next`` (mode 0600), or the one there is reused.
2. Per user, in its own transaction with the row locked: the data key is unwrapped and wrapped
   again under the new key. A user whose key already opens with the new key is skipped. The
   data key itself does not change, so no medical ciphertext is touched.
3. The old key is copied to ``master.key.previous``, then ``master.key.next`` replaces
   ``master.key`` with one atomic rename.
Running processes never stop: their key ring (regie.store.master_key.keyring_for) also reads the
next and previous keys when a data key does not open with the key they started with.
Restart every process after a rotation (their new accounts are wrapped with the key they started
with until then; the next rotation re-wraps those from the previous key).
Only a key kept in the home directory can be rotated; with ``REGIE_MASTER_KEY`` the operator
rotates outside Regie.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import select

from regie.config import Settings
from regie.errors import ConfigurationError
from regie.store.crypto import DecryptionError, KeyRing, wrap_with
from regie.store.db import Database
from regie.store.master_key import (
    NEXT_KEY_FILE_NAME,
    PREVIOUS_KEY_FILE_NAME,
    _create_key_file,
    _decode,
    _refuse_loose_permissions,
    key_file_path,
    load_master_key,
    other_master_keys,
)
from regie.store.models import User


@dataclass
class RotationResult:
    rewrapped: int
    already_done: int
    unreadable: list[str]  # user ids whose key opened with neither key (left as they were)


def rotate(settings: Settings, database: Database) -> RotationResult:
    if settings.master_key is not None:
        raise ConfigurationError("REGIE_MASTER_KEY is set: rotate it where it is kept; `regie keys rotate` "
                                 "rotates the key file in REGIE_HOME only.")
    current_path = key_file_path(settings)
    old = load_master_key(settings, create=False)
    next_path = settings.home / NEXT_KEY_FILE_NAME
    if not next_path.exists():
        _create_key_file(next_path)
    _refuse_loose_permissions(next_path)
    new = _decode(next_path.read_text(encoding="ascii").strip(), str(next_path))
    # The previous key too: a process that ran on through the last rotation wraps new accounts'
    # keys with it until it is restarted.
    old_ring = KeyRing(old, lambda: [k for k in other_master_keys(settings) if k != new])
    new_ring = KeyRing(new)
    result = RotationResult(0, 0, [])
    with database.session() as session:
        user_ids = list(session.scalars(select(User.id).order_by(User.id)))
    for user_id in user_ids:
        with database.session() as session:  # one user per transaction: atomic per user
            user = session.get(User, user_id, with_for_update=True)
            if user is None:
                continue  # deleted meanwhile
            try:
                new_ring.unwrap(user_id, user.wrapped_data_key)
                result.already_done += 1
                continue
            except DecryptionError:
                pass
            try:
                data_key = old_ring.unwrap(user_id, user.wrapped_data_key)
            except DecryptionError:
                result.unreadable.append(user_id)
                continue
            user.wrapped_data_key = wrap_with(new, user_id, data_key)
            result.rewrapped += 1
    if result.unreadable:
        return result  # keep both keys in place; the operator looks at these users first
    previous = settings.home / PREVIOUS_KEY_FILE_NAME
    staged = settings.home / (PREVIOUS_KEY_FILE_NAME + ".tmp")
    staged.unlink(missing_ok=True)
    _write_private(staged, current_path.read_bytes())
    os.replace(staged, previous)
    os.replace(next_path, current_path)  # atomic: master.key is never missing
    return result


def _write_private(path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


__all__ = ["RotationResult", "rotate"]
