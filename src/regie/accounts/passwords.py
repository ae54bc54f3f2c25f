"""Password hashing (Argon2id) and the password policy."""
from __future__ import annotations

import threading
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from regie.config import Settings

MIN_LENGTH = 12
MAX_LENGTH = 1024  # Argon2 hashes anything, but a megabyte "password" is an attack.
COMMON_PASSWORD_COUNT = 10_000


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords, from the ranked list zxcvbn ships."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # here: large lists, needed only to check a new password

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"][:COMMON_PASSWORD_COUNT])


def password_problem(password: str, email: str = "") -> str | None:
    """Return a message code when the password is not acceptable, else None."""
    if len(password) < MIN_LENGTH:
        return "password-too-short"
    if len(password) > MAX_LENGTH:
        return "password-too-long"
    lowered = password.lower()
    if lowered in common_passwords():
        return "password-too-common"
    if len(set(password)) < 4:
        return "password-too-simple"
    local_part = email.split("@", 1)[0].lower()
    if local_part and len(local_part) >= 4 and local_part in lowered:
        return "password-contains-email"
    return None


class Passwords:
    """Argon2id hashing, limited to a few hashes at once.

    Each hash costs about 64 MiB and 130 ms; the semaphore keeps a burst of
    logins from exhausting memory, and callers run us in a worker thread.
    """

    def __init__(self, settings: Settings, concurrency: int = 2) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost_kib,
            parallelism=settings.argon2_parallelism,
        )
        self._slots = threading.BoundedSemaphore(concurrency)
        # Verifying against this when the account does not exist keeps login
        # timing the same for known and unknown e-mail addresses.
        self._dummy_hash = self._hasher.hash("regie-dummy-password-for-timing")

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        with self._slots:
            try:
                return self._hasher.verify(password_hash or self._dummy_hash, password) and (
                    password_hash is not None
                )
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
