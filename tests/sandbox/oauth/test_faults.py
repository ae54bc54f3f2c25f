"""Fault switches of the authorization servers, set through /_admin/faults."""

from __future__ import annotations

import asyncio
import time

import httpx

from .conftest import GP, HOSPITAL, PGO, exchange, run_flow, token


def test_admin_lists_and_sets_faults(client):
    listing = client.get("/_admin/faults").json()["providers"]
    assert set(listing) >= {GP, HOSPITAL}
    assert listing[GP]["token_error"] is None
    response = client.patch(f"/_admin/faults/{GP}", json={"token_error": 503, "retry_after": 7})
    assert response.status_code == 200
    assert response.json()["faults"]["token_error"] == 503
    assert client.get(f"/_admin/faults/{GP}").json()["faults"]["retry_after"] == 7
    assert client.delete(f"/_admin/faults/{GP}").json()["faults"]["token_error"] is None


def test_admin_rejects_bad_input(client):
    assert client.patch(f"/_admin/faults/{GP}", json={"nonsense": 1}).status_code == 400
    assert client.patch(f"/_admin/faults/{GP}", json={"token_error": 418}).status_code == 400
    assert client.patch(f"/_admin/faults/{GP}", json={"hang": "yes"}).status_code == 400
    assert client.patch(f"/_admin/faults/{GP}", json=[1]).status_code == 400
    assert client.patch("/_admin/faults/nietbestaand", json={}).status_code == 404


def test_token_endpoint_503_with_retry_after_then_recovers(client):
    back = run_flow(client)
    client.patch(f"/_admin/faults/{GP}", json={"token_error": 503, "retry_after": 5, "token_error_count": 1})
    failed = exchange(client, back)
    assert failed.status_code == 503
    assert failed.headers["retry-after"] == "5"
    assert failed.json()["error"] == "temporarily_unavailable"
    # The failed request did not consume the code: the retry succeeds.
    assert exchange(client, back).status_code == 200


def test_token_endpoint_429_and_500(client):
    back = run_flow(client)
    client.put(f"/_admin/faults/{GP}", json={"token_error": 429, "retry_after": 2})
    limited = exchange(client, back)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    client.put(f"/_admin/faults/{GP}", json={"token_error": 500})
    broken = exchange(client, back)
    assert broken.status_code == 500 and "retry-after" not in broken.headers
    assert broken.json()["error"] == "server_error"
    # Other providers are unaffected.
    other = run_flow(client, HOSPITAL, ("48",), expect_login=False)
    assert exchange(client, other, provider=HOSPITAL).status_code == 200


def test_early_token_expiry(client, app, clock):
    client.patch(f"/_admin/faults/{GP}", json={"token_expires_after": 5})
    body = exchange(client, run_flow(client)).json()
    assert body["expires_in"] == 900  # announced as usual ...
    assert app.state.grants.lookup(body["access_token"], clock()) is not None
    clock.advance(seconds=6)
    assert app.state.grants.lookup(body["access_token"], clock()) is None  # ... but dead early


def test_early_expiry_applies_to_refresh(client, app, clock):
    body = exchange(client, run_flow(client, long_lived="true")).json()
    client.patch(f"/_admin/faults/{GP}", json={"token_expires_after": 0})
    new = token(client, grant_type="refresh_token", refresh_token=body["refresh_token"], client_id=PGO)
    assert new.status_code == 200
    assert app.state.grants.lookup(new.json()["access_token"], clock()) is None


def test_latency(client):
    back = run_flow(client)
    client.patch(f"/_admin/faults/{GP}", json={"latency_ms": 200})
    started = time.monotonic()
    assert exchange(client, back).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_hang_until_cleared(client, app):
    back = run_flow(client)
    client.patch(f"/_admin/faults/{GP}", json={"hang": True})

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.localhost:8100") as c:
            pending = asyncio.create_task(c.post(f"/{GP}/oauth/token", data={
                "grant_type": "authorization_code", "code": back.params["code"],
                "redirect_uri": "http://regie.localhost:8000/medmij/callback", "client_id": PGO,
            }))
            await asyncio.sleep(0.2)
            assert not pending.done(), "the token endpoint should hang"
            app.state.oauth.faults.clear(GP)
            return await asyncio.wait_for(pending, timeout=5)

    response = asyncio.run(scenario())
    assert response.status_code == 200


def test_fault_is_logged(client):
    client.patch(f"/_admin/faults/{GP}", json={"token_error": 503})
    token(client, grant_type="authorization_code", code="x", redirect_uri="x", client_id=PGO)
    page = client.get(f"/{GP}/log").text
    assert "Storing op tokenadres" in page
