"""Envelope encryption: per-user keys, bound to their row."""
from __future__ import annotations

import os

import pytest

from regie.store.crypto import DecryptionError, KeyRing


def test_round_trip_and_binding() -> None:
    ring = KeyRing(os.urandom(32))
    wrapped = ring.new_wrapped_data_key("user-a")
    cipher = ring.user_cipher("user-a", wrapped)
    blob = cipher.encrypt(b"HbA1c 48 mmol/mol", b"row-1")
    assert b"HbA1c" not in blob
    assert cipher.decrypt(blob, b"row-1") == b"HbA1c 48 mmol/mol"
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, b"row-2")  # copied to another row
    with pytest.raises(DecryptionError):
        ring.user_cipher("user-b", wrapped)  # another user's wrapped key
    with pytest.raises(DecryptionError):
        KeyRing(os.urandom(32)).user_cipher("user-a", wrapped)  # another master key
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        cipher.decrypt(tampered, b"row-1")


def test_each_encryption_uses_a_fresh_nonce() -> None:
    ring = KeyRing(os.urandom(32))
    cipher = ring.user_cipher("u", ring.new_wrapped_data_key("u"))
    assert cipher.encrypt(b"same", b"aad") != cipher.encrypt(b"same", b"aad")


def test_nonces_are_unique_across_threads() -> None:
    """Nonces come from a pool shared by the Cipher: threads must never get the same one
    (a repeated AES-GCM nonce under one key breaks confidentiality and integrity)."""
    from concurrent.futures import ThreadPoolExecutor

    from regie.store.crypto import NONCE_BYTES, Cipher

    cipher = Cipher(os.urandom(32))

    def nonces(_: int) -> list[bytes]:
        return [cipher.encrypt(b"x", b"aad")[1 : 1 + NONCE_BYTES] for _ in range(700)]

    with ThreadPoolExecutor(4) as pool:
        seen = [n for batch in pool.map(nonces, range(8)) for n in batch]
    assert len(seen) == 5600 and len(set(seen)) == 5600
