"""Migration 0011 on a database with collections and a lasting permission from before it
(both databases): the rows survive the migration with their plain provider, and the
start-up seal encrypts them and empties the plain columns."""
from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

from regie.collect.service import Collections
from regie.store.collect_models import Collection, MedMijConsent
from regie.store.crypto import KeyRing
from regie.store.db import Database
from regie.store.migrate import upgrade
from tests.conftest import fast_settings

PROVIDER = "ggzdekust@medmij"


def test_rows_from_before_0011_survive_and_are_sealed(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    upgrade(db.engine, "0010")
    keyring = KeyRing(secrets.token_bytes(32))
    user_id, collection_id, consent_id = "u" * 32, "c" * 32, "k" * 32
    now = datetime.now(UTC).replace(tzinfo=None)
    token = keyring.user_cipher(user_id, wrapped := keyring.new_wrapped_data_key(user_id)).encrypt(
        b"refresh-token", f"regie-consent|{user_id}|{consent_id}".encode())
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (id, email, password_hash, wrapped_data_key, is_admin, created_at, password_changed_at)"
            " VALUES (:id, 'oud@voorbeeld.nl', 'x', :key, :no, :now, :now)"),
            {"id": user_id, "key": wrapped, "no": False, "now": now})
        connection.execute(text(
            "INSERT INTO collections (id, user_id, batch_id, position, provider, services, state, channel,"
            " long_lived, created_at, reference, new_count, progress)"
            " VALUES (:id, :user, :batch, 0, :provider, :services, 'done', 'web', :no, :now, 'RGE-AAAA-BBBB', 3,"
            " :progress)"),
            {"id": collection_id, "user": user_id, "batch": "b" * 32, "provider": PROVIDER,
             "services": json.dumps(["50", "51"]), "no": False, "now": now,
             "progress": json.dumps({"services": {"50": {"done": 2, "total": 2}}, "resources": 4})})
        connection.execute(text(
            "INSERT INTO medmij_consents (id, user_id, provider, scope, token_encrypted, created_at, updated_at,"
            " schedule_days, next_run_at, email_new_data)"
            " VALUES (:id, :user, :provider, :scope, :token, :now, :now, 7, :next, :yes)"),
            {"id": consent_id, "user": user_id, "provider": PROVIDER, "scope": "ggzdekust~50 ggzdekust~51",
             "token": token, "now": now, "next": now + timedelta(days=7), "yes": True})

    upgrade(db.engine)  # 0011 and everything after it: the rows are kept, still plain
    with db.session() as session:
        row = session.scalar(select(Collection).where(Collection.id == collection_id))
        kept = session.scalar(select(MedMijConsent).where(MedMijConsent.id == consent_id))
        assert row.legacy_provider == PROVIDER and row.provider_encrypted is None
        assert kept.legacy_scope == "ggzdekust~50 ggzdekust~51" and kept.provider_hash is None

    collections = Collections(fast_settings(tmp_path, database_url), db, keyring)
    assert collections.seal_legacy_rows() == 2
    with db.session() as session:
        row = session.scalar(select(Collection).where(Collection.id == collection_id))
        kept = session.scalar(select(MedMijConsent).where(MedMijConsent.id == consent_id))
        assert (row.legacy_provider, row.legacy_services, row.progress) == (None, None, None)
        assert (kept.legacy_provider, kept.legacy_scope) == (None, None)
        assert row.provider_hash == kept.provider_hash and len(row.provider_hash) == 64
    with db.engine.connect() as connection:
        for table in ("collections", "medmij_consents"):
            for values in connection.execute(text(f"SELECT * FROM {table}")):
                plain = " ".join(str(v) for v in values if not isinstance(v, (bytes, memoryview)))
                assert "ggz" not in plain.casefold(), (table, plain)
    view = collections.get(user_id, collection_id)
    assert view["provider"] == PROVIDER and view["services"] == ["50", "51"]
    assert view["progress"]["resources"] == 4
    [consent] = collections.consents(user_id)
    assert consent["provider"] == PROVIDER and consent["scope"] == "ggzdekust~50 ggzdekust~51"
    assert collections.seal_legacy_rows() == 0
    db.dispose()
