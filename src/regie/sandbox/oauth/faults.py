"""Fault switches for the sandbox authorization servers, per provider.

Set them in the configuration or at run time through ``/_admin/faults`` (JSON). All off
by default. The FHIR-side faults belong to ``regie.sandbox.fhir``.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import asdict, dataclass, fields

__all__ = ["FaultBoard", "ProviderFaults"]

_ERROR_STATUSES = (429, 500, 502, 503, 504)


@dataclass
class ProviderFaults:
    """What goes wrong at one provider's OAuth endpoints.

    - ``token_expires_after``: access tokens stop working after this many seconds
      while the token response still announces the normal ``expires_in``.
    - ``token_error``: the token endpoint answers this status (429, 500, 502, 503 or
      504) instead of a token; 429 and 503 carry ``Retry-After: retry_after``.
    - ``token_error_count``: only the next N token requests fail (``None``: all).
    - ``latency_ms``: delay added to the authorization and token endpoints.
    - ``hang``: the token endpoint does not answer until the fault is cleared
      (or ``hang_max_seconds`` have passed).
    """

    token_expires_after: int | None = None
    token_error: int | None = None
    retry_after: int = 30
    token_error_count: int | None = None
    latency_ms: int = 0
    hang: bool = False
    hang_max_seconds: float = 600.0

    def validate(self) -> None:
        if self.token_error is not None and self.token_error not in _ERROR_STATUSES:
            raise ValueError(f"token_error must be one of {_ERROR_STATUSES}")
        if self.token_expires_after is not None and self.token_expires_after < 0:
            raise ValueError("token_expires_after must be >= 0")
        if self.retry_after < 0 or self.latency_ms < 0 or self.hang_max_seconds < 0:
            raise ValueError("retry_after, latency_ms and hang_max_seconds must be >= 0")
        if self.token_error_count is not None and self.token_error_count < 0:
            raise ValueError("token_error_count must be >= 0")

    @property
    def active(self) -> bool:
        return self != ProviderFaults()


_FIELD_TYPES = {f.name: f.type for f in fields(ProviderFaults)}


def _coerce(name: str, value: object) -> object:
    kind = _FIELD_TYPES[name]
    if value is None:
        if "None" not in str(kind):
            raise ValueError(f"{name} may not be null")
        return None
    if "bool" in str(kind):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    return float(value) if "float" in str(kind) else int(value)


class FaultBoard:
    """Thread-safe per-provider fault settings."""

    def __init__(self, providers: tuple[str, ...] | list[str]) -> None:
        self._lock = threading.Lock()
        self._providers = tuple(providers)
        self._faults: dict[str, ProviderFaults] = {p: ProviderFaults() for p in providers}

    @property
    def providers(self) -> tuple[str, ...]:
        return self._providers

    def get(self, provider: str) -> ProviderFaults:
        with self._lock:
            current = self._faults[provider]
            return ProviderFaults(**asdict(current))

    def set(self, provider: str, **changes: object) -> ProviderFaults:
        """Change some switches of *provider*; unknown names raise ``ValueError``."""
        if provider not in self._faults:
            raise KeyError(provider)
        unknown = set(changes) - set(_FIELD_TYPES)
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        with self._lock:
            values = asdict(self._faults[provider])
            values.update({k: _coerce(k, v) for k, v in changes.items()})
            updated = ProviderFaults(**values)
            updated.validate()
            self._faults[provider] = updated
            return ProviderFaults(**values)

    def clear(self, provider: str | None = None) -> None:
        with self._lock:
            for p in [provider] if provider else list(self._faults):
                if p not in self._faults:
                    raise KeyError(p)
                self._faults[p] = ProviderFaults()

    def take_token_error(self, provider: str) -> ProviderFaults | None:
        """The faults to apply if this token request should fail; counts it down."""
        with self._lock:
            faults = self._faults[provider]
            if faults.token_error is None:
                return None
            if faults.token_error_count is not None:
                if faults.token_error_count <= 0:
                    return None
                faults.token_error_count -= 1
            return ProviderFaults(**asdict(faults))

    def snapshot(self) -> dict[str, dict[str, object]]:
        with self._lock:
            return {p: asdict(f) for p, f in self._faults.items()}

    async def apply_latency(self, provider: str) -> None:
        delay = self.get(provider).latency_ms
        if delay:
            await asyncio.sleep(delay / 1000)

    async def hang_if_asked(self, provider: str, *, poll: float = 0.02) -> None:
        """Wait while the ``hang`` switch is on (checked every *poll* seconds)."""
        faults = self.get(provider)
        if not faults.hang:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + faults.hang_max_seconds
        while self.get(provider).hang and loop.time() < deadline:
            await asyncio.sleep(poll)
