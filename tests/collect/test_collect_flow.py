"""The whole flow against the live sandbox with a plain HTTP client, as a script would."""
from __future__ import annotations

import time

import pyotp
import pytest

from regie.accounts.activity import ClientInfo
from tests.collect.harness import GP, consent, wait_finished


def overview_page(regie) -> str:
    """The overview as the patient sees it: give the test user an app code, log in, open /."""
    accounts = regie.app.state.context.accounts
    pending = accounts.begin_totp(regie.user_id)
    accounts.confirm_totp(regie.user_id, pending.factor_id, pyotp.TOTP(pending.secret).at(time.time() - 30), ClientInfo())
    login = regie.client.post("/api/v1/auth/login", json={
        "email": "patient@voorbeeld.nl", "password": "paars-fietsje-wandelt-42", "otp": pyotp.TOTP(pending.secret).now()})
    assert login.status_code == 200, login.text
    return regie.client.get("/").text


def test_collect_everything_from_the_gp(regie):
    view = regie.collect(GP)
    assert view["state"] == "done", view
    receipt = view["receipt"]
    assert receipt["outcome"] == "complete", receipt
    assert [s["id"] for s in receipt["services"]] == ["49", "51", "904"]
    assert receipt["totals"]["new"] > 0
    # The overview says per care provider when it was last collected and whether that went well.
    overview = overview_page(regie)
    assert 'data-collection-state="done"' in overview and f'href="/collect/{view["id"]}"' in overview


def _served_counts(network, provider: str, services: list[str]) -> dict[str, int]:
    """What the sandbox serves for these services: distinct resources over the routine
    searches and the documents, fetched with a token of our own."""
    from regie.medmij.services import service as catalogue
    from tests.sandbox.test_admin_faults import get_token

    import httpx
    with httpx.Client(base_url=network.base_url, timeout=10) as http:
        token = get_token(http, provider, tuple(services)).json()["access_token"]
        counts = {}
        for sid in services:
            seen = set()
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
            for q in catalogue(sid).routine():
                if q.interaction != "search":
                    continue
                bundle = http.get(f"/{provider}/fhir/{sid}/{q.url()}", headers=headers).json()
                for entry in bundle.get("entry", []):
                    r = entry["resource"]
                    seen.add((r["resourceType"], r["id"]))
                    for c in r.get("content", []) if r["resourceType"] == "DocumentReference" else []:
                        seen.add(("Binary", c["attachment"]["url"].rsplit("/", 1)[-1]))
            counts[sid] = len(seen)
        return counts


def test_receipt_counts_equal_what_the_sandbox_served_and_recollect_adds_nothing(regie):
    first = regie.collect(GP)
    receipt = first["receipt"]
    served = _served_counts(regie.network, GP, ["49", "51", "904"])
    summary = regie.get("/api/v1/record/summary").json()
    assert summary["resources"] == receipt["totals"]["new"] == sum(served.values())
    for s in receipt["services"]:
        assert s["state"] == "complete" and s["error"] is None
        assert s["new"] == served[s["id"]], s["id"]
        assert sum(s["counts"].values()) >= s["new"]
        assert all(r["ok"] for r in s["requests"])
    assert receipt["reference"].startswith("RGE-") and first["reference"] == receipt["reference"]
    # Again: nothing new, no duplicates.
    second = regie.collect(GP)
    assert second["state"] == "done" and second["receipt"]["totals"]["new"] == 0
    assert second["receipt"]["totals"]["unchanged"] > 0
    assert regie.get("/api/v1/record/summary").json()["resources"] == summary["resources"]
    # The audit log has the collections; the list API shows both.
    actions = [e["action"] for e in regie.get("/api/v1/audit?limit=200").json()["entries"]]
    assert actions.count("collect-complete") == 8  # collection, provider, services, counts; two runs
    assert len(regie.get("/api/v1/collections").json()["collections"]) == 2


def test_state_mismatch_and_reuse_are_refused(regie):
    started = regie.start(GP, ["49"])
    back = consent(started["authorization_url"])
    forged = back.replace("state=", "state=x")
    refused = regie.callback(forged)
    assert refused.status_code == 400 and "data-collect-problem" in refused.text
    assert regie.callback(back).status_code == 200
    again = regie.callback(back)
    assert again.status_code == 400
    assert wait_finished(regie.get, started["id"])["state"] == "done"
    assert regie.callback("/collect/callback?code=abc").status_code == 400


def test_access_denied_is_explained(regie):
    started = regie.start(GP)
    back = consent(started["authorization_url"], answer="no")
    assert "error=access_denied" in back
    assert regie.callback(back).status_code == 200
    view = regie.get(f"/api/v1/collections/{started['id']}").json()
    assert view["state"] == "failed" and view["error"]["code"] == "access_denied"
    assert "toestemming" in view["error"]["message"]
    assert view["receipt"]["outcome"] == "failed"
    assert not regie.network.access_log(provider=GP)
    overview = overview_page(regie)
    assert 'data-collection-state="failed"' in overview and "Niet opgehaald" in overview


def test_cancel_at_digid_is_access_denied(regie):
    started = regie.start(GP, ["49"])
    back = consent(started["authorization_url"], action="cancel")
    regie.callback(back)
    assert regie.get(f"/api/v1/collections/{started['id']}").json()["error"]["code"] == "access_denied"


def test_unknown_provider_and_service_are_refused(regie):
    r = regie.client.post("/api/v1/collections", json={"provider": "niemand"}, headers=regie.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "provider"
    r = regie.client.post("/api/v1/collections", json={"provider": GP, "services": ["48"]}, headers=regie.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "services"
    assert regie.client.get("/api/v1/collections/nope", headers=regie.headers).status_code == 404
    assert regie.client.get("/api/v1/collections/nope").status_code == 401


def test_authorization_url_has_every_parameter(regie):
    from urllib.parse import parse_qs, urlsplit

    started = regie.start(GP, ["49", "51"])
    query = parse_qs(urlsplit(started["authorization_url"]).query)
    assert query["response_type"] == ["code"] and query["client_id"] == ["localhost"]
    assert query["redirect_uri"] == ["http://localhost:8000/collect/callback"]
    assert query["scope"] == ["huisartsdevries~49 huisartsdevries~51"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 40 and query["MedMij-Request-ID"] and query["X-Correlation-ID"]
    assert urlsplit(started["authorization_url"]).hostname == "sandbox.localhost"
