"""Brute-force protection: growing delays after a few failures, then a lock.

Counters are kept per account and per client address, for passwords and
second factors separately, in the database so every web process sees them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from regie.accounts.errors import Throttled
from regie.config import Settings
from regie.store.models import Throttle


@dataclass(frozen=True, slots=True)
class ThrottleKey:
    key: str
    lock_after: int


def account_key(kind: str, email: str, settings: Settings) -> ThrottleKey:
    # Keyed by the e-mail address (hashed), so unknown accounts throttle exactly like known ones.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    lock_after = settings.password_lock_failures if kind == "pw" else settings.second_factor_lock_failures
    return ThrottleKey(f"{kind}:acct:{digest}", lock_after)


def address_key(kind: str, ip: str, settings: Settings) -> ThrottleKey:
    return ThrottleKey(f"{kind}:ip:{ip}", settings.ip_lock_failures)


class Throttler:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def check(self, session: Session, keys: list[ThrottleKey], now: datetime) -> None:
        """Raise Throttled when any key is locked or still inside its delay."""
        for key in keys:
            row = session.get(Throttle, key.key)
            if row is None:
                continue
            if row.locked_until and row.locked_until > now:
                raise Throttled(row.locked_until, locked=True)
            next_allowed = self._next_allowed(row)
            if next_allowed and next_allowed > now:
                raise Throttled(next_allowed, locked=False)

    def fail(self, session: Session, keys: list[ThrottleKey], now: datetime) -> Throttled | None:
        """Count one failure on every key; return the lock when this failure caused one."""
        locked: Throttled | None = None
        for key in keys:
            row = session.execute(
                select(Throttle).where(Throttle.key == key.key).with_for_update()
            ).scalar_one_or_none()
            if row is None:
                row = Throttle(key=key.key, failures=0)
                session.add(row)
            if row.locked_until and row.locked_until <= now:
                row.locked_until = None  # an expired lock starts a fresh count
            row.failures = (row.failures or 0) + 1
            row.last_failure_at = now
            if row.failures >= key.lock_after:
                row.locked_until = now + timedelta(minutes=self.settings.lock_minutes)
                row.failures = 0
                locked = Throttled(row.locked_until, locked=True)
        session.flush()
        return locked

    def succeed(self, session: Session, keys: list[ThrottleKey]) -> None:
        """A success clears the account counters (never the address counters)."""
        for key in keys:
            if ":acct:" in key.key:
                row = session.get(Throttle, key.key)
                if row is not None:
                    session.delete(row)

    def _next_allowed(self, row: Throttle) -> datetime | None:
        free = self.settings.throttle_free_failures
        if row.last_failure_at is None or row.failures < free:
            return None
        delay = min(
            self.settings.throttle_delay_base_seconds * 2 ** (row.failures - free),
            self.settings.throttle_delay_max_seconds,
        )
        return row.last_failure_at + timedelta(seconds=delay)
