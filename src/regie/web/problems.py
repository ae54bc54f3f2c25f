"""RFC 9457 problem documents for every API error, with stable ``type`` URIs.

The list of types is in docs/api.md; clients may rely on them.
"""
from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

PROBLEM_TYPES = {
    "bad-request": "Bad request",
    "malformed-json": "Malformed JSON",
    "validation-error": "Validation failed",
    "unauthenticated": "Authentication required",
    "forbidden": "Forbidden",
    "csrf-failed": "CSRF token missing or wrong",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "request-too-large": "Request body too large",
    "unsupported-media-type": "Unsupported media type",
    "invalid-credentials": "Invalid credentials",
    "invalid-second-factor": "Invalid second factor",
    "second-factor-required": "Second factor required",
    "throttled": "Too many attempts",
    "server-error": "Internal server error",
    "unavailable": "Service unavailable",
}


def problem_type(slug: str) -> str:
    return f"urn:regie:problem:{slug}"


class Problem(Exception):
    """Raise from an API handler to answer with a problem document."""

    def __init__(self, status: int, slug: str, detail: str = "", **extra: Any) -> None:
        assert slug in PROBLEM_TYPES, slug
        super().__init__(detail or PROBLEM_TYPES[slug])
        self.status = status
        self.slug = slug
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}


def problem_response(
    status: int, slug: str, detail: str = "", headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    body: dict[str, Any] = {"type": problem_type(slug), "title": PROBLEM_TYPES[slug], "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/problem+json", headers=headers
    )
