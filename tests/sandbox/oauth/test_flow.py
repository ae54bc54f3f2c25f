"""The full MedMij authorization-code flow against the sandbox, with a plain HTTP client."""

from __future__ import annotations

import pytest

from .conftest import (
    BSN,
    GP,
    HOSPITAL,
    PGO,
    REDIRECT,
    authorize_params,
    exchange,
    params_of,
    pkce_pair,
    run_flow,
    start,
    token,
)


def test_full_flow_gives_grant(client, app, clock):
    verifier, challenge = pkce_pair()
    back = run_flow(client, GP, ("49", "51"), code_challenge=challenge, code_challenge_method="S256")
    assert back.url.startswith(REDIRECT + "?")
    assert "error" not in back.params
    response = exchange(client, back, code_verifier=verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "huisartsdevries~49 huisartsdevries~51"
    assert "refresh_token" not in body
    grant = app.state.grants.lookup(body["access_token"], clock())
    assert grant is not None
    assert (grant.provider, grant.bsn, grant.service_ids, grant.client_id) == (GP, BSN, ("49", "51"), PGO)
    clock.advance(minutes=15)
    assert app.state.grants.lookup(body["access_token"], clock()) is None


def test_flow_without_pkce(client):
    back = run_flow(client, GP, ("49",))
    assert exchange(client, back).status_code == 200


def test_consent_page_names_pgo_and_services(client):
    params = authorize_params(GP, ("49", "51"))
    flow = params_of(start(client, **params).headers["location"])["flow"]
    client.post("/digid/login", data={"flow": flow, "bsn": BSN, "action": "login"})
    page = client.get(f"/{GP}/oauth/consent", params={"flow": flow}).text
    assert '<html lang="nl">' in page
    assert "<strong>Regie</strong>" in page  # OCL OAuthclientOrganisatienaam
    assert "Huisartsgegevens" in page and "Documenten (PDF/A)" in page  # GNL names
    assert "Anna de Jong" in page
    assert "<script" not in page


def test_digid_page_is_accessible_form(client):
    flow = params_of(start(client, **authorize_params()).headers["location"])["flow"]
    page = client.get("/digid/login", params={"flow": flow})
    assert page.status_code == 200
    assert "content-security-policy" in page.headers
    text = page.text
    assert text.count('name="bsn"') == 10
    assert text.count("<label>") >= 10 and "<legend>" in text
    assert "<script" not in text


# --- validation at the authorization endpoint -----------------------------------------


def test_unknown_client_gets_page_not_redirect(client):
    response = start(client, **authorize_params(client_id="evil.example.com",
                                                redirect_uri="https://evil.example.com/cb"))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "OAuth-clientlijst" in response.text


def test_redirect_to_other_host_is_refused(client):
    response = start(client, **authorize_params(redirect_uri="https://evil.example.com/cb"))
    assert response.status_code == 400
    assert "location" not in response.headers


def test_plain_http_redirect_only_on_loopback(client, config):
    from dataclasses import replace

    from regie.sandbox.config import Client

    cfg = replace(config, clients=config.clients + (Client("pgo.example.nl", "Voorbeeld-PGO"),))
    from regie.sandbox.oauth import AuthorizationServers

    servers = AuthorizationServers(cfg, client.app.state.grants)
    assert servers._valid_redirect_uri("http://pgo.example.nl/cb", "pgo.example.nl")
    assert servers._valid_redirect_uri("https://pgo.example.nl/cb", "pgo.example.nl") is None
    assert servers._valid_redirect_uri("http://localhost:8000/cb", "localhost") is None
    assert servers._valid_redirect_uri("https://pgo.example.nl/cb#x", "pgo.example.nl")


def test_localhost_client_works_off_list(client):
    params = authorize_params(client_id="localhost", redirect_uri="http://localhost:8000/cb")
    response = start(client, **params)
    assert response.status_code == 302
    assert response.headers["location"].startswith("/digid/login")


def _error(response):
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return params_of(location)


@pytest.mark.parametrize(
    "scope",
    [
        "huisartsdevries",  # no service
        "huisartsdevries~49  huisartsdevries~51",  # double space
        " huisartsdevries~49",
        "huisartsdevries@medmij~49",
        "huisartsdevries~49,huisartsdevries~51",
        "huisartsdevries~49 huisartsdevries~49",
        "ziekenhuisrivierenland~48",  # another provider
        "subscribe~30/huisartsdevries~49",
        "openid",
    ],
)
def test_bad_scope_syntax(client, scope):
    params = authorize_params(scope=scope)
    error = _error(start(client, **params))
    assert error["error"] == "invalid_scope"
    assert error["state"] == params["state"]


def test_scope_for_service_not_offered(client):
    error = _error(start(client, **authorize_params(GP, ("48",))))
    assert error["error"] == "invalid_scope"
    assert "48" in error["error_description"]


def test_sending_scope_must_hold_one_combination(client, config, tmp_path, clock):
    from dataclasses import replace

    from starlette.testclient import TestClient

    from regie.sandbox.app import create_sandbox_app

    cfg = replace(config, share_only_service_ids=frozenset({"51"}))
    app = create_sandbox_app(cfg, tmp_path / "s2", fhir_app_factory=None, clock=clock)
    with TestClient(app, base_url=config.base_url, follow_redirects=False) as c:
        error = _error(start(c, **authorize_params(GP, ("49", "51"))))
        assert error["error"] == "invalid_scope"
        assert start(c, **authorize_params(GP, ("51",))).headers["location"].startswith("/digid/")


def test_missing_state(client):
    params = authorize_params()
    del params["state"]
    error = _error(start(client, **params))
    assert error["error"] == "invalid_request"
    assert "state" not in error


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "x" * 43}, "invalid_request"),  # method defaults to plain
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
    ],
)
def test_other_authorize_errors(client, change, expected):
    assert _error(start(client, **authorize_params(**change)))["error"] == expected


def test_repeated_parameter_is_refused(client):
    url = "/huisartsdevries/oauth/authorize?" + "&".join(
        f"{k}={v}" for k, v in authorize_params().items()
    ) + "&state=other"
    assert _error(client.get(url))["error"] == "invalid_request"


# --- DigiD and consent ---------------------------------------------------------------


def test_consent_refused_returns_access_denied(client):
    back = run_flow(client, consent="no")
    assert back.params["error"] == "access_denied"
    assert "code" not in back.params


def test_digid_cancel_returns_access_denied(client):
    params = authorize_params()
    flow = params_of(start(client, **params).headers["location"])["flow"]
    response = client.post("/digid/login", data={"flow": flow, "action": "cancel"})
    assert response.status_code == 303
    error = params_of(response.headers["location"])
    assert error["error"] == "access_denied" and error["state"] == params["state"]


def test_unknown_bsn_is_refused(client):
    flow = params_of(start(client, **authorize_params()).headers["location"])["flow"]
    response = client.post("/digid/login", data={"flow": flow, "bsn": "123456782", "action": "login"})
    assert response.status_code == 400
    assert 'role="alert"' in response.text


def test_digid_session_reused_at_second_provider(client, clock):
    run_flow(client, GP, ("49",))
    clock.advance(minutes=14)
    back = run_flow(client, HOSPITAL, ("48",), expect_login=False)
    assert "code" in back.params


def test_digid_session_ends_after_15_minutes(client, clock):
    run_flow(client, GP, ("49",))
    clock.advance(minutes=15, seconds=1)
    run_flow(client, HOSPITAL, ("48",), expect_login=True)


def test_flow_is_single_use(client):
    params = authorize_params()
    flow = params_of(start(client, **params).headers["location"])["flow"]
    client.post("/digid/login", data={"flow": flow, "bsn": BSN, "action": "login"})
    assert client.post(f"/{GP}/oauth/consent", data={"flow": flow, "consent": "yes"}).status_code == 303
    assert client.post(f"/{GP}/oauth/consent", data={"flow": flow, "consent": "yes"}).status_code == 400


def test_consent_needs_login_first(client):
    flow = params_of(start(client, **authorize_params()).headers["location"])["flow"]
    assert client.post(f"/{GP}/oauth/consent", data={"flow": flow, "consent": "yes"}).status_code == 400


# --- token endpoint --------------------------------------------------------------


def test_code_is_single_use_and_replay_revokes(client, app):
    back = run_flow(client)
    first = exchange(client, back)
    assert first.status_code == 200
    access = first.json()["access_token"]
    again = exchange(client, back)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert app.state.grants.lookup(access) is None  # RFC 6749 4.1.2


def test_wrong_pkce_verifier(client):
    verifier, challenge = pkce_pair()
    back = run_flow(client, code_challenge=challenge, code_challenge_method="S256")
    wrong, _ = pkce_pair()
    response = exchange(client, back, code_verifier=wrong)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    # The code was used up by the failed attempt.
    assert exchange(client, back, code_verifier=verifier).json()["error"] == "invalid_grant"


def test_missing_pkce_verifier(client):
    _, challenge = pkce_pair()
    back = run_flow(client, code_challenge=challenge, code_challenge_method="S256")
    assert exchange(client, back).json()["error"] == "invalid_grant"


def test_verifier_without_challenge(client):
    verifier, _ = pkce_pair()
    back = run_flow(client)
    assert exchange(client, back, code_verifier=verifier).json()["error"] == "invalid_grant"


def test_expired_code(client, clock):
    back = run_flow(client)
    clock.advance(seconds=61)
    response = exchange(client, back)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "verlopen" in response.json()["error_description"]


@pytest.mark.parametrize(
    ("change", "error", "status"),
    [
        ({"client_id": "localhost"}, "invalid_grant", 400),  # known client, not this code's
        ({"client_id": "evil.example.com"}, "invalid_client", 401),
        ({"client_id": None}, "invalid_request", 400),
        ({"redirect_uri": REDIRECT + "/other"}, "invalid_grant", 400),
        ({"redirect_uri": None}, "invalid_request", 400),  # core.tknint.205
        ({"code": "not-a-code"}, "invalid_grant", 400),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type", 400),
    ],
)
def test_token_request_binding(client, change, error, status):
    back = run_flow(client)
    response = exchange(client, back, **change)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


def test_code_of_other_provider(client):
    back = run_flow(client, GP, ("49",))
    response = exchange(client, back, provider=HOSPITAL)
    assert response.json()["error"] == "invalid_grant"


def test_token_needs_form_encoding(client):
    back = run_flow(client)
    response = client.post(f"/{GP}/oauth/token", json={"grant_type": "authorization_code",
                                                        "code": back.params["code"]})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_refresh_token_flow(client, app, clock):
    back = run_flow(client, GP, ("49",), long_lived="true")
    body = exchange(client, back).json()
    assert "refresh_token" in body
    first_refresh = body["refresh_token"]
    clock.advance(minutes=20)
    assert app.state.grants.lookup(body["access_token"], clock()) is None
    response = token(client, grant_type="refresh_token", refresh_token=first_refresh, client_id=PGO)
    assert response.status_code == 200, response.text
    new = response.json()
    assert new["scope"] == "huisartsdevries~49" and new["refresh_token"] != first_refresh
    grant = app.state.grants.lookup(new["access_token"], clock())
    assert grant is not None and grant.bsn == BSN
    # Rotation: once the new refresh token is used, the old one is spent.
    newer = token(client, grant_type="refresh_token", refresh_token=new["refresh_token"], client_id=PGO)
    assert newer.status_code == 200, newer.text
    new = newer.json()
    old = token(client, grant_type="refresh_token", refresh_token=first_refresh, client_id=PGO)
    assert old.json()["error"] == "invalid_grant"
    # Another client may not use it.
    other = token(client, grant_type="refresh_token", refresh_token=new["refresh_token"], client_id="localhost")
    assert other.json()["error"] == "invalid_grant"
    # Nor another provider.
    elsewhere = token(client, HOSPITAL, grant_type="refresh_token",
                      refresh_token=new["refresh_token"], client_id=PGO)
    assert elsewhere.json()["error"] == "invalid_grant"


def test_consent_page_mentions_long_lived(client):
    params = authorize_params(long_lived="true")
    flow = params_of(start(client, **params).headers["location"])["flow"]
    client.post("/digid/login", data={"flow": flow, "bsn": BSN, "action": "login"})
    page = client.get(f"/{GP}/oauth/consent", params={"flow": flow}).text
    assert "intrekken" in page


def test_revoke_refresh_token(client, app):
    back = run_flow(client, long_lived="1")
    body = exchange(client, back).json()
    response = client.post(f"/{GP}/oauth/revoke",
                           data={"token": body["refresh_token"], "client_id": PGO})
    assert response.status_code == 200
    assert app.state.grants.lookup(body["access_token"]) is None
    refused = token(client, grant_type="refresh_token", refresh_token=body["refresh_token"], client_id=PGO)
    assert refused.json()["error"] == "invalid_grant"


def test_request_ids_are_logged_and_echoed(client, app):
    back = run_flow(client)
    response = exchange(client, back)
    assert response.headers["x-correlation-id"] == "22222222-2222-4222-8222-222222222222"
    entries = app.state.oauth.state.entries(GP)
    events = [e.event for e in entries]
    assert events == ["authorize", "digid_login", "consent_given", "token_issued"]
    assert entries[0].request_id == "11111111-1111-4111-8111-111111111111"
    assert entries[-1].request_id == "33333333-3333-4333-8333-333333333333"
    assert all(e.correlation_id == "22222222-2222-4222-8222-222222222222" for e in entries)


def test_access_log_page(client):
    exchange(client, run_flow(client))
    page = client.get(f"/{GP}/log")
    assert page.status_code == 200
    assert "Anna de Jong" in page.text and "Token uitgegeven" in page.text and "Regie" in page.text
    assert client.get("/nietbestaand/log").status_code == 404


def _long_lived_refresh(client, clock) -> str:
    body = exchange(client, run_flow(client, GP, ("49",), long_lived="true")).json()
    clock.advance(minutes=20)
    return body["refresh_token"]


def _refresh(client, refresh_token: str, client_id: str = PGO):
    return token(client, grant_type="refresh_token", refresh_token=refresh_token, client_id=client_id)


def test_rotated_refresh_token_stands_in_for_an_unused_successor_for_a_short_while(client, app, clock):
    """A PGO that crashed between our rotation and storing the new refresh token still holds
    the old one: it may use it again shortly after, and that spends the lost successor."""
    first = _long_lived_refresh(client, clock)
    lost = _refresh(client, first).json()["refresh_token"]  # the answer the PGO never stored
    clock.advance(seconds=30)
    again = _refresh(client, first)
    assert again.status_code == 200, again.text
    kept = again.json()["refresh_token"]
    assert kept not in (first, lost)
    assert app.state.grants.lookup(again.json()["access_token"], clock()).bsn == BSN
    assert _refresh(client, lost).json()["error"] == "invalid_grant"  # the lost one is spent
    assert _refresh(client, kept).status_code == 200
    # Now that its successor was used, the first token is spent for good.
    assert _refresh(client, first).json()["error"] == "invalid_grant"


def test_rotated_refresh_token_is_refused_after_the_reuse_interval(client, clock):
    first = _long_lived_refresh(client, clock)
    second = _refresh(client, first).json()["refresh_token"]
    clock.advance(minutes=3)  # the interval is two minutes
    assert _refresh(client, first).json()["error"] == "invalid_grant"
    assert _refresh(client, second).status_code == 200  # the successor itself still works


def test_rotated_refresh_token_never_serves_another_client(client, clock):
    first = _long_lived_refresh(client, clock)
    _refresh(client, first)
    assert _refresh(client, first, client_id="localhost").json()["error"] == "invalid_grant"


def test_revoking_a_rotated_refresh_token_revokes_its_unused_successor(client, app, clock):
    """A PGO that lost the new token and then withdraws the consent sends the old one."""
    first = _long_lived_refresh(client, clock)
    second = _refresh(client, first).json()["refresh_token"]
    response = client.post(f"/{GP}/oauth/revoke", data={"token": first, "client_id": PGO})
    assert response.status_code == 200
    assert _refresh(client, second).json()["error"] == "invalid_grant"
    assert _refresh(client, first).json()["error"] == "invalid_grant"
