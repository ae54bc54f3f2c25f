"""Sends in the database: the Bundle exactly as previewed, the pending authorization
(state hash, PKCE verifier, correlation id), the callback's single-use claim, the outcome
and the receipt in the audit log. Synchronous; the pages call it in worker threads.

Mirrors the collector's state handling (``regie.collect.service``): the state is only
stored as a SHA-256, is single use, expires after ``collect_authorize_minutes`` and is
bound to the web session that started it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from regie.collect.service import ProviderEndpoints, new_reference, state_user
from regie.config import Settings
from regie.errors import CodedError
from regie.medmij import oauth
from regie.store.crypto import Cipher, KeyRing
from regie.store.db import Database
from regie.store.models import User, new_id
from regie.store.record import RecordRepository, UserKeys
from regie.store.share_models import MedMijSend
from regie.store.types import utcnow

KINDS = ("measurements", "document", "questionnaire", "correction")


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class ShareError(CodedError):
    pass


def provider_of(cipher: Cipher, row: MedMijSend) -> str:
    """The send's provider (Zorgaanbiedernaam), decrypted with the user's data key."""
    if row.provider_encrypted is None:
        return ""
    return cipher.decrypt(row.provider_encrypted, f"regie-send|{row.user_id}|{row.id}|provider".encode()).decode()


@dataclass(frozen=True)
class SendClaim:
    """What the callback needs to exchange the code and send: held in memory only."""

    send_id: str
    user_id: str
    provider: str
    service_id: str
    kind: str
    channel: str
    verifier: str = field(repr=False)
    correlation_id: str = ""
    bundle: dict[str, Any] = field(default_factory=dict, repr=False)


class Sends:
    def __init__(self, settings: Settings, db: Database, keyring: KeyRing) -> None:
        self.settings = settings
        self.db = db
        self.keyring = keyring

    def _cipher(self, session, user_id: str) -> Cipher:
        user = session.get(User, user_id)
        return self.keyring.user_cipher(user.id, user.wrapped_data_key)

    @staticmethod
    def _aad(user_id: str, row_id: str, part: str) -> bytes:
        return f"regie-send|{user_id}|{row_id}|{part}".encode()

    @property
    def client_id(self) -> str:
        return self.settings.rp_id

    @property
    def redirect_uri(self) -> str:
        return f"{self.settings.public_url.rstrip('/')}/send/callback"

    # --- creating and authorizing ---------------------------------------------------
    def create(self, user_id: str, *, kind: str, provider: str, service_id: str, bundle: dict[str, Any],
               channel: str, session_id: str | None = None) -> str:
        assert kind in KINDS, kind
        with self.db.session() as session:
            row = MedMijSend(id=new_id(), user_id=user_id, kind=kind, service_id=service_id,
                             state="pending", channel=channel, session_id=session_id,
                             bundle_encrypted=b"", entries=len(bundle.get("entry") or []),
                             reference=new_reference(), created_at=utcnow())
            cipher = self._cipher(session, user_id)
            row.provider_encrypted = cipher.encrypt(provider.encode(), self._aad(user_id, row.id, "provider"))
            row.bundle_encrypted = cipher.encrypt(json.dumps(bundle).encode(), self._aad(user_id, row.id, "bundle"))
            session.add(row)
            return row.id

    def authorize(self, user_id: str, send_id: str, endpoints: ProviderEndpoints,
                  *, session_id: str | None = None) -> str:
        """A fresh authorization request with exactly one scope ``<provider>~<service>``;
        a newer link replaces an older one."""
        with self.db.session() as session:
            row = session.get(MedMijSend, (user_id, send_id))
            if row is None or row.state != "pending":
                raise ShareError("not-pending")
            cipher = self._cipher(session, user_id)
            request = oauth.authorization_request(
                endpoints.authorization_url, client_id=self.client_id, redirect_uri=self.redirect_uri,
                provider=self._provider(cipher, row), service_ids=[row.service_id], state_prefix=f"{user_id}.")
            row.state_hash = _hash(request.state)
            row.verifier_encrypted = cipher.encrypt(
                request.verifier.encode(), self._aad(user_id, row.id, "verifier"))
            row.correlation_id = request.correlation_id
            row.authorize_expires_at = utcnow() + timedelta(minutes=self.settings.collect_authorize_minutes)
            if session_id is not None:
                row.session_id = session_id
        return request.url

    def _pending_row(self, session, state: str, session_id: str | None) -> MedMijSend:
        # The state is ``<user id>.<random>`` (regie.collect.service.state_user): one user's rows.
        row = session.scalar(select(MedMijSend).where(MedMijSend.user_id == state_user(state),
                                                      MedMijSend.state_hash == _hash(state)))
        if row is None or row.state != "pending":
            raise ShareError("state-mismatch", "unknown or used state")
        if row.session_id is not None and row.channel == "web" and row.session_id != session_id:
            raise ShareError("state-mismatch", "state belongs to another session")
        return row

    def claim(self, state: str, session_id: str | None) -> SendClaim:
        """Known state, not used, not expired, same session: single use (cleared here)."""
        with self.db.session() as session:
            row = self._pending_row(session, state, session_id)
            row.state_hash = None
            if row.authorize_expires_at is None or row.authorize_expires_at < utcnow():
                # Stored before raising: an exception in the session would roll it back.
                self._finish(session, row, "failed", None, "expired", None)
            else:
                cipher = self._cipher(session, row.user_id)
                verifier = cipher.decrypt(row.verifier_encrypted, self._aad(row.user_id, row.id, "verifier")).decode()
                bundle = json.loads(cipher.decrypt(row.bundle_encrypted, self._aad(row.user_id, row.id, "bundle")))
                row.verifier_encrypted = None
                row.state = "sending"
                return SendClaim(row.id, row.user_id, self._provider(cipher, row), row.service_id, row.kind,
                                 row.channel, verifier, row.correlation_id or "", bundle)
        raise ShareError("expired", "authorization took too long")

    def refuse(self, state: str, session_id: str | None, error: str) -> str:
        """The provider answered ``error=…`` (no consent, cancelled at DigiD …)."""
        with self.db.session() as session:
            row = self._pending_row(session, state, session_id)
            row.state_hash = None
            row.verifier_encrypted = None
            code = error[:40] if error in ("access_denied", "server_error", "temporarily_unavailable") \
                else "authorization-error"
            self._finish(session, row, "failed", None, code, None)
            return row.id

    def finish(self, user_id: str, send_id: str, *, ok: bool, status: int | None, error: str | None,
               response: dict[str, Any] | None) -> None:
        with self.db.session() as session:
            row = session.get(MedMijSend, (user_id, send_id))
            if row is not None and row.state == "sending":
                self._finish(session, row, "sent" if ok else "failed", status, error, response)

    def _finish(self, session, row: MedMijSend, state: str, status: int | None, error: str | None,
                response: dict[str, Any] | None) -> None:
        row.state = state
        row.http_status = status
        row.error_code = error
        row.sent_at = utcnow()
        if response is not None:
            row.response_encrypted = self._cipher(session, row.user_id).encrypt(
                json.dumps(response).encode(), self._aad(row.user_id, row.id, "response"))
        # The receipt in the audit log: what (kind, count), when (the entry's time),
        # outcome. No medical content: to whom is in the (encrypted) send the id points to,
        # as for collections (a mental-health clinic's name says too much).
        keys = UserKeys(row.user_id, None, b"")  # type: ignore[arg-type]  # audit needs no keys
        outcome = "sent" if state == "sent" else "failed"
        RecordRepository(session, keys).audit(row.user_id, f"send-{outcome}", [
            row.id, f"service {row.service_id} {row.kind}"[:40],
            f"entries {row.entries} status {status or '-'}"[:40],
            *([f"error {error}"[:40]] if error else []),
        ], "web" if row.channel == "web" else "api-session")

    # --- reading ----------------------------------------------------------------------
    def get(self, user_id: str, send_id: str, *, with_bundle: bool = True) -> dict[str, Any] | None:
        with self.db.session() as session:
            row = session.get(MedMijSend, (user_id, send_id))
            if row is None:
                return None
            return self._view(session, row, with_bundle)

    def history(self, user_id: str, limit: int = 100) -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.scalars(select(MedMijSend).where(MedMijSend.user_id == user_id)
                                   .order_by(MedMijSend.created_at.desc()).limit(limit)).all()
            cipher = self._cipher(session, user_id) if rows else None
            return [self._view(session, r, False, cipher) for r in rows]

    def _provider(self, cipher: Cipher, row: MedMijSend) -> str:
        return provider_of(cipher, row)

    def _view(self, session, row: MedMijSend, with_bundle: bool, cipher: Cipher | None = None) -> dict[str, Any]:
        cipher = cipher or self._cipher(session, row.user_id)
        view: dict[str, Any] = {
            "id": row.id, "kind": row.kind, "provider": self._provider(cipher, row), "service": row.service_id,
            "state": row.state, "entries": row.entries, "reference": row.reference,
            "created_at": row.created_at.isoformat(), "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            "http_status": row.http_status, "error": row.error_code,
        }
        if with_bundle:
            view["bundle"] = json.loads(cipher.decrypt(row.bundle_encrypted, self._aad(row.user_id, row.id, "bundle")))
            view["response"] = json.loads(cipher.decrypt(
                row.response_encrypted, self._aad(row.user_id, row.id, "response"))) if row.response_encrypted else None
        return view
