"""Pure ASGI middleware: security headers and the request body limit.

Pure ASGI (not BaseHTTPMiddleware) so the body is never buffered by us and
streaming responses pass straight through.
"""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

CACHEABLE_PREFIXES = ("/static/", "/favicon.ico")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.always_https = https
        self.headers: list[tuple[bytes, bytes]] = [
            (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = list(self.headers)
        # Any response not marked otherwise may carry personal or medical data: never cached
        # by a browser or proxy. Static files (the same for everyone) are left cacheable.
        if not scope.get("path", "").startswith(CACHEABLE_PREFIXES):
            headers.append((b"cache-control", b"no-store"))
        if self.always_https or scope.get("scheme") == "https":
            headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in headers if h[0] not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse bodies over the limit: at once by Content-Length, else while streaming."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, path_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Exact paths allowed a different limit (the record upload); every other path gets max_bytes.
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.path_limits.get(scope.get("path", ""), self.max_bytes)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _too_large(send, 400, b"Invalid Content-Length")
                    return
                if declared > max_bytes:
                    await _refuse(scope, send, max_bytes)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _refuse(scope, send, max_bytes)


async def _refuse(scope: Scope, send: Send, max_bytes: int) -> None:
    """413: a problem document for the API, a page in the visitor's language for pages."""
    if scope.get("path", "").startswith("/api/"):
        await _too_large(send, 413, b"")
        return
    from regie.web.uploads import send_too_large  # the page needs templates: not at import time

    await send_too_large(scope, send, max_bytes)


async def _too_large(send: Send, status: int, detail: bytes) -> None:
    import orjson

    body = orjson.dumps(
        {
            "type": "urn:regie:problem:request-too-large" if status == 413 else "urn:regie:problem:bad-request",
            "title": "Request body too large" if status == 413 else "Bad request",
            "status": status,
            "detail": detail.decode() or "The request body is larger than this server accepts.",
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
