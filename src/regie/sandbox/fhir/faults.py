"""Faults a sandbox resource server can be told to show, per provider and service.

The assembly's admin endpoint calls :meth:`FaultPlan.set` / :meth:`FaultPlan.clear`;
the FHIR app consults :meth:`FaultPlan.take` on each request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from enum import StrEnum

__all__ = ["Fault", "FaultKind", "FaultPlan"]


class FaultKind(StrEnum):
    NONE = "none"  # only the added latency, if any
    ERROR = "error"  # HTTP error status (500, 502, 503 + Retry-After, 401, 429 + Retry-After)
    RESET = "reset"  # response headers, then the connection is dropped without a body
    HANG = "hang"  # no response for `seconds`, then the connection is dropped
    TRUNCATED = "truncated"  # Content-Length of the full body, only half of it sent
    MALFORMED = "malformed"  # 200, application/fhir+json, but broken JSON
    OPERATION_OUTCOME = "operation-outcome"  # 200 with an OperationOutcome, not a Bundle
    HUGE = "huge"  # a valid Bundle padded to `size` bytes, streamed
    WRONG_CONTENT_TYPE = "wrong-content-type"  # 200 text/html (a portal login page)
    SLOW_DRIP = "slow-drip"  # the real body, `chunk` bytes every `seconds`


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do instead of (or on top of) a normal answer.

    ``latency``: seconds added before answering (any kind). ``status``: for ERROR.
    ``retry_after``: seconds, sent with 503 and 429. ``seconds``: HANG duration or the
    SLOW_DRIP interval. ``size``: HUGE body size in bytes. ``chunk``: SLOW_DRIP chunk
    size. ``remaining``: apply to this many requests, then clear (None: until cleared).
    """

    kind: FaultKind = FaultKind.NONE
    latency: float = 0.0
    status: int = 500
    retry_after: int | None = 30
    seconds: float = 600.0
    size: int = 20 * 1024 * 1024
    chunk: int = 64
    remaining: int | None = None

    def __post_init__(self) -> None:
        if self.kind is FaultKind.ERROR and self.status not in (400, 401, 403, 404, 429, 500,
                                                                  502, 503, 504):
            raise ValueError(f"unsupported error status {self.status}")
        if self.latency < 0 or self.seconds < 0 or self.size < 0 or self.chunk < 1:
            raise ValueError("fault durations and sizes must be positive")


class FaultPlan:
    """Faults per (provider, service id); ``"*"`` as service applies to all services."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[tuple[str, str], Fault] = {}

    def set(self, provider: str, service_id: str, fault: Fault | FaultKind | str,
            **options: object) -> Fault:
        if not isinstance(fault, Fault):
            fault = Fault(FaultKind(fault), **options)  # type: ignore[arg-type]
        with self._lock:
            self._faults[(provider, service_id)] = fault
        return fault

    def clear(self, provider: str | None = None, service_id: str | None = None) -> None:
        with self._lock:
            for key in list(self._faults):
                if (provider is None or key[0] == provider) and (
                        service_id is None or key[1] == service_id):
                    del self._faults[key]

    def get(self, provider: str, service_id: str) -> Fault | None:
        with self._lock:
            return self._faults.get((provider, service_id)) or self._faults.get((provider, "*"))

    def take(self, provider: str, service_id: str) -> Fault | None:
        """The fault for this request, counting down ``remaining``."""
        with self._lock:
            key = (provider, service_id)
            if key not in self._faults:
                key = (provider, "*")
            fault = self._faults.get(key)
            if fault is None:
                return None
            if fault.remaining is not None:
                if fault.remaining <= 1:
                    del self._faults[key]
                else:
                    self._faults[key] = replace(fault, remaining=fault.remaining - 1)
            return fault

    def snapshot(self) -> dict[tuple[str, str], Fault]:
        with self._lock:
            return dict(self._faults)
