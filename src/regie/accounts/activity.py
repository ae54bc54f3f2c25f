"""The security activity a user can see: logins, failures, locks, 2FA and token changes."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from regie.store.models import SecurityEvent
from regie.store.types import utcnow

# Stable event kinds; pages translate them.
EVENT_KINDS = (
    "registered",
    "login",
    "login-failed-password",
    "login-failed-second-factor",
    "account-locked",
    "logout",
    "password-changed",
    "totp-added",
    "passkey-added",
    "second-factor-removed",
    "recovery-code-used",
    "recovery-codes-renewed",
    "token-created",
    "token-revoked",
    "register-attempt",  # someone asked to register an address that already has an account
    "password-reset-requested",
    "password-reset",
)


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str = ""
    user_agent: str = ""


def record(session: Session, user_id: str, kind: str, client: ClientInfo, detail: str = "") -> None:
    assert kind in EVENT_KINDS, kind
    session.add(
        SecurityEvent(
            user_id=user_id,
            kind=kind,
            at=utcnow(),
            ip=client.ip[:64],
            user_agent=client.user_agent[:300],
            detail=detail[:200],
        )
    )


def recent(session: Session, user_id: str, limit: int = 50) -> list[SecurityEvent]:
    return list(
        session.scalars(
            select(SecurityEvent)
            .where(SecurityEvent.user_id == user_id)
            .order_by(SecurityEvent.at.desc())
            .limit(limit)
        )
    )


def browser_summary(user_agent: str) -> str:
    """'Firefox on Windows'-style summary; enough for a person to recognise a device."""
    ua = user_agent
    browser = next(
        (name for marker, name in _BROWSERS if marker in ua),
        "",
    )
    system = next((name for marker, name in _SYSTEMS if marker in ua), "")
    if browser and system:
        return f"{browser} · {system}"
    return browser or system or (ua[:40] if ua else "")


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("HeadlessChrome/", "Chrome (headless)"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python-httpx", "httpx"),
    ("testclient", "test client"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)

