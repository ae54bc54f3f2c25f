"""The routers are included with the most requested ones first (regie.web.app): that is safe
only while no route shadows another, i.e. every route is the first to match its own path."""
from __future__ import annotations

import re

from starlette.routing import Match


def _flat_routes(app) -> list:
    routes = []
    for top in app.router.routes:
        inner = getattr(top, "original_router", None)  # an included router
        routes.extend(inner.routes if inner is not None else [top])
    return routes


def _sample(path: str) -> str:
    return re.sub(r"\{[^}:]+\}", "x1", re.sub(r"\{[^}:]+:path\}", "a/b", path))


def test_every_route_is_the_first_match_of_its_own_path(app) -> None:
    routes = _flat_routes(app)
    checked = 0
    shadowed = []
    for route in routes:
        for method in sorted(getattr(route, "methods", None) or ()):
            scope = {"type": "http", "path": _sample(route.path), "method": method, "root_path": "", "headers": []}
            first = next((r for r in routes if r.matches(scope)[0] == Match.FULL), None)
            checked += 1
            if first is not route:
                shadowed.append(f"{method} {route.path} is answered by {getattr(first, 'path', None)}")
    assert checked > 100  # the walk saw the app's routes, not an empty list
    assert not shadowed, shadowed


def test_specific_paths_still_win_over_parameters(app) -> None:
    # The two overlaps the app has: a fixed path beside a path with a parameter.
    routes = _flat_routes(app)

    def first(path: str, method: str = "GET"):
        scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
        return next(r for r in routes if r.matches(scope)[0] == Match.FULL)

    assert first("/record/upload").path == "/record/upload"
    assert first("/record/results").path == "/record/{category}"


def test_the_record_reads_are_tried_first(app) -> None:
    paths = [r.path for r in _flat_routes(app)]
    assert paths.index("/api/v1/record/items/{item_id}") < 10
    assert paths.index("/record/{category}") < paths.index("/login")
