"""In-memory state of the sandbox authorization servers: pending authorization
requests ("flows"), authorization codes, DigiD simulator sessions and the access log.

One process, so plain dictionaries behind a lock. Every secret (flow id, code, session
id) is 256 bits from :mod:`secrets` and checked for uniqueness.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "AuthorizationCode",
    "AuthorizationRequest",
    "DigidSession",
    "LogEntry",
    "OAuthState",
]


@dataclass
class AuthorizationRequest:
    """A validated authorization request, waiting for DigiD login and consent."""

    flow_id: str
    provider: str
    client_id: str
    redirect_uri: str
    state: str
    scope: str
    service_ids: tuple[str, ...]
    code_challenge: str | None
    long_lived: bool
    request_id: str | None
    correlation_id: str | None
    expires_at: datetime
    bsn: str | None = None  # set once the person logged in with DigiD


@dataclass
class AuthorizationCode:
    code: str
    provider: str
    client_id: str
    redirect_uri: str
    service_ids: tuple[str, ...]
    bsn: str
    code_challenge: str | None
    long_lived: bool
    correlation_id: str | None
    expires_at: datetime
    used: bool = False
    # Tokens issued for this code: revoked when the code is presented a second time.
    tokens: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DigidSession:
    session_id: str
    bsn: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of a provider's access log."""

    at: datetime
    provider: str
    event: str  # see EVENT_LABELS in pages.py
    client_id: str | None = None
    bsn: str | None = None
    service_ids: tuple[str, ...] = ()
    detail: str = ""
    request_id: str | None = None
    correlation_id: str | None = None


class OAuthState:
    def __init__(self, *, log_size: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._flows: dict[str, AuthorizationRequest] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._digid: dict[str, DigidSession] = {}
        self._log: deque[LogEntry] = deque(maxlen=log_size)

    def _unique(self, table: dict[str, object]) -> str:
        while True:
            value = secrets.token_urlsafe(32)
            if value not in table:
                return value

    def _purge(self, now: datetime) -> None:
        for table in (self._flows, self._digid):
            for key in [k for k, v in table.items() if v.expires_at <= now]:
                del table[key]
        # Used codes are kept until they expire, so a replay is recognised as one.
        for key in [k for k, v in self._codes.items() if v.expires_at <= now and v.used]:
            del self._codes[key]

    # --- flows ---------------------------------------------------------------------

    def new_flow(self, now: datetime, **values: object) -> AuthorizationRequest:
        with self._lock:
            self._purge(now)
            flow = AuthorizationRequest(flow_id=self._unique(self._flows), **values)  # type: ignore[arg-type]
            self._flows[flow.flow_id] = flow
            return flow

    def flow(self, flow_id: str, now: datetime) -> AuthorizationRequest | None:
        with self._lock:
            flow = self._flows.get(flow_id)
            if flow is None or flow.expires_at <= now:
                return None
            return flow

    def set_flow_person(self, flow_id: str, bsn: str) -> None:
        with self._lock:
            if flow_id in self._flows:
                self._flows[flow_id].bsn = bsn

    def end_flow(self, flow_id: str) -> AuthorizationRequest | None:
        """Remove the flow (single use); ``None`` if it was already gone."""
        with self._lock:
            return self._flows.pop(flow_id, None)

    # --- codes ---------------------------------------------------------------------

    def new_code(self, **values: object) -> AuthorizationCode:
        with self._lock:
            code = AuthorizationCode(code=self._unique(self._codes), **values)  # type: ignore[arg-type]
            self._codes[code.code] = code
            return code

    def take_code(self, code: str) -> tuple[AuthorizationCode | None, bool]:
        """The code and whether this is its first presentation; marks it used."""
        with self._lock:
            found = self._codes.get(code)
            if found is None:
                return None, False
            first = not found.used
            found.used = True
            return found, first

    def add_code_token(self, code: str, token: str) -> None:
        with self._lock:
            if code in self._codes:
                self._codes[code].tokens.append(token)

    # --- DigiD ---------------------------------------------------------------------

    def new_digid_session(self, bsn: str, expires_at: datetime) -> DigidSession:
        with self._lock:
            session = DigidSession(self._unique(self._digid), bsn, expires_at)
            self._digid[session.session_id] = session
            return session

    def digid_session(self, session_id: str, now: datetime) -> DigidSession | None:
        with self._lock:
            session = self._digid.get(session_id)
            if session is None or session.expires_at <= now:
                return None
            return session

    def end_digid_session(self, session_id: str) -> None:
        with self._lock:
            self._digid.pop(session_id, None)

    # --- access log ---------------------------------------------------------------

    def log(self, entry: LogEntry) -> None:
        with self._lock:
            self._log.append(entry)

    def entries(self, provider: str | None = None) -> list[LogEntry]:
        with self._lock:
            return [e for e in self._log if provider is None or e.provider == provider]
