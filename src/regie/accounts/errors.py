"""Account errors. Each has a stable ``code`` that pages and the API translate."""
from __future__ import annotations

from datetime import datetime

from regie.errors import RegieError


class AccountError(RegieError):
    code = "account-error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ValidationFailed(AccountError):
    """One or more fields are wrong; ``errors`` maps field name to message codes."""

    code = "validation-error"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class InvalidCredentials(AccountError):
    code = "invalid-credentials"


class InvalidSecondFactor(AccountError):
    code = "invalid-second-factor"


class Throttled(AccountError):
    """Too many failures: wait until ``retry_at``; ``locked`` when it is a lock-out."""

    code = "throttled"

    def __init__(self, retry_at: datetime, *, locked: bool) -> None:
        super().__init__(f"Too many failed attempts; try again after {retry_at.isoformat()}")
        self.retry_at = retry_at
        self.locked = locked


class EmailTaken(AccountError):
    code = "email-taken"
