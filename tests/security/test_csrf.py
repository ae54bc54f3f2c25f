"""CSRF on every state-changing route, generated from the route table.

A signed-in owner sends each POST/PUT/PATCH/DELETE without the token, with a wrong one, and as
a cross-site ``text/plain`` form: every one is refused with 403 before the handler runs, and the
session still works afterwards (nothing was ended or deleted by the forged requests).
"""
from __future__ import annotations

import re

from tests.security.conftest import Owner
from tests.web.routes import iter_routes

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Only exception: the JSON login (no session to ride on; a foreign page cannot send
# application/json without a CORS pre-flight, which Regie never allows). Still checked below
# with a form body, which a foreign page can send.
JSON_EXEMPT = {("POST", "/api/v1/auth/login")}


def _concrete(path: str, owner: Owner) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: owner.ids.get(m.group(1), "0123456789abcdef0123456789abcdef"), path)


def _routes(app) -> list[tuple[str, str]]:
    return sorted((method, path) for path, methods in iter_routes(app.routes)
                  for method in methods if method in STATE_CHANGING)


def test_every_state_changing_route_refuses_a_request_without_the_token(owner: Owner) -> None:
    client = owner.person.client
    routes = _routes(owner.app)
    assert len(routes) > 60  # the sweep really covers the app
    wrong = []
    for method, path in routes:
        url = _concrete(path, owner)
        attempts = {
            "no token (form)": dict(data={"note": "x", "email": "a@b.nl"}),
            "wrong token (header)": dict(headers={"X-CSRF-Token": "f" * 43}, data={"csrf_token": "f" * 43}),
            "cross-site text/plain": dict(content=b"csrf_token=x&a=b", headers={"Content-Type": "text/plain"}),
        }
        for name, kwargs in attempts.items():
            response = client.request(method, url, follow_redirects=False, **kwargs)
            if response.status_code != 403 and not ((method, path) in JSON_EXEMPT and response.status_code in (400, 401, 415, 422)):
                wrong.append((method, path, name, response.status_code))
    assert not wrong, wrong
    # None of the forged requests ended the session, changed the password or deleted the account.
    assert client.get("/account", follow_redirects=False).status_code == 200
    assert client.get("/api/v1/measurements").status_code == 200


def test_the_api_answers_a_problem_document(owner: Owner) -> None:
    response = owner.person.client.post("/api/v1/diary", json={"severity": 1, "symptoms": ["x"]})
    assert response.status_code == 403
    assert response.json()["type"] == "urn:regie:problem:csrf-failed"


def test_the_token_of_another_session_does_not_work(owner: Owner) -> None:
    """The token is bound to its session: a token an attacker got for their own session is useless."""
    from tests.access.world import make_user, sign_in

    context = owner.app.state.context
    attacker = sign_in(owner.app, context, make_user(context, "aanvaller-csrf@voorbeeld.nl"))
    try:
        response = owner.person.client.post("/api/v1/diary", json={"severity": 1, "symptoms": ["x"]},
                                            headers={"X-CSRF-Token": attacker.csrf})
        assert response.status_code == 403
    finally:
        attacker.client.close()
