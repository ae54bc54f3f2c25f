"""The assembled sandbox: lists at the Stelselnode paths, their ZAL pointing at the
sandbox's own OAuth and FHIR routes, the FHIR mount point and the overview page."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import xmlschema
from lxml import etree
from starlette.responses import JSONResponse
from starlette.testclient import TestClient

from regie.medmij.lists import ListKind, SchemaProfile, TrustAnchor, load_signed_list
from regie.sandbox.app import create_sandbox_app
from regie.sandbox.config import default_config, is_valid_bsn
from regie.sandbox.grants import GrantStore

from .lists.conftest import REFERENCE_DIR, reference_available
from .oauth.conftest import BASE, PGO, exchange, run_flow

FHIR_MISSING = None


@pytest.fixture
def config():
    return default_config(base_url=BASE, clients=["pgo.example.nl"])


@pytest.fixture
def client(config, tmp_path):
    app = create_sandbox_app(config, tmp_path, fhir_app_factory=FHIR_MISSING)
    with TestClient(app, base_url=BASE, follow_redirects=False) as c:
        yield c


def download(client, kind: ListKind, anchor: TrustAnchor):
    xml = client.get(f"/{kind.filename}?api=2")
    sig = client.get(f"/{kind.signature_filename}")
    assert xml.status_code == sig.status_code == 200
    return xml.content, load_signed_list(xml.content, sig.content, kind, anchor,
                                         profile=SchemaProfile.LOOPBACK)


def test_lists_are_served_signed_and_valid(client, tmp_path):
    anchor = TrustAnchor.from_file(tmp_path / "lists-trust-anchor.pem")
    for kind in ListKind:
        download(client, kind, anchor)


def test_lists_match_reference_xsds(client):
    if not reference_available():
        pytest.skip(f"reference XSDs not found in {REFERENCE_DIR}")
    for kind in (ListKind.OCL, ListKind.WHITELIST, ListKind.GNL):
        schema = xmlschema.XMLSchema10(str(REFERENCE_DIR / kind.schema_file), allow="local")
        schema.validate(etree.fromstring(client.get(f"/{kind.filename}").content))


def test_zal_points_at_sandbox_routes(client, tmp_path, config):
    anchor = TrustAnchor.from_file(tmp_path / "lists-trust-anchor.pem")
    _, zal = download(client, ListKind.ZAL, anchor)
    names = {za.zorgaanbiedernaam for za in zal.zorgaanbieders}
    assert names == {p.zorgaanbiedernaam for p in config.providers}
    for za in zal.zorgaanbieders:
        naam = za.zorgaanbiedernaam.removesuffix("@medmij")
        offered = config.provider(naam).service_ids
        assert tuple(gd.gegevensdienst_id for gd in za.gegevensdiensten) == offered
        for gd in za.gegevensdiensten:
            assert gd.authorization_endpoint_uri == f"{BASE}/{naam}/oauth/authorize"
            assert gd.token_endpoint_uri == f"{BASE}/{naam}/oauth/token"
            (role,) = gd.systeemrollen
            assert role.resource_endpoint_uri == f"{BASE}/{naam}/fhir/{gd.gegevensdienst_id}"
            # Each endpoint answers on the assembled app.
            auth = client.get(urlsplit(gd.authorization_endpoint_uri).path)
            assert auth.status_code == 400  # no client_id: error page, route exists
            tok = client.post(urlsplit(gd.token_endpoint_uri).path, data={})
            assert tok.status_code == 400 and tok.json()["error"] == "invalid_request"
            fhir = client.get(urlsplit(role.resource_endpoint_uri).path + "/Patient")
            assert fhir.status_code == 501  # no FHIR app plugged in


def test_ocl_and_gnl(client, tmp_path, config):
    anchor = TrustAnchor.from_file(tmp_path / "lists-trust-anchor.pem")
    _, ocl = download(client, ListKind.OCL, anchor)
    # localhost cannot be on the OCL (not an FQDN); the sandbox accepts it off-list.
    assert {c.hostname for c in ocl.clients} == {"regie.localhost", "pgo.example.nl"}
    _, gnl = download(client, ListKind.GNL, anchor)
    ids = {g.gegevensdienst_id for g in gnl.gegevensdiensten}
    assert {"48", "49", "50", "51", "61", "63"} <= ids
    _, whitelist = download(client, ListKind.WHITELIST, anchor)
    assert "sandbox.localhost" in whitelist.hostnames


def test_default_config_has_the_required_network():
    config = default_config()
    assert len(config.persons) == 10
    assert all(is_valid_bsn(p.bsn) for p in config.persons)
    assert len({p.bsn for p in config.persons}) == 10
    offered = {sid for p in config.providers for sid in p.service_ids}
    assert {"48", "49", "50", "51", "61", "63"} <= offered
    assert config.client("localhost") is not None
    assert config.base_url == "http://sandbox.localhost:8100"


def test_bsn_elfproef():
    assert is_valid_bsn("999990007")
    assert not is_valid_bsn("999990008")
    assert not is_valid_bsn("12345678")
    assert not is_valid_bsn("１２３４５６７８２")  # non-ASCII digits


def test_overview_page_and_headers(client):
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="nl">' in page.text
    assert "999990007" in page.text and "huisartsdevries@medmij" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get("/_sandbox/sandbox.css").headers["content-type"].startswith("text/css")


def test_fhir_app_plugs_in_with_full_path(config, tmp_path):
    seen = {}

    def factory(cfg, grants: GrantStore):
        assert cfg is config

        async def fhir(scope, receive, send):
            auth = dict(scope["headers"]).get(b"authorization", b"").decode()
            grant = grants.lookup(auth.removeprefix("Bearer "))
            seen["path"] = scope["path"]
            status = 200 if grant else 401
            body = {"bsn": grant.bsn, "services": list(grant.service_ids)} if grant else {}
            await JSONResponse(body, status_code=status)(scope, receive, send)

        return fhir

    app = create_sandbox_app(config, tmp_path, fhir_app_factory=factory)
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        body = exchange(client, run_flow(client)).json()
        headers = {"Authorization": f"Bearer {body['access_token']}",
                   "X-Correlation-ID": "44444444-4444-4444-8444-444444444444"}
        response = client.get("/huisartsdevries/fhir/49/Patient?_include=Patient:general-practitioner",
                              headers=headers)
        assert response.status_code == 200
        assert response.json() == {"bsn": "999990007", "services": ["49"]}
        assert seen["path"] == "/huisartsdevries/fhir/49/Patient"
        assert client.get("/huisartsdevries/fhir/49/Patient").status_code == 401
        # The access log shows which PGO fetched which service for which person.
        entry = [e for e in app.state.oauth.state.entries("huisartsdevries") if e.event == "fhir"][0]
        assert (entry.client_id, entry.bsn, entry.service_ids) == (PGO, "999990007", ("49",))
        assert entry.correlation_id == "44444444-4444-4444-8444-444444444444"
        page = client.get("/huisartsdevries/log").text
        assert "Gegevens opgehaald" in page and "GET /Patient?_include" in page


def test_default_factory_is_try_imported(config, tmp_path):
    from regie.sandbox.app import load_fhir_app_factory

    app = create_sandbox_app(config, tmp_path)
    assert (app.state.fhir_app is None) == (load_fhir_app_factory() is None)


def test_sandbox_never_imports_web_or_store():
    code = (
        "import sys, regie.sandbox.app, regie.sandbox.oauth, regie.cli.sandbox\n"
        "bad = [m for m in sys.modules if m.startswith(('regie.web', 'regie.store'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_end_to_end_with_the_real_fhir_app(config, tmp_path):
    from regie.sandbox.app import load_fhir_app_factory

    factory = load_fhir_app_factory()
    if factory is None:
        pytest.skip("regie.sandbox.fhir is not there yet")
    app = create_sandbox_app(config, tmp_path, fhir_app_factory=factory)
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        body = exchange(client, run_flow(client)).json()
        response = client.get(
            "/huisartsdevries/fhir/49/Patient",
            headers={"Authorization": f"Bearer {body['access_token']}",
                     "Accept": "application/fhir+json"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["resourceType"] == "Bundle"
        assert "999990007" in response.text  # the patient comes from the grant
