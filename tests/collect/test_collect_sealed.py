"""Which providers a patient collects from, and which services, are medical content: after
a collection (with a lasting permission) no user table holds a provider's name, its
services' names or ids in plain text; rows from before migration 0011 are sealed."""
from __future__ import annotations

import json

from sqlalchemy import inspect, select, text, update

from regie.store.collect_models import Collection, MedMijConsent
from tests.collect.harness import GP, consent, wait_finished

GGZ = "ggzdekust"  # a mental-health clinic: its name alone says what care the patient gets

# Global tables: the MedMij lists are the public directory itself, not about a patient.
GLOBAL = {"medmij_lists", "alembic_version"}


def _plain_rows(db) -> list[tuple[str, str]]:
    """(table, text) for every row of every user table: every column that is not binary.
    Binary columns hold AES-GCM ciphertext (random bytes: a three-letter word turns up in
    them by chance, so they are not searched)."""
    rows = []
    with db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            if table in GLOBAL:
                continue
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                cells = [str(v) for v in row if not isinstance(v, (bytes, memoryview))]
                rows.append((table, " | ".join(cells).casefold()))
    return rows


def test_no_provider_name_in_plain_text_after_a_collection(regie):
    started = regie.start(GP, None, long_lived=True)
    regie.callback(consent(started["authorization_url"]))
    view = wait_finished(regie.get, started["id"])
    assert view["state"] == "done", view
    clinic = regie.collect(GGZ)
    assert clinic["state"] == "done", clinic
    receipt = view["receipt"]
    forbidden = {GP, GGZ, receipt["provider_name"], clinic["receipt"]["provider_name"], "ggz", "de kust"}
    forbidden |= {s["name"] for s in receipt["services"] + clinic["receipt"]["services"]}
    forbidden = {word.casefold() for word in forbidden}
    leaks = [(table, word) for table, row in _plain_rows(regie.app.state.context.db) for word in forbidden
             if word in row]
    assert leaks == [], leaks

    # The API and pages still see them (decrypted with the patient's key).
    [kept] = regie.get("/api/v1/consents").json()["consents"]
    assert kept["provider"] == f"{GP}@medmij" and all(s.startswith(f"{GP}@medmij~") or s.startswith(f"{GP}~")
                                                        for s in kept["scope"])
    history = regie.get("/api/v1/collections").json()["collections"]
    assert {h["provider"] for h in history} == {f"{GP}@medmij", f"{GGZ}@medmij"}
    # Looked up by a keyed hash: the same provider, the same hash, for this patient.
    with regie.app.state.context.db.session() as session:
        hashes = session.execute(select(Collection.provider_hash)).scalars().all()
        consent_hash = session.execute(select(MedMijConsent.provider_hash)).scalar_one()
    assert len(set(hashes)) == 2 and consent_hash in hashes and all(len(h) == 64 for h in hashes)


def test_rows_from_before_the_migration_are_sealed_at_start_up(regie):
    view = regie.collect(GP, ["49"])
    started = regie.start(GP, ["904"], long_lived=True)
    regie.callback(consent(started["authorization_url"]))
    assert wait_finished(regie.get, started["id"])["state"] == "done"
    db = regie.app.state.context.db
    # As a row written before migration 0011: plain columns, nothing encrypted.
    with db.session() as session:
        session.execute(update(Collection).where(Collection.id == view["id"]).values(
            legacy_provider=f"{GP}@medmij", legacy_services=json.dumps(["49"]), provider_hash=None,
            provider_encrypted=None, services_encrypted=None, progress_encrypted=None,
            progress=json.dumps({"services": {"49": {"done": 1, "total": 1}}, "resources": 3})))
        session.execute(update(MedMijConsent).values(
            legacy_provider=f"{GP}@medmij", legacy_scope=f"{GP}@medmij~904", provider_hash=None,
            provider_encrypted=None, scope_encrypted=None))
    collections = regie.app.state.collections
    # Readable before sealing (the readers fall back to the plain columns) ...
    assert collections.get(regie.user_id, view["id"])["provider"] == f"{GP}@medmij"
    # ... and sealed by the start-up sweep: encrypted, hashed, plain columns emptied.
    collections.sweep_interrupted()
    with db.session() as session:
        row = session.scalar(select(Collection).where(Collection.id == view["id"]))
        kept = session.scalar(select(MedMijConsent))
        assert row.legacy_provider is None and row.legacy_services is None and row.progress is None
        assert row.provider_encrypted and row.services_encrypted and row.progress_encrypted
        assert kept.legacy_provider is None and kept.legacy_scope is None and kept.scope_encrypted
        others = session.scalars(select(Collection.provider_hash).where(Collection.id != view["id"])).all()
        assert row.provider_hash == kept.provider_hash == others[0]
    again = collections.get(regie.user_id, view["id"])
    assert again["provider"] == f"{GP}@medmij" and again["services"] == ["49"]
    assert again["progress"]["resources"] == 3
    [consent_view] = collections.consents(regie.user_id)
    assert consent_view["provider"] == f"{GP}@medmij" and consent_view["scope"] == f"{GP}@medmij~904"
    assert collections.seal_legacy_rows() == 0  # idempotent
    # The lasting permission is found by its hash again: stopping it by provider works.
    collections.drop_consent(regie.user_id, f"{GP}@medmij")
    assert collections.consents(regie.user_id) == []
