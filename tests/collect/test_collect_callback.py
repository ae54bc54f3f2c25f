"""The callback and the token request, as issue 6 lists them: an expired state ends the
collection with its own explanation; each OAuth error a provider may send has a specific
Dutch one (an unknown one a general one); the code is exchanged once, with the
authorization request's correlation id and a fresh request id; the access token is never
logged and never stored."""
from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import inspect, text, update

from regie.collect.service import provider_endpoints
from regie.medmij import oauth
from regie.share.service import Sends, ShareError
from regie.store.collect_models import Collection
from regie.store.share_models import MedMijSend
from regie.store.types import utcnow
from regie.web.collecting import directory_of
from tests.collect.harness import GP, consent, wait_finished


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_an_expired_state_is_refused_with_its_own_explanation(regie) -> None:
    started = regie.start(GP, ["49"])
    back = consent(started["authorization_url"])
    with regie.app.state.context.db.session() as session:
        session.execute(update(Collection).where(Collection.user_id == regie.user_id, Collection.id == started["id"])
                        .values(authorize_expires_at=utcnow() - timedelta(seconds=1)))
    regie.callback(back)
    view = regie.get(f"/api/v1/collections/{started['id']}").json()
    assert view["state"] == "failed" and view["error"]["code"] == "expired", view
    assert view["error"]["message"], view
    assert not regie.network.access_log(provider=GP)  # no token request, no FHIR request
    assert regie.callback(back).status_code == 400  # and the state is used up


@pytest.mark.parametrize("error", ["invalid_scope", "server_error", "temporarily_unavailable",
                                   "invalid_request", "unsupported_response_type"])
def test_each_oauth_error_has_a_specific_explanation(regie, error: str) -> None:
    started = regie.start(GP, ["49"])
    state = _query(started["authorization_url"])["state"]
    assert regie.callback(f"/collect/callback?{urlencode({'state': state, 'error': error})}").status_code == 200
    view = regie.get(f"/api/v1/collections/{started['id']}").json()
    assert view["state"] == "failed", view
    code = error if error != "unsupported_response_type" else "oauth-error"  # not one we know: general
    assert view["error"]["code"] == code and view["error"]["message"], view
    assert view["receipt"]["outcome"] == "failed"


def test_the_explanations_differ_per_error(regie) -> None:
    seen = {}
    for error in ("access_denied", "invalid_scope", "server_error", "temporarily_unavailable", "other"):
        started = regie.start(GP, ["49"])
        state = _query(started["authorization_url"])["state"]
        regie.callback(f"/collect/callback?{urlencode({'state': state, 'error': error})}")
        seen[error] = regie.get(f"/api/v1/collections/{started['id']}").json()["error"]["message"]
    assert len(set(seen.values())) == len(seen), seen  # each its own text
    assert all(" de " in m or " het " in m for m in seen.values()), seen  # Dutch (the default language)


def test_the_code_is_exchanged_once_with_the_correlation_id_and_the_token_stays_in_memory(
        regie, monkeypatch) -> None:
    calls: list[dict] = []
    tokens: list[str] = []
    exchange = oauth.exchange_code

    async def recording(http: httpx.AsyncClient, url: str, **kwargs):
        requests: list[httpx.Request] = []

        async def hook(request: httpx.Request) -> None:
            requests.append(request)

        http.event_hooks["request"].append(hook)
        try:
            answer = await exchange(http, url, **kwargs)
        finally:
            http.event_hooks["request"].remove(hook)
        calls.append({"kwargs": kwargs, "requests": requests})
        tokens.append(answer.access_token)
        return answer

    monkeypatch.setattr(oauth, "exchange_code", recording)
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record) + " " + repr(record.__dict__))

    handler = Keep(logging.DEBUG)
    root = logging.getLogger("regie")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        started = regie.start(GP, ["49", "51"])
        authorization = _query(started["authorization_url"])
        regie.callback(consent(started["authorization_url"]))
        view = wait_finished(regie.get, started["id"])
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert view["state"] == "done", view
    [call] = calls  # exchanged once
    [request] = call["requests"]
    assert call["kwargs"]["correlation_id"] == authorization["X-Correlation-ID"]
    assert request.headers["X-Correlation-ID"] == authorization["X-Correlation-ID"]
    assert request.headers["MedMij-Request-ID"] not in (authorization["MedMij-Request-ID"],
                                                        authorization["X-Correlation-ID"])
    [token] = tokens
    assert len(token) >= 16
    assert records and not any(token in r for r in records)
    db = regie.app.state.context.db
    with db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    raw = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
                    assert token.encode() not in raw, table


def test_an_expired_send_state_is_stored_as_failed_and_used_up(regie) -> None:
    context = regie.app.state.context
    sends = Sends(context.settings, context.db, context.accounts.keyring)
    endpoints = provider_endpoints(directory_of(regie.app), GP, ["904"])
    sent = sends.create(regie.user_id, kind="measurements", provider=endpoints.provider, service_id="904",
                        bundle={"resourceType": "Bundle", "type": "batch", "entry": []}, channel="api")
    state = _query(sends.authorize(regie.user_id, sent, endpoints))["state"]
    with context.db.session() as session:
        session.execute(update(MedMijSend).where(MedMijSend.user_id == regie.user_id, MedMijSend.id == sent)
                        .values(authorize_expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(ShareError) as expired:
        sends.claim(state, None)
    assert expired.value.code == "expired"
    view = sends.get(regie.user_id, sent, with_bundle=False)
    assert view["state"] == "failed" and view["error"] == "expired", view
    with pytest.raises(ShareError) as again:
        sends.claim(state, None)
    assert again.value.code == "state-mismatch"
