"""collect and share: provider names only encrypted; the plain columns dropped

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-22 04:55:00

Which provider a patient sends to, or collects from, is medical content (a mental-health
clinic). ``medmij_sends.provider`` becomes ``provider_encrypted`` (the user's data key,
associated data ``regie-send|<user>|<send>|provider``), and the plain ``provider``,
``services``, ``scope`` and ``progress`` columns that migration 0011 left in
``collections`` and ``medmij_consents`` are dropped.

Existing rows are converted here, in the migration's one transaction: that needs the
users' data keys, so the master key. ``regie db upgrade`` passes it
(``regie.store.migrate.upgrade(engine, keyring=...)``); without it, a database that
still has such rows stops with a clear message and is left as it was. Rows that the web
process sealed before (``Collections.seal_legacy_rows``, 0011 to 0019) need nothing.
"""
from __future__ import annotations

import hashlib
import hmac
import json

import sqlalchemy as sa
from alembic import context, op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


class _Keys:
    """The data key and index key of each user, unwrapped with the master key once."""

    def __init__(self, bind, keyring) -> None:
        self.bind = bind
        self.keyring = keyring
        self._users: dict[str, tuple[object, bytes]] = {}

    def of(self, user_id: str):
        if user_id not in self._users:
            wrapped = self.bind.execute(sa.text("SELECT wrapped_data_key FROM users WHERE id = :id"),
                                        {"id": user_id}).scalar_one()
            wrapped = bytes(wrapped)
            self._users[user_id] = (self.keyring.user_cipher(user_id, wrapped),
                                    self.keyring.user_index_key(user_id, wrapped))
        return self._users[user_id]

    def seal(self, user_id: str, value: str, aad: str) -> bytes:
        return self.of(user_id)[0].encrypt(value.encode(), aad.encode())

    def mac(self, user_id: str, *parts: str) -> str:
        # As regie.store.record.UserKeys.mac (the lookup hash of collections and consents).
        return hmac.digest(self.of(user_id)[1], "\x1f".join(parts).encode(), "sha256").hex()


def _rows(bind, sql: str) -> list:
    return list(bind.execute(sa.text(sql)).mappings())


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("medmij_sends") as batch:
        batch.add_column(sa.Column("provider_encrypted", sa.LargeBinary(), nullable=True))

    sends = _rows(bind, "SELECT user_id, id, provider FROM medmij_sends WHERE provider IS NOT NULL")
    collections = _rows(bind, "SELECT user_id, id, provider, services, progress, provider_encrypted,"
                              " services_encrypted, progress_encrypted FROM collections"
                              " WHERE provider IS NOT NULL OR services IS NOT NULL OR progress IS NOT NULL")
    consents = _rows(bind, "SELECT user_id, id, provider, scope, provider_encrypted, scope_encrypted"
                           " FROM medmij_consents WHERE provider IS NOT NULL OR scope IS NOT NULL")
    if sends or collections or consents:
        keyring = context.config.attributes.get("keyring")
        if keyring is None:
            raise RuntimeError(
                f"migration 0020 encrypts the provider names of {len(sends)} sends, {len(collections)} "
                f"collections and {len(consents)} lasting permissions and needs the master key for that: "
                "run `regie db upgrade` (with REGIE_HOME or the master key setting of this installation)")
        keys = _Keys(bind, keyring)
        for row in sends:
            bind.execute(sa.text("UPDATE medmij_sends SET provider_encrypted = :sealed"
                                 " WHERE user_id = :user AND id = :id"),
                         {"sealed": keys.seal(row["user_id"], row["provider"],
                                              f"regie-send|{row['user_id']}|{row['id']}|provider"),
                          "user": row["user_id"], "id": row["id"]})
        for row in collections:
            _seal_collection(bind, keys, row)
        for row in consents:
            _seal_consent(bind, keys, row)

    with op.batch_alter_table("medmij_sends") as batch:
        batch.drop_column("provider")
    with op.batch_alter_table("collections") as batch:
        batch.drop_column("provider")
        batch.drop_column("services")
        batch.drop_column("progress")
    with op.batch_alter_table("medmij_consents") as batch:
        batch.drop_column("provider")
        batch.drop_column("scope")


def _seal_collection(bind, keys: _Keys, row) -> None:
    user, rid = row["user_id"], row["id"]
    aad = f"regie-collection|{user}|{rid}|"
    values: dict[str, object] = {}
    if row["provider"] is not None and row["provider_encrypted"] is None:
        values["provider_encrypted"] = keys.seal(user, row["provider"], aad + "provider")
        values["provider_hash"] = keys.mac(user, "collect-provider", row["provider"])
    if row["services"] is not None and row["services_encrypted"] is None:
        values["services_encrypted"] = keys.seal(user, json.dumps(json.loads(row["services"])), aad + "services")
    if row["progress"] is not None and row["progress_encrypted"] is None:
        values["progress_encrypted"] = keys.seal(user, row["progress"], aad + "progress")
    _update(bind, "collections", user, rid, values)


def _seal_consent(bind, keys: _Keys, row) -> None:
    user, rid = row["user_id"], row["id"]
    aad = f"regie-consent|{user}|{rid}|"
    values: dict[str, object] = {}
    if row["provider"] is not None and row["provider_encrypted"] is None:
        values["provider_encrypted"] = keys.seal(user, row["provider"], aad + "provider")
        values["provider_hash"] = keys.mac(user, "collect-provider", row["provider"])
    if row["scope"] is not None and row["scope_encrypted"] is None:
        values["scope_encrypted"] = keys.seal(user, row["scope"], aad + "scope")
    _update(bind, "medmij_consents", user, rid, values)


def _update(bind, table: str, user: str, rid: str, values: dict[str, object]) -> None:
    if not values:
        return
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    bind.execute(sa.text(f"UPDATE {table} SET {assignments} WHERE user_id = :user AND id = :id"),
                 {**values, "user": user, "id": rid})


def downgrade() -> None:
    # The names are only encrypted now: the plain columns come back empty (nullable).
    with op.batch_alter_table("medmij_consents") as batch:
        batch.add_column(sa.Column("scope", sa.Text(), nullable=True))
        batch.add_column(sa.Column("provider", sa.String(120), nullable=True))
    with op.batch_alter_table("collections") as batch:
        batch.add_column(sa.Column("progress", sa.Text(), nullable=True))
        batch.add_column(sa.Column("services", sa.Text(), nullable=True))
        batch.add_column(sa.Column("provider", sa.String(120), nullable=True))
    with op.batch_alter_table("medmij_sends") as batch:
        batch.add_column(sa.Column("provider", sa.String(200), nullable=True))
        batch.drop_column("provider_encrypted")
