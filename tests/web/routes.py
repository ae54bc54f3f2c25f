"""Every route of the app, read from its route table (so a new route is covered at once)."""
from __future__ import annotations

from collections.abc import Iterator

from starlette.routing import Mount


def iter_routes(routes, prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """(path, methods) for each endpoint, through included routers."""
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included router
            yield from iter_routes(route.original_router.routes, prefix)
        elif isinstance(route, Mount):
            continue  # static files
        elif hasattr(route, "methods") and route.methods:
            yield prefix + route.path, set(route.methods) - {"HEAD"}
