"""Every fault type of the issue, set through /_admin/faults over real HTTP, as a test
in another process (Regie's collector tests) would do it."""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from regie.medmij.lists import (
    ListKind,
    ListSignatureError,
    ListVersionError,
    SchemaProfile,
    TrustAnchor,
    decide_replacement,
    load_signed_list,
)
from regie.sandbox.app import create_sandbox_app, load_fhir_app_factory
from regie.sandbox.config import default_config

from .live import serve

PGO = "regie.localhost"
REDIRECT = "http://regie.localhost:8000/medmij/callback"
GP = "huisartsdevries"
BSN = "999990007"
ENCOUNTERS = f"/{GP}/fhir/49/Encounter"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    state = tmp_path_factory.mktemp("admin-state")
    app = create_sandbox_app(default_config(), state, fhir_app_factory=load_fhir_app_factory())
    with serve(app) as port:
        yield f"http://127.0.0.1:{port}", state


@pytest.fixture
def http(sandbox):
    base, _ = sandbox
    with httpx.Client(base_url=base, timeout=5) as client:
        yield client
        assert client.delete("/_admin/faults").status_code == 200


def _q(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def get_token(http: httpx.Client, provider: str = GP, services=("49",)) -> httpx.Response:
    """The whole OAuth flow with plain form posts: authorize, DigiD, consent, token."""
    state = secrets.token_urlsafe(8)
    start = http.get(f"/{provider}/oauth/authorize", params={
        "response_type": "code", "client_id": PGO, "redirect_uri": REDIRECT, "state": state,
        "scope": " ".join(f"{provider}~{s}" for s in services)})
    assert start.status_code == 302, start.text
    flow = _q(start.headers["location"])["flow"]
    login = http.post("/digid/login", data={"flow": flow, "bsn": BSN, "action": "login"})
    assert login.status_code == 303, login.text
    consent = http.post(f"/{provider}/oauth/consent", data={"flow": flow, "consent": "yes"})
    back = _q(consent.headers["location"])
    assert back["state"] == state
    return http.post(f"/{provider}/oauth/token", data={
        "grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT,
        "client_id": PGO})


@pytest.fixture
def bearer(http) -> dict[str, str]:
    response = get_token(http)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def fhir_fault(http, service: str = "49", **fault) -> None:
    response = http.put(f"/_admin/faults/{GP}/fhir/{service}", json=fault)
    assert response.status_code == 200, response.text
    assert response.json()["fault"]["kind"] == fault["kind"]


# --- the admin API itself -----------------------------------------------------------------


def test_snapshot_shows_all_three_kinds(http):
    fhir_fault(http, kind="error", status=503)
    http.patch(f"/_admin/faults/{GP}", json={"token_error": 500})
    http.put("/_admin/faults/_lists", json={"bad_signature": ["ZAL"]})
    everything = http.get("/_admin/faults").json()
    assert everything["providers"][GP]["token_error"] == 500
    assert everything["fhir"][GP]["49"]["status"] == 503
    assert everything["lists"]["bad_signature"] == ["ZAL"]
    mine = http.get(f"/_admin/faults/{GP}").json()
    assert mine["fhir"]["49"]["kind"] == "error" and mine["in_zal"] is True
    cleared = http.delete("/_admin/faults").json()
    assert cleared["fhir"] == {} and cleared["lists"]["bad_signature"] == []
    assert cleared["providers"][GP]["token_error"] is None


@pytest.mark.parametrize("body", [
    {"status": 500}, {"kind": "explode"}, {"kind": "error", "status": 418},
    {"kind": "error", "bogus": 1}, {"kind": "hang", "seconds": "long"}, [1],
])
def test_bad_fhir_fault_is_refused(http, body):
    assert http.put(f"/_admin/faults/{GP}/fhir/49", json=body).status_code == 400


def test_bad_lists_fault_is_refused(http):
    assert http.put("/_admin/faults/_lists", json={"bad_signature": ["XYZ"]}).status_code == 400
    assert http.put("/_admin/faults/_lists", json={"hidden_providers": ["niemand"]}).status_code == 400
    assert http.put("/_admin/faults/_lists", json={"bogus": []}).status_code == 400
    assert http.put("/_admin/faults/niemand/fhir/49", json={"kind": "reset"}).status_code == 404


# --- OAuth faults ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_token_endpoint_errors(http, status):
    http.put(f"/_admin/faults/{GP}", json={"token_error": status, "retry_after": 3,
                                           "token_error_count": 1})
    failed = get_token(http)
    assert failed.status_code == status
    assert (failed.headers.get("retry-after") == "3") == (status in (429, 503))


def test_token_endpoint_latency_and_hang(http):
    http.patch(f"/_admin/faults/{GP}", json={"latency_ms": 150})
    started = time.monotonic()
    assert get_token(http).status_code == 200
    assert time.monotonic() - started >= 0.15
    http.put(f"/_admin/faults/{GP}", json={"hang": True, "hang_max_seconds": 1})
    with pytest.raises(httpx.ReadTimeout):
        _token_with_timeout(http, 0.3)


def _token_with_timeout(http, timeout):
    state = secrets.token_urlsafe(8)
    start = http.get(f"/{GP}/oauth/authorize", params={
        "response_type": "code", "client_id": PGO, "redirect_uri": REDIRECT, "state": state,
        "scope": f"{GP}~49"})
    flow = _q(start.headers["location"])["flow"]
    http.post("/digid/login", data={"flow": flow, "bsn": BSN, "action": "login"})
    consent = http.post(f"/{GP}/oauth/consent", data={"flow": flow, "consent": "yes"})
    code = _q(consent.headers["location"])["code"]
    return http.post(f"/{GP}/oauth/token", timeout=timeout, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": PGO})


def test_tokens_that_expire_early(http):
    http.patch(f"/_admin/faults/{GP}", json={"token_expires_after": 0})
    response = get_token(http)
    assert response.json()["expires_in"] == 900  # announced as usual
    answer = http.get(ENCOUNTERS, headers={
        "Authorization": f"Bearer {response.json()['access_token']}"})
    assert answer.status_code == 401


# --- FHIR faults ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 401, 429])
def test_fhir_error_statuses(http, bearer, status):
    fhir_fault(http, kind="error", status=status, retry_after=4)
    response = http.get(ENCOUNTERS, headers=bearer)
    assert response.status_code == status
    assert response.json()["resourceType"] == "OperationOutcome"
    assert (response.headers.get("retry-after") == "4") == (status in (429, 503))


def test_fhir_fault_counts_down_and_is_per_service(http, bearer):
    fhir_fault(http, kind="error", status=502, remaining=1)
    assert http.get(ENCOUNTERS, headers=bearer).status_code == 502
    assert http.get(ENCOUNTERS, headers=bearer).status_code == 200
    fhir_fault(http, service="51", kind="error", status=500)
    assert http.get(ENCOUNTERS, headers=bearer).status_code == 200
    fhir_fault(http, service="*", kind="error", status=503)
    assert http.get(ENCOUNTERS, headers=bearer).status_code == 503
    assert http.delete(f"/_admin/faults/{GP}/fhir/*").json()["fault"] is None
    assert http.get(ENCOUNTERS, headers=bearer).status_code == 200


def test_fhir_latency(http, bearer):
    fhir_fault(http, kind="none", latency=0.2)
    started = time.monotonic()
    assert http.get(ENCOUNTERS, headers=bearer).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_fhir_connection_reset(http, bearer):
    fhir_fault(http, kind="reset")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.get(ENCOUNTERS, headers=bearer)


def test_fhir_hang_until_the_client_times_out(http, bearer):
    fhir_fault(http, kind="hang", seconds=1)
    with pytest.raises(httpx.ReadTimeout):
        http.get(ENCOUNTERS, headers=bearer, timeout=0.3)


def test_fhir_truncated_body(http, bearer):
    fhir_fault(http, kind="truncated")
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(ENCOUNTERS, headers=bearer)


def test_fhir_malformed_json(http, bearer):
    fhir_fault(http, kind="malformed")
    response = http.get(ENCOUNTERS, headers=bearer)
    assert response.status_code == 200
    assert "fhir+json" in response.headers["content-type"]
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_fhir_operation_outcome_with_200(http, bearer):
    fhir_fault(http, kind="operation-outcome")
    response = http.get(ENCOUNTERS, headers=bearer)
    assert response.status_code == 200
    assert response.json()["resourceType"] == "OperationOutcome"


def test_fhir_huge_response(http, bearer):
    fhir_fault(http, kind="huge", size=3_000_000)
    response = http.get(ENCOUNTERS, headers=bearer)
    assert response.status_code == 200 and len(response.content) >= 3_000_000


def test_fhir_wrong_content_type(http, bearer):
    fhir_fault(http, kind="wrong-content-type")
    response = http.get(ENCOUNTERS, headers=bearer)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


def test_fhir_slow_drip(http, bearer):
    normal = http.get(ENCOUNTERS, headers=bearer).json()
    fhir_fault(http, kind="slow-drip", chunk=max(1, len(json.dumps(normal)) // 4), seconds=0.1)
    started = time.monotonic()
    with http.stream("GET", ENCOUNTERS, headers=bearer) as response:
        chunks = list(response.iter_raw())
    assert time.monotonic() - started >= 0.3
    assert len(chunks) >= 3
    assert json.loads(b"".join(chunks))["resourceType"] == "Bundle"


# --- lists faults ---------------------------------------------------------------------------


def _download(http, sandbox, kind=ListKind.ZAL):
    _, state = sandbox
    anchor = TrustAnchor.from_file(state / "lists-trust-anchor.pem")
    xml = http.get(f"/{kind.filename}").content
    sig = http.get(f"/{kind.signature_filename}").content
    return load_signed_list(xml, sig, kind, anchor, profile=SchemaProfile.LOOPBACK)


def test_list_with_a_bad_signature(http, sandbox):
    _download(http, sandbox)
    http.patch("/_admin/faults/_lists", json={"bad_signature": ["ZAL"]})
    with pytest.raises(ListSignatureError):
        _download(http, sandbox)
    _download(http, sandbox, ListKind.GNL)  # only the ZAL is affected


def test_list_with_a_lower_volgnummer(http, sandbox):
    published = http.post("/_admin/lists/publish", json={"lists": ["OCL"]})
    assert published.status_code == 200 and published.json()["OCL"] >= 2
    held = _download(http, sandbox, ListKind.OCL)
    http.patch("/_admin/faults/_lists", json={"lower_volgnummer": ["MedMij_OAuthclientlist.xml"]})
    older = _download(http, sandbox, ListKind.OCL)
    assert older.header.volgnummer == held.header.volgnummer - 1
    with pytest.raises(ListVersionError):
        decide_replacement(held, older, list_name=ListKind.OCL.root)


def test_provider_disappears_from_the_zal(http, sandbox):
    assert b"huisartsdevries@medmij" in http.get("/MedMij_Zorgaanbiederslijst.xml").content
    response = http.patch("/_admin/faults/_lists", json={"hidden_providers": [GP]})
    assert response.json()["hidden_providers"] == [GP]
    assert http.get(f"/_admin/faults/{GP}").json()["in_zal"] is False
    zal = _download(http, sandbox)
    assert "huisartsdevries@medmij" not in {p.zorgaanbiedernaam for p in zal.zorgaanbieders}
    http.delete("/_admin/faults/_lists")
    assert b"huisartsdevries@medmij" in http.get("/MedMij_Zorgaanbiederslijst.xml").content
