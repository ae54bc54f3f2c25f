"""Questionnaire tasks and authorizations in the database (synchronous; the pages call it
in worker threads). Everything medical is encrypted under the user's data key; every
query names the user. The OAuth state is kept as the collector keeps it: only its
SHA-256, single use, expiring, bound to the web session that started it."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from regie.collect.service import ProviderEndpoints, state_user
from regie.config import Settings
from regie.errors import CodedError
from regie.medmij import oauth
from regie.store.crypto import Cipher, KeyRing
from regie.store.db import Database
from regie.store.models import User
from regie.store.questionnaire_models import QuestionnaireAccess, QuestionnaireTask
from regie.store.record import RecordRepository, UserKeys
from regie.store.types import utcnow

SERVICE = "906"
TOKEN_KEEP_SECONDS = 900  # an access token is kept at most this long, never longer than it lives


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class TaskError(CodedError):
    pass


@dataclass(frozen=True)
class AccessClaim:
    access_id: str
    user_id: str
    provider: str
    purpose: str
    task_row: str | None
    verifier: str = field(repr=False)
    correlation_id: str = ""


@dataclass
class TaskView:
    id: str
    provider: str
    state: str
    task: dict[str, Any]
    questionnaire: dict[str, Any] | None
    base_url: str
    draft: dict[str, list[str]]
    send_id: str | None
    updated_at: datetime


class Tasks:
    def __init__(self, settings: Settings, db: Database, keyring: KeyRing) -> None:
        self.settings = settings
        self.db = db
        self.keyring = keyring

    def _cipher(self, session, user_id: str) -> Cipher:
        user = session.get(User, user_id)
        return self.keyring.user_cipher(user.id, user.wrapped_data_key)

    @staticmethod
    def _aad(kind: str, user_id: str, row_id: str, part: str) -> bytes:
        return f"regie-{kind}|{user_id}|{row_id}|{part}".encode()

    @property
    def redirect_uri(self) -> str:
        return f"{self.settings.public_url.rstrip('/')}/questionnaires/callback"

    def _audit(self, session, user_id: str, action: str, targets: list[str], channel: str = "web") -> None:
        keys = UserKeys(user_id, None, b"")  # type: ignore[arg-type]  # audit needs no keys
        RecordRepository(session, keys).audit(user_id, action, [t[:40] for t in targets], channel)

    # --- authorizations -----------------------------------------------------------------
    def authorize(self, user_id: str, provider: str, endpoints: ProviderEndpoints, *, purpose: str = "fetch",
                  task_row: str | None = None, session_id: str | None = None) -> str:
        """A fresh authorization request with exactly one scope ``<provider>~906``."""
        request = oauth.authorization_request(
            endpoints.authorization_url, client_id=self.settings.rp_id, redirect_uri=self.redirect_uri,
            provider=provider, service_ids=[SERVICE], state_prefix=f"{user_id}.")
        with self.db.session() as session:
            row = QuestionnaireAccess(user_id=user_id, provider=provider, purpose=purpose, task_row=task_row,
                                      session_id=session_id, state_hash=_hash(request.state),
                                      correlation_id=request.correlation_id, created_at=utcnow(),
                                      authorize_expires_at=utcnow() + timedelta(
                                          minutes=self.settings.collect_authorize_minutes))
            session.add(row)
            session.flush()
            row.verifier_encrypted = self._cipher(session, user_id).encrypt(
                request.verifier.encode(), self._aad("qaccess", user_id, row.id, "verifier"))
        return request.url

    def _pending(self, session, state: str, session_id: str | None) -> QuestionnaireAccess:
        # The state is ``<user id>.<random>``: the lookup names the user (docs/scale.md).
        row = session.scalar(select(QuestionnaireAccess).where(QuestionnaireAccess.user_id == state_user(state),
                                                               QuestionnaireAccess.state_hash == _hash(state)))
        if row is None or row.state != "pending":
            raise TaskError("state-mismatch", "unknown or used state")
        if row.session_id is not None and row.session_id != session_id:
            raise TaskError("state-mismatch", "state belongs to another session")
        return row

    def claim(self, state: str, session_id: str | None) -> AccessClaim:
        with self.db.session() as session:
            row = self._pending(session, state, session_id)
            row.state_hash = None
            if row.authorize_expires_at is not None and row.authorize_expires_at >= utcnow():
                verifier = self._cipher(session, row.user_id).decrypt(
                    row.verifier_encrypted, self._aad("qaccess", row.user_id, row.id, "verifier")).decode()
                row.verifier_encrypted = None
                return AccessClaim(row.id, row.user_id, row.provider, row.purpose, row.task_row, verifier,
                                   row.correlation_id or "")
            # Expired: stored before raising (an exception in the session would roll it back).
            row.state, row.error_code = "failed", "expired"
        raise TaskError("expired", "authorization took too long")

    def refuse(self, state: str, session_id: str | None, error: str) -> None:
        with self.db.session() as session:
            row = self._pending(session, state, session_id)
            row.state_hash = row.verifier_encrypted = None
            row.state = "failed"
            row.error_code = error[:40] if error in ("access_denied", "server_error", "temporarily_unavailable") \
                else "authorization-error"

    def granted(self, user_id: str, access_id: str, token: str | None, expires_in: int | None,
                error: str | None = None) -> None:
        """After the callback: keep the token (encrypted, briefly) or note the error."""
        with self.db.session() as session:
            row = session.scalar(select(QuestionnaireAccess).where(
                QuestionnaireAccess.user_id == user_id, QuestionnaireAccess.id == access_id))
            if row is None:
                return
            row.state = "failed" if error else "done"
            row.error_code = error
            if token and not error:
                keep = min(TOKEN_KEEP_SECONDS, max(0, (expires_in or TOKEN_KEEP_SECONDS) - 30))
                row.token_encrypted = self._cipher(session, user_id).encrypt(
                    token.encode(), self._aad("qaccess", user_id, row.id, "token"))
                row.token_expires_at = utcnow() + timedelta(seconds=keep)

    def token(self, user_id: str, provider: str) -> str | None:
        """A still valid access token for *provider* from a recent authorization."""
        now = utcnow()
        with self.db.session() as session:
            rows = session.scalars(select(QuestionnaireAccess).where(
                QuestionnaireAccess.user_id == user_id, QuestionnaireAccess.provider == provider,
                QuestionnaireAccess.token_encrypted.is_not(None))).all()
            best = None
            for row in rows:
                if row.token_expires_at is None or row.token_expires_at <= now:
                    row.token_encrypted = None  # expired: forget it
                    row.token_expires_at = None
                elif best is None or row.token_expires_at > best.token_expires_at:
                    best = row
            if best is None:
                return None
            return self._cipher(session, user_id).decrypt(
                best.token_encrypted, self._aad("qaccess", user_id, best.id, "token")).decode()

    def forget_token(self, user_id: str, provider: str) -> None:
        with self.db.session() as session:
            for row in session.scalars(select(QuestionnaireAccess).where(
                    QuestionnaireAccess.user_id == user_id, QuestionnaireAccess.provider == provider,
                    QuestionnaireAccess.token_encrypted.is_not(None))):
                row.token_encrypted = None
                row.token_expires_at = None

    def access_error(self, user_id: str, access_id: str) -> str | None:
        with self.db.session() as session:
            row = session.scalar(select(QuestionnaireAccess).where(
                QuestionnaireAccess.user_id == user_id, QuestionnaireAccess.id == access_id))
            return row.error_code if row is not None else None

    # --- tasks --------------------------------------------------------------------------
    def _key(self, user_id: str, provider: str, task_id: str) -> str:
        return _hash(f"{user_id}|{provider}|{task_id}")

    def _row(self, session, user_id: str, row_id: str) -> QuestionnaireTask | None:
        return session.scalar(select(QuestionnaireTask).where(
            QuestionnaireTask.user_id == user_id, QuestionnaireTask.id == row_id))

    def _content(self, session, row: QuestionnaireTask) -> dict[str, Any]:
        return json.loads(self._cipher(session, row.user_id).decrypt(
            row.content_encrypted, self._aad("qtask", row.user_id, row.id, "content")))

    def _write(self, session, row: QuestionnaireTask, content: dict[str, Any]) -> None:
        row.content_encrypted = self._cipher(session, row.user_id).encrypt(
            json.dumps(content).encode(), self._aad("qtask", row.user_id, row.id, "content"))

    def store_found(self, user_id: str, provider: str, base_url: str, found: list[dict[str, Any]]) -> list[str]:
        """The Tasks a search found (status requested): new ones are added, known ones
        refreshed; tasks of this provider still waiting here but no longer offered are
        marked ``gone`` (withdrawn or done elsewhere). Returns the row ids found."""
        now = utcnow()
        ids = []
        with self.db.session() as session:
            keys = {self._key(user_id, provider, str(t.get("id"))): t for t in found if t.get("id")}
            existing = {r.task_key: r for r in session.scalars(select(QuestionnaireTask).where(
                QuestionnaireTask.user_id == user_id, QuestionnaireTask.provider == provider))}
            for key, task in keys.items():
                row = existing.get(key)
                if row is None:
                    row = QuestionnaireTask(user_id=user_id, provider=provider, task_key=key, state="new",
                                            content_encrypted=b"", created_at=now, updated_at=now)
                    session.add(row)
                    session.flush()
                    self._write(session, row, {"task": task, "questionnaire": None, "base_url": base_url})
                elif row.state in ("new", "gone"):
                    content = self._content(session, row)
                    content.update(task=task, base_url=base_url)
                    self._write(session, row, content)
                    row.state, row.updated_at = "new", now
                ids.append(row.id)
            for key, row in existing.items():
                if key not in keys and row.state == "new":
                    row.state, row.updated_at = "gone", now
            self._audit(session, user_id, "questionnaire-tasks", [provider, f"found {len(keys)}"])
        return ids

    def accepted(self, user_id: str, row_id: str, task: dict[str, Any], questionnaire: dict[str, Any]) -> None:
        with self.db.session() as session:
            row = self._row(session, user_id, row_id)
            if row is None:
                raise TaskError("not-found")
            content = self._content(session, row)
            content.update(task=task, questionnaire=questionnaire)
            self._write(session, row, content)
            row.state, row.updated_at = "accepted", utcnow()
            self._audit(session, user_id, "questionnaire-accepted", [row.id, row.provider])

    def save_draft(self, user_id: str, row_id: str, raw: dict[str, list[str]]) -> None:
        with self.db.session() as session:
            row = self._row(session, user_id, row_id)
            if row is None:
                raise TaskError("not-found")
            row.draft_encrypted = self._cipher(session, user_id).encrypt(
                json.dumps(raw).encode(), self._aad("qtask", user_id, row.id, "draft"))
            row.updated_at = utcnow()

    def link_send(self, user_id: str, row_id: str, send_id: str) -> None:
        with self.db.session() as session:
            row = self._row(session, user_id, row_id)
            if row is not None:
                row.send_id = send_id
                row.updated_at = utcnow()

    def mark_sent(self, user_id: str, send_id: str) -> None:
        with self.db.session() as session:
            row = session.scalar(select(QuestionnaireTask).where(
                QuestionnaireTask.user_id == user_id, QuestionnaireTask.send_id == send_id))
            if row is not None:
                row.state, row.updated_at = "sent", utcnow()

    def get(self, user_id: str, row_id: str) -> TaskView | None:
        with self.db.session() as session:
            row = self._row(session, user_id, row_id)
            return self._view(session, row) if row is not None else None

    def list(self, user_id: str) -> list[TaskView]:
        with self.db.session() as session:
            rows = session.scalars(select(QuestionnaireTask).where(QuestionnaireTask.user_id == user_id)
                                   .order_by(QuestionnaireTask.updated_at.desc()).limit(200)).all()
            return [self._view(session, r) for r in rows]

    def _view(self, session, row: QuestionnaireTask) -> TaskView:
        content = self._content(session, row)
        draft = {}
        if row.draft_encrypted:
            draft = json.loads(self._cipher(session, row.user_id).decrypt(
                row.draft_encrypted, self._aad("qtask", row.user_id, row.id, "draft")))
        return TaskView(row.id, row.provider, row.state, content["task"], content.get("questionnaire"),
                        content.get("base_url", ""), draft, row.send_id, row.updated_at)
