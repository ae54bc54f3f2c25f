"""The worker threads for the blocking work of Regie's own request layers (issue 9).

The session load (:mod:`regie.web.sessions`), the one-step item read (:mod:`regie.web.item_read`),
the access decisions that read the database (:mod:`regie.web.guards`), ``/healthz`` and the
most visited pages (the start page, the category pages) hand their blocking work to these
threads. FastAPI's other sync routes keep using anyio's threads (docs/decisions/0008).

Why not anyio's ``to_thread.run_sync`` here as well: per hop it looks up the running
library, its run-scoped variables and the capacity limiter, and yields to the event loop
more than once. Under load that cost more than the work of a short request: with one web
process on two cores, the JSON item read answered 743–885 requests/s through anyio's hop and
1,020–1,075/s through this pool, alternated in one session (docs/benchmarks.md, session 9).

One pool per process, made on first use with the size the first app asks
(``REGIE_WEB_THREADS``); a web process runs one app. The threads run each call in a copy
of the caller's context (request id for the logs), as anyio does. A request that is
cancelled while its call runs does not wait for it; the call still finishes.
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from regie.web.context import AppContext

_P = ParamSpec("_P")
_T = TypeVar("_T")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _forget_pool_in_child() -> None:
    # A forked process has none of its parent's threads: the parent's pool would take work
    # and never run it (a bench script run in a fork of the test process hung this way).
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_in_child)


def pool(threads: int) -> ThreadPoolExecutor:
    """This process's pool (``threads``: its size when it is made now)."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="regie-web")
    return _pool


async def run_blocking(app: AppContext, function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """``function(*args, **kwargs)`` in a worker thread of ``app``'s process; its result or
    its exception."""
    call = functools.partial(contextvars.copy_context().run, function, *args, **kwargs)
    # The made pool at once: the settings' size (a property over the settings model and the
    # core count) showed as 1 % of a loaded process's time when asked on every call.
    executor = _pool or pool(app.settings.resolved_web_threads)
    return await asyncio.get_running_loop().run_in_executor(executor, call)
