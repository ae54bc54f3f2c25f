"""Reading an OAuth callback (RFC 6749 §4.1.2): one ``state`` and either one ``code`` or an ``error``."""
from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request


@dataclass(frozen=True, slots=True)
class Callback:
    state: str
    code: str | None
    error: str | None


def read_callback(request: Request) -> Callback | None:
    """The callback's parameters, or None when they can't be trusted (missing or repeated)."""
    params = request.query_params
    state = params.get("state") or ""
    if len(params.getlist("state")) > 1 or len(params.getlist("code")) > 1 or not state:
        return None
    error = params.get("error") or None
    code = params.get("code") or None
    if error is None and code is None:
        return None
    return Callback(state, code, error)
