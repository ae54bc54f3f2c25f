"""The lists client against the sandbox Stelselnode, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from regie.medmij.http import UrlNotAllowed, check_url, is_loopback_host
from regie.medmij.lists import ListKind
from regie.medmij.lists_client import DETAILS, ListsClient
from regie.store.medmij_models import MedMijListRow
from regie.store.types import utcnow


def client_for(settings, db, stelselnode, **overrides) -> ListsClient:
    settings = settings.model_copy(update=overrides) if overrides else settings
    return ListsClient(settings, db, transport=stelselnode.transport)


def results(outcomes) -> dict[str, str]:
    return {o.kind: o.result for o in outcomes}


def test_good_lists_are_stored_with_raw_bytes_signature_and_content(lists_settings, lists_db, stelselnode):
    client = client_for(lists_settings, lists_db, stelselnode)
    outcomes = client.refresh()
    assert results(outcomes) == {k: "installed" for k in ("WHITELIST", "GNL", "OCL", "ZAL", DETAILS)}
    with lists_db.session() as session:
        row = session.get(MedMijListRow, "ZAL")
        publication = stelselnode.publisher.current(ListKind.ZAL)
        assert row.raw == publication.xml and row.signature == publication.signature
        assert row.volgnummer == publication.volgnummer and row.last_error is None
    zal = client.held("ZAL")
    assert len(zal.zorgaanbieders) == 34
    directory = client.directory()
    assert len(directory) == 34
    # Again: same Volgnummers, nothing replaced.
    assert set(results(client.refresh()).values()) == {"unchanged"}
    # A new publication replaces the held one.
    stelselnode.publisher.publish(ListKind.GNL)
    assert results(client.refresh(["GNL"])) == {"GNL": "replaced"}


def test_bad_signature_is_refused_and_last_good_kept(lists_settings, lists_db, stelselnode):
    client = client_for(lists_settings, lists_db, stelselnode)
    client.refresh()
    held = client.held("ZAL").header.volgnummer
    stelselnode.publisher.publish(ListKind.ZAL)
    stelselnode.publisher.faults.bad_signature.add(ListKind.ZAL)
    outcome = client.refresh(["ZAL"])[0]
    assert outcome.result == "failed" and "ListSignatureError" in outcome.error
    assert client.held("ZAL").header.volgnummer == held
    status = {s.kind: s for s in client.status()}["ZAL"]
    assert status.volgnummer == held and "ListSignatureError" in status.last_error


def test_lower_volgnummer_is_refused(lists_settings, lists_db, stelselnode):
    client = client_for(lists_settings, lists_db, stelselnode)
    stelselnode.publisher.publish(ListKind.OCL)  # Volgnummer 2, so one lower exists
    client.refresh()
    held = client.held("OCL").header.volgnummer
    assert held == 2
    stelselnode.publisher.faults.lower_volgnummer.add(ListKind.OCL)
    outcome = client.refresh(["OCL"])[0]
    assert outcome.result == "failed" and "ListVersionError" in outcome.error
    assert client.held("OCL").header.volgnummer == held


def test_download_failure_keeps_last_good_and_records_the_error(lists_settings, lists_db, stelselnode):
    client = client_for(lists_settings, lists_db, stelselnode)
    client.refresh()
    before = client.held("ZAL")
    stelselnode.down = True
    outcomes = client.refresh()
    assert set(results(outcomes).values()) == {"failed"}
    assert client.held("ZAL") == before
    assert all("ConnectError" in (s.last_error or "") for s in client.status())
    stelselnode.down = False
    client.refresh()
    assert all(s.last_error is None for s in client.status())


def test_oversized_response_is_refused(lists_settings, lists_db, stelselnode):
    client = client_for(lists_settings, lists_db, stelselnode, lists_max_bytes=50_000)
    stelselnode.padding = 60_000
    outcome = client.refresh(["GNL"])[0]
    assert outcome.result == "failed" and "ResponseTooLarge" in outcome.error
    assert client.held("GNL") is None


def test_no_trust_anchor_means_nothing_is_installed(lists_settings, lists_db, stelselnode):
    client = client_for(lists_settings, lists_db, stelselnode, medmij_lists_key=None)
    assert set(results(client.refresh()).values()) == {"failed"}
    assert stelselnode.requests == []
    assert "REGIE_MEDMIJ_LISTS_KEY" in client.status()[0].last_error


def test_non_loopback_http_is_refused_even_when_loopback_is_allowed(lists_settings, lists_db, stelselnode):
    client = client_for(lists_settings, lists_db, stelselnode,
                        medmij_lists_url="http://stelselnode.example", allow_insecure_loopback=True)
    outcome = client.refresh(["ZAL"])[0]
    assert outcome.result == "failed" and "UrlNotAllowed" in outcome.error
    assert stelselnode.requests == []
    # Loopback over http: only with the setting.
    loopback = client_for(lists_settings, lists_db, stelselnode, medmij_lists_url="http://127.0.0.1:8100")
    assert loopback.refresh(["GNL"])[0].result == "failed"
    allowed = client_for(lists_settings, lists_db, stelselnode,
                         medmij_lists_url="http://127.0.0.1:8100", allow_insecure_loopback=True)
    assert allowed.refresh(["GNL"])[0].result == "installed"


@pytest.mark.parametrize("url, loopback_ok, allowed", [
    ("https://stelselnode.medmij.nl/x.xml", False, True),
    ("http://stelselnode.medmij.nl/x.xml", True, False),
    ("http://127.0.0.1:8100/x", True, True),
    ("http://127.3.4.5/x", True, True),
    ("http://[::1]:8100/x", True, True),
    ("http://localhost/x", True, True),
    ("http://regie.sandbox.localhost:8100/x", True, True),
    ("http://127.0.0.1/x", False, False),
    ("http://localhost.example.com/x", True, False),
    ("http://10.0.0.1/x", True, False),
    ("ftp://127.0.0.1/x", True, False),
    ("https://user:pw@stelselnode.medmij.nl/", False, False),
])
def test_url_policy(url, loopback_ok, allowed):
    if allowed:
        assert check_url(url, allow_insecure_loopback=loopback_ok) == url
    else:
        with pytest.raises(UrlNotAllowed):
            check_url(url, allow_insecure_loopback=loopback_ok)


def test_loopback_hosts():
    assert is_loopback_host("a.b.localhost") and is_loopback_host("::1")
    assert not is_loopback_host("localhostx") and not is_loopback_host("128.0.0.1")


def test_whitelist_decides_which_hosts_may_be_contacted(lists_settings, lists_db, stelselnode):
    client = client_for(lists_settings, lists_db, stelselnode)
    assert client.directory().allowed_host("https://huisartsdevries.sandbox.localhost/x") is False
    client.refresh()
    directory = client.directory()
    provider = directory.providers[0]
    service = directory.service_endpoints(provider.zorgaanbiedernaam, provider.services[0].id)
    assert directory.allowed_host(service.token_endpoint_uri)
    assert directory.allowed_host(service.systeemrollen[0].resource_endpoint_uri)
    assert not directory.allowed_host("https://evil.example.com/token")
    assert not directory.allowed_host("not a url")


def test_directory_uses_details_and_gnl_names(lists_settings, lists_db, stelselnode):
    client = client_for(lists_settings, lists_db, stelselnode)
    client.refresh()
    directory = client.directory()
    known = [p for p in directory.providers if p.details_known]
    assert len(known) == 30 and all(p.place and p.kind for p in known)
    derived = directory.provider("ggzdekust@medmij")
    assert derived.display_name == "GGZ Dekust" and derived.kind == "ggz" and not derived.details_known
    gnl = dict((g.gegevensdienst_id, g.weergavenaam) for g in client.held("GNL").gegevensdiensten)
    assert all(s.name == gnl[s.id] for p in directory.providers for s in p.services)
    first = known[0]
    assert directory.search(f"{first.display_name} {first.place}")[0].provider == first


def test_missing_details_document_is_not_an_error(lists_settings, lists_db, tmp_path):
    from tests.medmij.conftest import Stelselnode, small_config

    node = Stelselnode(tmp_path / "bare", small_config(), None)
    settings = lists_settings.model_copy(update={"medmij_lists_key": node.publisher.trust_anchor_path})
    client = ListsClient(settings, lists_db, transport=node.transport)
    assert results(client.refresh())[DETAILS] == "not-published"
    assert {s.kind: s.last_error for s in client.status()}[DETAILS] is None
    assert all(not p.details_known for p in client.directory().providers)


def test_needs_refresh_follows_the_age_of_the_lists(lists_settings, lists_db, stelselnode):
    client = client_for(lists_settings, lists_db, stelselnode)
    assert client.needs_refresh()
    client.refresh()
    assert not client.needs_refresh()
    assert client.needs_refresh(now=utcnow() + timedelta(hours=7))
    with lists_db.session() as session:
        assert session.scalars(select(MedMijListRow.kind)).all()
