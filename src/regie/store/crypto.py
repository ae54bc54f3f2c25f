"""Envelope encryption: a random data key per user, wrapped by the master key.

Everything medical is stored as AES-256-GCM ciphertext under the user's data
key, with associated data that binds the ciphertext to its row, so a blob
copied to another row or user fails to decrypt. Deleting a user's wrapped key
makes their data unreadable (crypto-erasure).
"""
from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from regie.errors import RegieError

NONCE_BYTES = 12
_FORMAT_V1 = b"\x01"


class DecryptionError(RegieError):
    """Ciphertext that does not belong to this key or row, or was altered."""


class Cipher:
    """AES-256-GCM with a fresh random nonce per message."""

    _NONCES_PER_READ = 256

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._nonces = b""
        self._at = 0
        self._lock = threading.Lock()  # a Cipher may be shared by threads (the master key's is)

    def _nonce(self) -> bytes:
        # Random nonces read from the OS 256 at a time (one system call per 256 messages:
        # an import encrypts two values per resource); each is used once.
        with self._lock:
            if self._at >= len(self._nonces):
                self._nonces = secrets.token_bytes(NONCE_BYTES * self._NONCES_PER_READ)
                self._at = 0
            at = self._at
            self._at = at + NONCE_BYTES
            return self._nonces[at : at + NONCE_BYTES]

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = self._nonce()
        return _FORMAT_V1 + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        if not blob.startswith(_FORMAT_V1) or len(blob) < 1 + NONCE_BYTES + 16:
            raise DecryptionError("Encrypted value has an unknown format.")
        nonce = blob[1 : 1 + NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, blob[1 + NONCE_BYTES :], aad)
        except InvalidTag as exc:
            raise DecryptionError("Encrypted value does not match its key or row.") from exc


class KeyRing:
    """Creates, wraps and unwraps per-user data keys with the master key."""

    def __init__(self, master_key: bytes, other_keys: Callable[[], list[bytes]] | None = None) -> None:
        self._master = Cipher(master_key)
        # During a master key rotation (regie.store.key_rotation) some data keys are wrapped by
        # the next key already, or still by the previous one: read on demand, so a running
        # process keeps working while `regie keys rotate` runs (no downtime).
        self._other_keys = other_keys
        self._others: list[Cipher] = []

    def new_wrapped_data_key(self, user_id: str) -> bytes:
        return self._master.encrypt(AESGCM.generate_key(bit_length=256), _wrap_aad(user_id))

    def unwrap(self, user_id: str, wrapped_key: bytes) -> bytes:
        try:
            return self._master.decrypt(wrapped_key, _wrap_aad(user_id))
        except DecryptionError:
            if self._other_keys is None:
                raise
        for attempt in range(2):  # the known other keys, then once more after reading them again
            if attempt:
                self._others = [Cipher(key) for key in self._other_keys()]
            for cipher in self._others:
                try:
                    return cipher.decrypt(wrapped_key, _wrap_aad(user_id))
                except DecryptionError:
                    continue
        raise DecryptionError("The data key does not open with the master key (nor the next or previous one).")

    def user_cipher(self, user_id: str, wrapped_key: bytes) -> Cipher:
        return Cipher(self.unwrap(user_id, wrapped_key))

    def user_index_key(self, user_id: str, wrapped_key: bytes) -> bytes:
        """A key for keyed hashes (HMAC) of a user's identifiers, derived from the data key.

        Separate from the encryption key (HKDF with its own label); erased with it.
        """
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        data_key = self.unwrap(user_id, wrapped_key)
        return HKDF(hashes.SHA256(), 32, salt=None, info=b"regie-index-key|" + user_id.encode()).derive(data_key)


def wrap_with(master_key: bytes, user_id: str, data_key: bytes) -> bytes:
    """A data key wrapped by the given master key (used by the key rotation)."""
    return Cipher(master_key).encrypt(data_key, _wrap_aad(user_id))


def _wrap_aad(user_id: str) -> bytes:
    return b"regie-data-key|" + user_id.encode()
