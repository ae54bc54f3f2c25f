"""Which providers a patient collects from, and which services, are medical content: after
a collection (with a lasting permission) no user table holds a provider's name, its
services' names or ids in plain text (rows from before: tests/collect/test_collect_migration.py)."""
from __future__ import annotations

from sqlalchemy import inspect, select, text

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
