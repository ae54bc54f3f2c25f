"""Security headers on every GET route, generated from the route table.

Requested by a signed-in owner with a record, a measurement and a diary entry (real ids in the
path where the route takes one), over https as in production (``REGIE_PUBLIC_URL`` https):
CSP with ``frame-ancestors 'none'``, HSTS, X-Frame-Options, nosniff, a referrer policy, and
``Cache-Control: no-store`` on every page (any page of a signed-in person may show medical
data, and error pages are cheap to leave uncached).
"""
from __future__ import annotations

import re

from tests.security.conftest import Owner
from tests.web.routes import iter_routes

# Public, identical for everyone, no personal data: may be cached.
CACHEABLE = {"/favicon.ico"}


def _concrete(path: str, owner: Owner) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: owner.ids.get(m.group(1), "0123456789abcdef0123456789abcdef"), path)


def problems_of(response, path: str) -> list[str]:
    headers = response.headers
    found = []
    csp = headers.get("content-security-policy", "")
    for part in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'",
                 "frame-ancestors 'none'", "form-action 'self'"):
        if part not in csp:
            found.append(f"CSP lacks {part}")
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        found.append("CSP allows unsafe-*")
    if "max-age=" not in headers.get("strict-transport-security", ""):
        found.append("no HSTS")
    if headers.get("x-frame-options") != "DENY":
        found.append("no X-Frame-Options")
    if headers.get("x-content-type-options") != "nosniff":
        found.append("no nosniff")
    if headers.get("referrer-policy") not in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"):
        found.append(f"referrer policy {headers.get('referrer-policy')}")
    if path not in CACHEABLE and "no-store" not in headers.get("cache-control", ""):
        found.append(f"cache-control {headers.get('cache-control')!r}")
    return found


def test_every_get_route_has_the_headers(owner: Owner) -> None:
    client = owner.person.client
    wrong = {}
    seen_ok = 0
    for path, methods in sorted(iter_routes(owner.app.routes)):
        if "GET" not in methods:
            continue
        url = _concrete(path, owner)
        response = client.get(url, follow_redirects=False)
        seen_ok += response.status_code == 200
        problems = problems_of(response, path)
        if problems:
            wrong[f"{url} ({response.status_code})"] = problems
    assert not wrong, wrong
    assert seen_ok > 40  # real pages with data were shown, not only errors


def test_errors_and_redirects_have_the_headers(owner: Owner) -> None:
    client = owner.person.client
    for url in ("/does-not-exist", "/record/items/0123456789abcdef0123456789abcdef", "/api/v1/nothing"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 404
        assert not problems_of(response, url), (url, problems_of(response, url))
    anonymous = client.__class__(owner.app, base_url="https://regie.example")
    response = anonymous.get("/account", follow_redirects=False)
    assert response.status_code == 303 and not problems_of(response, "/account")


def test_static_files_carry_the_policy_too(owner: Owner) -> None:
    response = owner.person.client.get("/static/regie-2.css")
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
