"""A lane of its own for e-mail the web process sends while a request waits.

Sending talks to the mail server (``REGIE_SMTP_TIMEOUT_SECONDS``, 20 s, per step). On the
worker threads that serve every page, a slow or hanging mail server would hold one thread
per person asking for a link; a handful of such requests (or someone asking on purpose)
would leave none for anyone else. Here the send runs on at most ``REGIE_MAIL_THREADS`` (2)
threads per process; more requests wait their turn without holding a page thread. The
request still waits for the outcome, so the page can say "we could not send it, try again
later", and the work stays the same for known and unknown addresses (docs/security.md).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from starlette.requests import Request

T = TypeVar("T")


def _limiter(request: Request) -> CapacityLimiter:
    state = request.app.state
    limiter = getattr(state, "mail_limiter", None)
    if limiter is None:  # made in the event loop, on first use
        limiter = state.mail_limiter = CapacityLimiter(state.context.settings.mail_threads)
    return limiter


async def send_in_mail_lane(request: Request, send: Callable[..., T], *args: object) -> T:
    """Run ``send(*args)`` (which talks to the mail server) on the mail threads."""
    return await anyio.to_thread.run_sync(send, *args, limiter=_limiter(request))
