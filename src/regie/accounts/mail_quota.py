"""How many account e-mails one address or one client may cause: a fixed window per key.

Stops someone from flooding a mailbox (or the mail server) through the registration and
password-reset forms. Kept in ``throttles`` beside the brute-force counters, so every web
process sees them: ``failures`` counts the e-mails of the window that began at
``last_failure_at``. Keyed by a hash of the address whether or not it has an account, so
the limit itself reveals nothing.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from regie.accounts.errors import Throttled
from regie.config import Settings
from regie.store.models import Throttle


def _keys(settings: Settings, email: str, ip: str) -> list[tuple[str, int]]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return [(f"mail:acct:{digest}", settings.mail_quota_per_address), (f"mail:ip:{ip}", settings.mail_quota_per_ip)]


def take(session: Session, settings: Settings, email: str, ip: str, now: datetime) -> None:
    """Count one e-mail for this address and client; raise Throttled (a lock) when either is used up."""
    window = timedelta(minutes=settings.mail_quota_window_minutes)
    rows = []
    for key, limit in _keys(settings, email, ip):
        row = session.execute(select(Throttle).where(Throttle.key == key).with_for_update()).scalar_one_or_none()
        if row is None:
            row = Throttle(key=key, failures=0, last_failure_at=now)
            session.add(row)
        elif row.last_failure_at is None or row.last_failure_at + window <= now:
            row.failures, row.last_failure_at = 0, now
        if row.failures >= limit:
            raise Throttled(row.last_failure_at + window, locked=True)
        rows.append(row)
    for row in rows:
        row.failures += 1
    session.flush()
