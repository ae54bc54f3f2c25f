"""Migration 0020 on a database with rows from before it (both databases): collections and
a lasting permission whose provider and services are still plain (written before 0011 and
never sealed), one already sealed, and a send with its plain provider. Without the master
key the migration stops and leaves everything as it was; with it every row is encrypted
and the plain columns are gone, and Regie reads the rows as before."""
from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from regie.collect.service import Collections, provider_mac
from regie.share.service import Sends
from regie.store.crypto import KeyRing
from regie.store.db import Database
from regie.store.migrate import current_revision, head_revision, upgrade
from regie.store.models import User
from tests.conftest import fast_settings

PROVIDER = "ggzdekust@medmij"
BEFORE = "0019"  # the revision before 0020


def _old_rows(db: Database, keyring: KeyRing) -> dict[str, str]:
    ids = {"user": "u" * 32, "plain": "c" * 32, "sealed": "d" * 32, "consent": "k" * 32, "send": "s" * 32}
    user = ids["user"]
    now = datetime.now(UTC).replace(tzinfo=None)
    wrapped = keyring.new_wrapped_data_key(user)
    cipher = keyring.user_cipher(user, wrapped)
    token = cipher.encrypt(b"refresh-token", f"regie-consent|{user}|{ids['consent']}".encode())
    # A collection the web process sealed before (0011 to 0019): encrypted, plain emptied.
    sealed = {part: cipher.encrypt(value, f"regie-collection|{user}|{ids['sealed']}|{part}".encode())
              for part, value in (("provider", b"huisartsdevries@medmij"), ("services", b'["49"]'))}
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (id, email, password_hash, wrapped_data_key, is_admin, created_at, password_changed_at)"
            " VALUES (:id, 'oud@voorbeeld.nl', 'x', :key, :no, :now, :now)"),
            {"id": user, "key": wrapped, "no": False, "now": now})
        connection.execute(text(
            "INSERT INTO collections (id, user_id, batch_id, position, provider, services, state, channel,"
            " long_lived, created_at, reference, new_count, progress)"
            " VALUES (:id, :user, :batch, 0, :provider, :services, 'done', 'web', :no, :now, 'RGE-AAAA-BBBB', 3,"
            " :progress)"),
            {"id": ids["plain"], "user": user, "batch": "b" * 32, "provider": PROVIDER,
             "services": json.dumps(["50", "51"]), "no": False, "now": now,
             "progress": json.dumps({"services": {"50": {"done": 2, "total": 2}}, "resources": 4})})
        connection.execute(text(
            "INSERT INTO collections (id, user_id, batch_id, position, provider_hash, provider_encrypted,"
            " services_encrypted, state, channel, long_lived, created_at, reference, new_count)"
            " VALUES (:id, :user, :batch, 1, :hash, :provider, :services, 'done', 'web', :no, :now,"
            " 'RGE-CCCC-DDDD', 0)"),
            {"id": ids["sealed"], "user": user, "batch": "b" * 32, "hash": "h" * 64, "provider": sealed["provider"],
             "services": sealed["services"], "no": False, "now": now})
        connection.execute(text(
            "INSERT INTO medmij_consents (id, user_id, provider, scope, token_encrypted, created_at, updated_at,"
            " schedule_days, next_run_at, email_new_data)"
            " VALUES (:id, :user, :provider, :scope, :token, :now, :now, 7, :next, :yes)"),
            {"id": ids["consent"], "user": user, "provider": PROVIDER, "scope": "ggzdekust~50 ggzdekust~51",
             "token": token, "now": now, "next": now + timedelta(days=7), "yes": True})
        connection.execute(text(
            "INSERT INTO medmij_sends (id, user_id, kind, provider, service_id, state, channel, bundle_encrypted,"
            " entries, reference, created_at)"
            " VALUES (:id, :user, 'measurements', :provider, '904', 'sent', 'web', :bundle, 2, 'RGE-EEEE-FFFF',"
            " :now)"),
            {"id": ids["send"], "user": user, "provider": PROVIDER, "now": now,
             "bundle": cipher.encrypt(b"{}", f"regie-send|{user}|{ids['send']}|bundle".encode())})
    return ids


def _plain_cells(db: Database) -> str:
    with db.engine.connect() as connection:
        return " ".join(str(v) for table in ("collections", "medmij_consents", "medmij_sends")
                        for row in connection.execute(text(f"SELECT * FROM {table}"))
                        for v in row if not isinstance(v, (bytes, memoryview))).casefold()


def test_0020_encrypts_old_rows_and_drops_the_plain_columns(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    upgrade(db.engine, BEFORE)
    keyring = KeyRing(secrets.token_bytes(32))
    ids = _old_rows(db, keyring)

    # Without the master key: a clear refusal, and nothing changed (one transaction).
    with pytest.raises(RuntimeError, match="needs the master key"):
        upgrade(db.engine)
    assert current_revision(db.engine) == BEFORE
    assert "ggzdekust" in _plain_cells(db)

    upgrade(db.engine, keyring=keyring)
    assert current_revision(db.engine) == head_revision()
    columns = {t: {c["name"] for c in inspect(db.engine).get_columns(t)}
               for t in ("collections", "medmij_consents", "medmij_sends")}
    assert not columns["collections"] & {"provider", "services", "progress"}, columns
    assert not columns["medmij_consents"] & {"provider", "scope"}, columns
    assert "provider" not in columns["medmij_sends"] and "provider_encrypted" in columns["medmij_sends"]
    assert "ggz" not in _plain_cells(db)

    settings = fast_settings(tmp_path, database_url)
    collections = Collections(settings, db, keyring)
    view = collections.get(ids["user"], ids["plain"])
    assert view["provider"] == PROVIDER and view["services"] == ["50", "51"]
    assert view["progress"]["resources"] == 4
    assert collections.get(ids["user"], ids["sealed"])["provider"] == "huisartsdevries@medmij"  # untouched
    [consent] = collections.consents(ids["user"])
    assert consent["provider"] == PROVIDER and consent["scope"] == "ggzdekust~50 ggzdekust~51"
    with db.session() as session:
        keys = collections.user_keys(session.get(User, ids["user"]))
    # The lookup hash the migration wrote is the one Regie computes: found by provider.
    collections.drop_consent(ids["user"], PROVIDER)
    assert collections.consents(ids["user"]) == []
    assert provider_mac(keys, PROVIDER) != provider_mac(keys, "huisartsdevries@medmij")
    sends = Sends(settings, db, keyring)
    assert sends.get(ids["user"], ids["send"], with_bundle=False)["provider"] == PROVIDER
    assert [s["provider"] for s in sends.history(ids["user"])] == [PROVIDER]
    # A new send keeps its provider only encrypted too.
    sends.create(ids["user"], kind="measurements", provider="ggzanders@medmij", service_id="904",
                 bundle={"resourceType": "Bundle", "entry": []}, channel="api")
    assert "ggzanders" not in _plain_cells(db)
    db.dispose()
