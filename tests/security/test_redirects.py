"""Open redirects: every parameter that takes a URL sends the browser to a local path only.

Table-driven over the classic tricks; the routes that take such a parameter are found in the
route table, so a new ``next``-like parameter without a test fails here.
"""
from __future__ import annotations

import pytest

from regie.web.guards import safe_next
from tests.web.conftest import app, browser, client  # noqa: F401
from tests.web.helpers import Browser
from tests.web.routes import iter_routes

EVIL = [
    "//evil.example/", "https://evil.example/", "http:evil.example", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "///evil.example", "/\t/evil.example", " //evil.example", "/\r\nLocation: https://evil.example",
    "https:/\\evil.example", "//evil.example@regie.example",
]
URL_PARAMETERS = {"next", "return_to", "redirect", "redirect_uri", "url", "back", "continue"}
# (method, path) -> how the test below exercises it
COVERED = {("GET", "/login"), ("POST", "/login"), ("GET", "/language/{language}"), ("GET", "/account/confirm"),
           ("POST", "/account/confirm"), ("POST", "/account/confirm/passkey/verify")}


def _is_local(location: str) -> bool:
    return location.startswith("/") and not location.startswith("//") and "\\" not in location


@pytest.mark.parametrize("target", EVIL)
def test_safe_next_refuses(target: str) -> None:
    assert safe_next(target) == "/"
    assert safe_next(target, "/account") == "/account"


@pytest.mark.parametrize("target", ["/record/allergies", "/measurements?type=body_weight", "/account/tokens"])
def test_safe_next_keeps_local_paths(target: str) -> None:
    assert safe_next(target) == target


def test_every_url_parameter_in_the_route_table_is_covered(app) -> None:
    def params(route) -> set[str]:
        found = set()

        def walk(dependant) -> None:
            found.update(p.name for p in dependant.query_params + dependant.body_params)
            for sub in dependant.dependencies:
                walk(sub)
        walk(route.dependant)
        return found

    taking = set()

    def collect(routes) -> None:
        for route in routes:
            if hasattr(route, "original_router"):
                collect(route.original_router.routes)
            elif getattr(route, "dependant", None) is not None:
                if params(route) & URL_PARAMETERS:
                    taking.update((m, route.path) for m in route.methods - {"HEAD"})
    collect(app.routes)
    assert taking, "the route table walk found nothing: the test is broken"
    assert taking <= COVERED, f"untested URL parameters: {sorted(taking - COVERED)}"
    assert {(m, p) for p, ms in iter_routes(app.routes) for m in ms} >= COVERED


def test_every_url_parameter_refuses_foreign_targets(browser: Browser) -> None:
    account = browser.register()
    client = browser.client
    for target in EVIL:
        language = client.get("/language/nl", params={"next": target}, follow_redirects=False)
        assert language.status_code == 303 and language.headers["location"] == "/", target
        confirm = client.get("/account/confirm", params={"next": target})
        assert 'value="/account"' in confirm.text and "evil" not in confirm.text, target
        done = browser.post_form("/account/confirm", {"code": browser.clock.code(account.totp_secret), "next": target},
                                 token_from="/account/confirm")
        assert done.status_code == 303 and done.headers["location"] == "/account", target
    browser.logout()
    for target in EVIL[:6]:  # the full login ceremony per target; the others are covered by safe_next above
        page = client.get("/login", params={"next": target})
        assert 'name="next" value="/"' in page.text, target
        browser.post_form("/login", {"email": account.email, "password": account.password, "next": target},
                          token_from="/login")
        done = browser.post_form("/login/second-factor", {"code": browser.clock.code(account.totp_secret)},
                                 token_from="/login/second-factor")
        assert done.headers["location"] == "/", target
        browser.logout()


def test_oauth_callbacks_never_send_the_browser_elsewhere(browser: Browser) -> None:
    """A forged callback (unknown state, a code, redirect parameters) ends on a local page."""
    browser.register()
    for path, target in [(p, t) for p in ("/collect/callback", "/send/callback", "/questionnaires/callback")
                         for t in EVIL[:4]]:
        response = browser.client.get(path, params={"state": "verzonnen", "code": "gestolen", "next": target,
                                                    "redirect_uri": target, "iss": target}, follow_redirects=False)
        assert response.status_code < 500, (path, response.status_code)
        if response.is_redirect:
            assert _is_local(response.headers["location"]), (path, target, response.headers["location"])
        assert "evil.example" not in response.text
