"""What the resource servers remember: an access log and the Bundles PGOs sent."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["AccessEntry", "AccessLog", "Received", "ReceivedStore"]


@dataclass(frozen=True, slots=True)
class AccessEntry:
    time: datetime
    provider: str
    service_id: str
    bsn: str | None  # None when no valid token was presented
    client_id: str | None
    method: str
    query: str  # path below the service base plus query string, as received
    status: int
    fault: str | None = None


class AccessLog:
    """The last *maxlen* requests to any sandbox resource server, oldest first."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[AccessEntry] = deque(maxlen=maxlen)

    def add(self, entry: AccessEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, provider: str | None = None, service_id: str | None = None,
                bsn: str | None = None) -> list[AccessEntry]:
        with self._lock:
            items = list(self._entries)
        return [e for e in items
                if (provider is None or e.provider == provider)
                and (service_id is None or e.service_id == service_id)
                and (bsn is None or e.bsn == bsn)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass(slots=True)
class Received:
    """One transaction/batch Bundle a PGO POSTed, with what the sandbox answered."""

    time: datetime
    provider: str
    service_id: str
    bsn: str
    client_id: str
    bundle: dict[str, Any]
    response: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


class ReceivedStore:
    """Everything PGOs sent, in memory, plus per-person changes (new, updated and
    deleted resources) that the resource server overlays on its data."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._received: list[Received] = []
        # (provider, service, bsn) -> ("Type/id" -> resource | None for deleted)
        self._changes: dict[tuple[str, str, str], dict[str, dict[str, Any] | None]] = {}
        self._counter = 0

    def next_id(self) -> str:
        with self._lock:
            self._counter += 1
            return f"sbx-{self._counter}"

    def record(self, item: Received) -> None:
        with self._lock:
            self._received.append(item)

    def items(self, provider: str | None = None, service_id: str | None = None
              ) -> list[Received]:
        with self._lock:
            return [r for r in self._received
                    if (provider is None or r.provider == provider)
                    and (service_id is None or r.service_id == service_id)]

    def put(self, key: tuple[str, str, str], resource: dict[str, Any]) -> None:
        with self._lock:
            ref = f"{resource['resourceType']}/{resource['id']}"
            self._changes.setdefault(key, {})[ref] = resource

    def delete(self, key: tuple[str, str, str], ref: str) -> None:
        with self._lock:
            self._changes.setdefault(key, {})[ref] = None

    def changes(self, key: tuple[str, str, str]) -> dict[str, dict[str, Any] | None]:
        with self._lock:
            return dict(self._changes.get(key, {}))

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self._changes.clear()


def now_utc() -> datetime:
    return datetime.now(UTC)
