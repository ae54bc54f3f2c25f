"""Regie as an OAuth client of MedMij providers, attacked through the callback and the lists.

Where each line of issue 10's "OAuth client" list is tested:
- state mismatch and reused state: tests/collect/test_collect_flow.py::test_state_mismatch_and_reuse_are_refused,
  an expired state: tests/collect/test_collect_callback.py::test_an_expired_state_is_refused_with_its_own_explanation,
  a state from another browser session: here;
- code injection (an attacker's code with the victim's state): here (PKCE refuses it);
- mix-up between providers (provider A's code in provider B's flow, an issuer that is not the
  state's provider): here;
- a token endpoint not on the ZAL (callback parameters naming one, a provider gone from the ZAL)
  and a token endpoint on a host not on the Whitelist: here; the Whitelist for lists and FHIR
  paging: tests/medmij/test_lists_client.py, tests/collect/test_collect_paging.py;
- TLS verification on: tests/sandbox/test_tls.py (a self-signed server fails unless its CA is
  configured), tests/collect/test_collect_mtls.py (the client certificate).
"""
from __future__ import annotations

import dataclasses
import socket
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from regie.collect import runner as runner_module
from regie.collect.service import ProviderEndpoints
from regie.medmij.lists_client import ListsClient
from tests.collect.conftest import network, regie  # noqa: F401  (the live sandbox and a Regie)
from tests.collect.harness import GP, HOSPITAL, api_token, consent, wait_finished


def _params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _record_size(regie) -> int:  # noqa: F811
    return regie.get("/api/v1/record/summary").json()["resources"]


def test_a_code_of_provider_a_in_the_flow_of_provider_b_is_refused(regie) -> None:  # noqa: F811
    a = regie.start(GP, ["49"])
    b = regie.start(HOSPITAL)
    back_a, back_b = consent(a["authorization_url"]), consent(b["authorization_url"])
    mixed = f"/collect/callback?{urlencode({'code': _params(back_a)['code'], 'state': _params(back_b)['state']})}"
    regie.callback(mixed)
    view_b = wait_finished(regie.get, b["id"])
    # B's token endpoint (from the ZAL, for B) does not know A's code: nothing is fetched anywhere.
    assert view_b["state"] == "failed" and view_b["error"]["code"] == "token-refused", view_b
    assert not regie.network.access_log(provider=HOSPITAL) and not regie.network.access_log(provider=GP)
    assert _record_size(regie) == 0
    # A's collection was not touched: its state was not used. (A's code went to B's endpoint with
    # B's PKCE verifier: worthless there, and worthless at A without A's verifier, which only
    # Regie holds. The sandbox's one authorization server then revokes it, as RFC 6749 advises.)
    assert regie.get(f"/api/v1/collections/{a['id']}").json()["state"] == "pending"
    regie.callback(back_a)
    assert wait_finished(regie.get, a["id"])["state"] in ("done", "failed")


def test_an_issuer_that_is_not_the_states_provider_changes_nothing(regie) -> None:  # noqa: F811
    """MedMij callbacks carry no ``iss`` (RFC 9207); one that names another server is not
    followed: the provider is the one the state was made for, its token endpoint from the ZAL."""
    started = regie.start(GP, ["49"])
    back = _params(consent(started["authorization_url"]))
    with socket.socket() as trap:
        trap.bind(("127.0.0.1", 0))
        trap.listen()
        trap.setblocking(False)
        evil = f"http://127.0.0.1:{trap.getsockname()[1]}"
        forged = {**back, "iss": evil, "token_endpoint": f"{evil}/token", "token_url": f"{evil}/token",
                  "redirect_uri": f"{evil}/cb"}
        assert regie.callback(f"/collect/callback?{urlencode(forged)}").status_code == 200
        view = wait_finished(regie.get, started["id"])
        with pytest.raises(BlockingIOError):
            trap.accept()  # nobody knocked: the named server was never contacted
    assert view["state"] == "done", view
    assert {entry["provider"] for entry in regie.network.access_log()} == {GP}


def test_an_attackers_code_with_the_victims_state_is_refused(regie) -> None:  # noqa: F811
    """Code injection: the attacker consents to their own collection and plants its code in the
    victim's callback. The code is bound to the attacker's PKCE verifier, so the exchange with
    the victim's verifier fails and nothing of the attacker's record lands in the victim's."""
    _attacker_id, attacker_token = api_token(regie.app.state.context, "aanvaller@voorbeeld.nl")
    theirs = regie.client.post("/api/v1/collections", json={"provider": GP, "services": ["49"]},
                               headers={"Authorization": f"Bearer {attacker_token}"})
    assert theirs.status_code == 201, theirs.text
    attackers_code = _params(consent(theirs.json()["authorization_url"], bsn="999990056"))["code"]
    victim = regie.start(GP, ["49"])
    victims_state = _params(consent(victim["authorization_url"]))["state"]
    regie.callback(f"/collect/callback?{urlencode({'code': attackers_code, 'state': victims_state})}")
    view = wait_finished(regie.get, victim["id"])
    assert view["state"] == "failed" and view["error"]["code"] == "token-refused", view
    assert not regie.network.access_log(provider=GP)
    assert _record_size(regie) == 0


def test_a_state_from_another_browser_session_is_refused(regie) -> None:  # noqa: F811
    """A collection started from a browser session answers only to that session's callback
    (the attacker's browser holding the victim's callback URL gets nowhere)."""
    from regie.collect.service import provider_endpoints
    from regie.web.collecting import collections_of, directory_of

    collections = collections_of(regie.app)
    endpoints = provider_endpoints(directory_of(regie.app), GP, ["49"])
    victims_session = "s" * 32
    cid = collections.create(regie.user_id, endpoints, channel="web", session_id=victims_session)
    url = collections.authorize(regie.user_id, cid, endpoints, session_id=victims_session)
    back = consent(url)
    refused = regie.callback(back)  # no session at all, or another one: the same refusal
    assert refused.status_code == 400 and "data-collect-problem" in refused.text
    assert regie.get(f"/api/v1/collections/{cid}").json()["state"] == "pending"
    assert not regie.network.access_log(provider=GP)


def test_a_token_endpoint_off_the_whitelist_is_never_contacted(regie, monkeypatch) -> None:  # noqa: F811
    """Were the ZAL to name a token endpoint on a host not on the Whitelist, the code is not sent."""
    real = runner_module.provider_endpoints

    def off_whitelist(*args, **kwargs) -> ProviderEndpoints:
        found = real(*args, **kwargs)
        return dataclasses.replace(found, token_url="https://niet-op-de-whitelist.example/oauth/token")

    monkeypatch.setattr(runner_module, "provider_endpoints", off_whitelist)
    started = regie.start(GP, ["49"])
    regie.callback(consent(started["authorization_url"]))
    view = wait_finished(regie.get, started["id"])
    assert view["state"] == "failed" and view["error"]["code"] == "not-allowed", view
    assert not regie.network.access_log(provider=GP)


def test_a_provider_gone_from_the_zal_gets_no_code(regie) -> None:  # noqa: F811
    """Consent given, then the provider leaves the ZAL: the code goes to no token endpoint."""
    started = regie.start(GP, ["49"])
    back = consent(started["authorization_url"])
    hidden = regie.network.admin.patch("/_admin/faults/_lists", json={"hidden_providers": [GP]})
    assert hidden.status_code == 200, hidden.text
    context = regie.app.state.context
    assert all(outcome.ok for outcome in ListsClient(context.settings, context.db).refresh())
    regie.callback(back)
    view = wait_finished(regie.get, started["id"])
    assert view["state"] == "failed" and view["error"]["code"] == "not-in-zal", view
    assert not regie.network.access_log(provider=GP)
