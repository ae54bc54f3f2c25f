"""Collections in the database: creating them, the pending authorization (state, PKCE,
correlation id), the callback's single-use claim, progress, receipts, history, the
start-up sweep of interrupted jobs and the long-lived consents. Synchronous: the
async runner (``regie.collect.runner``) calls it in worker threads."""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from regie.collect.texts import error_text
from regie.config import Settings
from regie.errors import CodedError
from regie.medmij import oauth
from regie.medmij.services import service as catalogue_service
from regie.store.collect_models import (
    DEFAULT_SCHEDULE_DAYS,
    FINISHED_STATES,
    SCHEDULE_DAYS,
    Collection,
    MedMijConsent,
)
from regie.store.crypto import Cipher, KeyRing
from regie.store.db import Database
from regie.store.driver_sql import fetch_all, mark_of
from regie.store.models import User, new_id
from regie.store.row_shape import RowShape
from regie.store.record import RecordRepository, UserKeys
from regie.store.types import utcnow

log = logging.getLogger("regie.collect")
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: easy to read out over the phone


def new_reference() -> str:
    """``RGE-7K3Q-M9XD``: quoted to a helpdesk, found in the server log."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"RGE-{chars[:4]}-{chars[4:]}"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class CollectError(CodedError):
    pass


def state_user(state: str) -> str:
    """The user id Regie put in front of the OAuth ``state`` (``<user id>.<random>``), so
    the callback's lookup names the user (docs/scale.md); "" when there is none."""
    user, dot, rest = state.partition(".")
    return user if dot and rest and len(user) == 32 else ""


def _by_state(state: str):
    return select(Collection).where(Collection.user_id == state_user(state), Collection.state_hash == _hash(state))


@dataclass(frozen=True)
class ServiceEndpoint:
    id: str
    name: str
    resource_url: str | None  # the first Systeemrol's ResourceEndpointuri


@dataclass(frozen=True)
class ProviderEndpoints:
    """Everything Regie may use to reach one provider: only ever from the ZAL."""

    provider: str  # Zorgaanbiedernaam
    display_name: str
    authorization_url: str
    token_url: str
    services: tuple[ServiceEndpoint, ...]


def normalise_provider(name: str) -> str:
    name = name.strip().lower()
    return name if name.endswith("@medmij") else f"{name}@medmij"


def provider_endpoints(directory, provider: str, service_ids: list[str] | None = None) -> ProviderEndpoints:
    """Look the provider and its services up in the held lists. ``service_ids`` None:
    every service the provider offers that has something to collect."""
    entry = directory.provider(normalise_provider(provider))
    if entry is None:
        raise CollectError("unknown-provider", f"{provider} is not on the ZAL")
    offered = {s.id: s.name for s in entry.services}
    if service_ids is None:
        service_ids = [sid for sid in offered if _collectable(sid)] or list(offered)
    unknown = [sid for sid in service_ids if sid not in offered]
    if unknown or not service_ids:
        raise CollectError("unknown-service", f"{entry.zorgaanbiedernaam} does not offer {', '.join(unknown)}")
    endpoints = []
    auth = token = None
    for sid in dict.fromkeys(service_ids):
        zal = directory.service_endpoints(entry.zorgaanbiedernaam, sid)
        if zal is None:
            raise CollectError("unknown-service", f"{sid} has no endpoints on the ZAL")
        # One consent for all services: the first service's endpoints are used. In the
        # ZAL they are per service; providers use one authorization server in practice.
        auth = auth or zal.authorization_endpoint_uri
        token = token or zal.token_endpoint_uri
        resource = zal.systeemrollen[0].resource_endpoint_uri if zal.systeemrollen else None
        endpoints.append(ServiceEndpoint(sid, offered[sid], resource))
    return ProviderEndpoints(entry.zorgaanbiedernaam, entry.display_name, auth, token, tuple(endpoints))


def _collectable(service_id: str) -> bool:
    try:
        return bool(catalogue_service(service_id).routine())
    except KeyError:
        return False


@dataclass(frozen=True)
class Claim:
    """What the callback needs to exchange the code: held in memory only."""

    collection_id: str
    user_id: str
    batch_id: str
    provider: str
    services: tuple[str, ...]
    verifier: str
    correlation_id: str
    long_lived: bool
    channel: str
    language: str | None = None


def provider_mac(keys: UserKeys, provider: str) -> str:
    """The keyed hash a provider is looked up by: HMAC with the user's index key."""
    return keys.mac("collect-provider", provider)


class Collections:
    def __init__(self, settings: Settings, db: Database, keyring: KeyRing) -> None:
        self.settings = settings
        self.db = db
        self.keyring = keyring

    # --- keys -------------------------------------------------------------------
    def _cipher(self, session, user_id: str) -> Cipher:
        user = session.get(User, user_id)
        return self.keyring.user_cipher(user.id, user.wrapped_data_key)

    def _keys(self, session, user_id: str) -> UserKeys:
        return self.user_keys(session.get(User, user_id))

    def user_keys(self, user: User) -> UserKeys:
        return UserKeys(user.id, self.keyring.user_cipher(user.id, user.wrapped_data_key),
                        self.keyring.user_index_key(user.id, user.wrapped_data_key))

    @staticmethod
    def _aad(user_id: str, row_id: str, part: str) -> bytes:
        return f"regie-collection|{user_id}|{row_id}|{part}".encode()

    @staticmethod
    def _consent_aad(user_id: str, row_id: str, part: str) -> bytes:
        return f"regie-consent|{user_id}|{row_id}|{part}".encode()

    # --- sealed columns: provider, services, progress, scope --------------------------
    def _set_what(self, keys: UserKeys, row: Collection, provider: str, services: list[str]) -> None:
        row.provider_hash = provider_mac(keys, provider)
        row.provider_encrypted = keys.cipher.encrypt(provider.encode(), self._aad(row.user_id, row.id, "provider"))
        row.services_encrypted = keys.cipher.encrypt(json.dumps(services).encode(),
                                                     self._aad(row.user_id, row.id, "services"))

    def _provider(self, cipher: Cipher, row: Collection) -> str:
        return cipher.decrypt(row.provider_encrypted, self._aad(row.user_id, row.id, "provider")).decode()

    def _services(self, cipher: Cipher, row: Collection) -> list[str]:
        return json.loads(cipher.decrypt(row.services_encrypted, self._aad(row.user_id, row.id, "services")))

    def _set_progress(self, cipher: Cipher, row_id: str, user_id: str, progress: dict[str, Any]) -> bytes:
        return cipher.encrypt(json.dumps(progress).encode(), self._aad(user_id, row_id, "progress"))

    def _progress(self, cipher: Cipher, row: Collection) -> dict[str, Any] | None:
        if row.progress_encrypted is not None:
            return json.loads(cipher.decrypt(row.progress_encrypted, self._aad(row.user_id, row.id, "progress")))
        return None

    def _set_consent_what(self, keys: UserKeys, row: MedMijConsent, provider: str, scope: str) -> None:
        row.provider_hash = provider_mac(keys, provider)
        row.provider_encrypted = keys.cipher.encrypt(provider.encode(),
                                                     self._consent_aad(row.user_id, row.id, "provider"))
        row.scope_encrypted = keys.cipher.encrypt(scope.encode(), self._consent_aad(row.user_id, row.id, "scope"))

    def _consent_provider(self, cipher: Cipher, row: MedMijConsent) -> str:
        return cipher.decrypt(row.provider_encrypted, self._consent_aad(row.user_id, row.id, "provider")).decode()

    def _consent_scope(self, cipher: Cipher, row: MedMijConsent) -> str:
        return cipher.decrypt(row.scope_encrypted, self._consent_aad(row.user_id, row.id, "scope")).decode()

    def _consent_for(self, session, keys: UserKeys, provider: str) -> MedMijConsent | None:
        return session.scalar(select(MedMijConsent).where(
            MedMijConsent.user_id == keys.user_id, MedMijConsent.provider_hash == provider_mac(keys, provider)))

    @property
    def client_id(self) -> str:
        return self.settings.rp_id  # the host name of REGIE_PUBLIC_URL, as on the OCL

    @property
    def redirect_uri(self) -> str:
        return f"{self.settings.public_url.rstrip('/')}/collect/callback"

    # --- creating -----------------------------------------------------------------
    def create(self, user_id: str, endpoints: ProviderEndpoints, *, channel: str, session_id: str | None = None,
               long_lived: bool = False, batch_id: str | None = None, position: int = 0,
               language: str | None = None) -> str:
        with self.db.session() as session:
            row = Collection(
                id=new_id(), user_id=user_id, batch_id=batch_id or new_id(), position=position,
                state="pending", channel=channel, long_lived=long_lived, session_id=session_id,
                reference=new_reference(), created_at=utcnow(), new_count=0, language=language,
            )
            self._set_what(self._keys(session, user_id), row, endpoints.provider, [s.id for s in endpoints.services])
            session.add(row)
            return row.id

    def authorize(self, user_id: str, collection_id: str, endpoints: ProviderEndpoints,
                  *, session_id: str | None = None) -> str:
        """A fresh authorization request for a pending collection (state, PKCE verifier and
        correlation id replace any earlier ones, so only the newest link works)."""
        request = oauth.authorization_request(
            endpoints.authorization_url, client_id=self.client_id, redirect_uri=self.redirect_uri,
            provider=endpoints.provider, service_ids=[s.id for s in endpoints.services],
            long_lived=self._long_lived(user_id, collection_id), state_prefix=f"{user_id}.",
        )
        with self.db.session() as session:
            row = session.get(Collection, (user_id, collection_id))
            if row is None or row.user_id != user_id or row.state != "pending":
                raise CollectError("not-pending")
            cipher = self._cipher(session, user_id)
            row.state_hash = _hash(request.state)
            row.verifier_encrypted = cipher.encrypt(request.verifier.encode(), self._aad(user_id, row.id, "verifier"))
            row.correlation_id = request.correlation_id
            row.authorize_expires_at = utcnow() + timedelta(minutes=self.settings.collect_authorize_minutes)
            if session_id is not None:
                row.session_id = session_id
        return request.url

    def _long_lived(self, user_id: str, collection_id: str) -> bool:
        with self.db.session() as session:
            row = session.get(Collection, (user_id, collection_id))
            return bool(row and row.long_lived)

    def claim(self, state: str, session_id: str | None) -> Claim:
        """The callback's check: a known state, not used, not expired, and (when a web
        session started it) the same session. Single use: the state is cleared."""
        now = utcnow()
        with self.db.session() as session:
            row = session.scalar(_by_state(state))
            if row is None or row.state != "pending":
                raise CollectError("state-mismatch", "unknown or used state")
            if row.session_id is not None and row.channel == "web" and row.session_id != session_id:
                raise CollectError("state-mismatch", "state belongs to another session")
            row.state_hash = None  # single use, whatever happens next
            expired = row.authorize_expires_at is None or row.authorize_expires_at < now
            if not expired:
                return self._claimed(session, row, now)
            # Stored first: raising inside the session would roll the failure back and
            # leave the state usable.
            self._finish_failed(session, row, "expired", "authorization took too long")
        raise CollectError("expired", "authorization took too long")

    def _claimed(self, session, row: Collection, now: datetime) -> Claim:
        cipher = self._cipher(session, row.user_id)
        verifier = cipher.decrypt(row.verifier_encrypted, self._aad(row.user_id, row.id, "verifier")).decode()
        row.verifier_encrypted = None
        row.state = "queued"
        row.heartbeat_at = now
        return Claim(row.id, row.user_id, row.batch_id, self._provider(cipher, row),
                     tuple(self._services(cipher, row)), verifier,
                     row.correlation_id or oauth.new_request_id(), row.long_lived, row.channel, row.language)

    def refuse(self, state: str, session_id: str | None, error: str) -> tuple[str, str]:
        """The provider sent an error instead of a code: the collection fails with it.
        Returns (collection id, batch id)."""
        with self.db.session() as session:
            row = session.scalar(_by_state(state))
            if row is None or row.state != "pending" or (
                    row.channel == "web" and row.session_id is not None and row.session_id != session_id):
                raise CollectError("state-mismatch", "unknown or used state")
            row.state_hash = None
            row.verifier_encrypted = None
            code = error if error in ("access_denied", "invalid_scope", "invalid_request", "server_error",
                                      "temporarily_unavailable") else "oauth-error"
            self._finish_failed(session, row, code, f"authorization error {error[:40]}")
            return row.id, row.batch_id

    def _finish_failed(self, session, row: Collection, code: str, detail: str) -> None:
        now = utcnow()
        row.state = "failed"
        row.error_code = code
        row.finished_at = now
        log.warning("collect %s (%s): %s: %s", row.reference, row.id, code, detail)
        cipher = self._cipher(session, row.user_id)
        receipt = {
            "version": 1, "collection": row.id, "reference": row.reference, "provider": self._provider(cipher, row),
            "started_at": row.started_at.isoformat() if row.started_at else None,
            "finished_at": now.isoformat(), "outcome": "failed", "error": code,
            "services": [{"id": sid, "state": "failed", "requests": [], "counts": {}, "resources": 0,
                          "new": 0, "updated": 0, "unchanged": 0, "error": code, "reference": row.reference}
                         for sid in self._services(cipher, row)],
            "totals": {"resources": 0, "new": 0, "updated": 0, "unchanged": 0, "counts": {}},
        }
        self._store_receipt(session, row, receipt)
        self._audit(session, row, receipt)

    def fail(self, user_id: str, collection_id: str, code: str, detail: str) -> None:
        with self.db.session() as session:
            row = session.get(Collection, (user_id, collection_id))
            if row is not None and row.state not in FINISHED_STATES:
                self._finish_failed(session, row, code, detail)

    # --- the job ------------------------------------------------------------------
    def mark_running(self, user_id: str, collection_id: str) -> bool:
        """queued → running. False when the collection is no longer queued: a sweep found it
        stale (its process looked gone) and reported it interrupted, so it must not run."""
        now = utcnow()
        with self.db.session() as session:
            return bool(session.execute(
                update(Collection).where(Collection.user_id == user_id, Collection.id == collection_id,
                                         Collection.state == "queued")
                .values(state="running", started_at=now, heartbeat_at=now)).rowcount)

    def heartbeat(self, user_id: str, collection_id: str, progress: dict[str, Any]) -> None:
        with self.db.session() as session:
            sealed = self._set_progress(self._cipher(session, user_id), collection_id, user_id, progress)
            session.execute(update(Collection).where(Collection.user_id == user_id, Collection.id == collection_id,
                                                     Collection.state == "running")
                            .values(heartbeat_at=utcnow(), progress_encrypted=sealed))

    def finish(self, user_id: str, collection_id: str, receipt: dict[str, Any], progress: dict[str, Any]) -> bool:
        """Write the outcome. False when a sweep already reported the collection interrupted
        (its heartbeat was late): that stays the one outcome, with its one receipt and audit
        entry set. What was stored meanwhile stays; trying again adds nothing twice."""
        with self.db.session() as session:
            row = session.get(Collection, (user_id, collection_id), with_for_update=True)
            if row is None or row.state in FINISHED_STATES:
                log.warning("collect %s: finished after it was reported %s; kept that", collection_id,
                            row.state if row is not None else "gone")
                return False
            row.state = "failed" if receipt["outcome"] == "failed" else "done"
            row.error_code = receipt.get("error")
            row.finished_at = utcnow()
            row.heartbeat_at = row.finished_at
            row.progress_encrypted = self._set_progress(self._cipher(session, row.user_id), row.id, row.user_id,
                                                        progress)
            row.new_count = receipt["totals"]["new"]
            receipt["reference"] = row.reference
            receipt["finished_at"] = row.finished_at.isoformat()
            receipt["started_at"] = row.started_at.isoformat() if row.started_at else None
            self._store_receipt(session, row, receipt)
            self._audit(session, row, receipt)
            return True

    def _store_receipt(self, session, row: Collection, receipt: dict[str, Any]) -> None:
        cipher = self._cipher(session, row.user_id)
        row.receipt_encrypted = cipher.encrypt(json.dumps(receipt).encode(), self._aad(row.user_id, row.id, "receipt"))

    def _audit(self, session, row: Collection, receipt: dict[str, Any]) -> None:
        """One audit entry set per collection: outcome in the action; the collection, its
        reference code, the number of services and the counts as targets. The provider and
        the services are medical content: they stay in the encrypted collection row and
        receipt the collection id points to, never in the plain audit table."""
        totals = receipt["totals"]
        keys = UserKeys(row.user_id, None, b"")  # type: ignore[arg-type]  # audit needs no keys
        repo = RecordRepository(session, keys)
        repo.audit(row.user_id, f"collect-{receipt['outcome']}", [
            row.id, f"reference {row.reference}", f"services {len(receipt.get('services') or [])}",
            f"resources {totals['resources']} new {totals['new']}"[:40],
        ], "collect")
        # Prometheus: collections finished by provider, service and outcome (regie.ops.metrics):
        # counted over all patients, never per patient.
        try:
            from regie.ops.metrics import observe_collection

            observe_collection(receipt.get("provider") or "", receipt)
        except Exception:  # metrics never break a collection
            log.debug("collection metrics not recorded", exc_info=True)

    def sweep_interrupted(self, now: datetime | None = None, user_id: str | None = None,
                          keep: Container[str] = ()) -> int:
        """Collections left queued/running whose heartbeat is stale belonged to a process
        that stopped. Mark them interrupted, with a receipt that says so. Runs at start-up
        and then every ``collect_sweep_seconds`` in each web process (a process that crashed
        and came back at once, or never came back, leaves its collections to the others);
        *keep* are the ones this process runs itself, never interrupted from under it.
        The one scan across users (by state and heartbeat, indexed: a multi-shard query on
        Citus, docs/scale.md); each row is then locked and written by its (user_id, id),
        skipping rows another transaction holds, so a heartbeat written meanwhile either
        lands first (the row no longer matches) or finds it interrupted.
        With *user_id*: only that patient's (a scheduled re-collect run again after its
        worker died)."""
        now = now or utcnow()
        limit = now - timedelta(seconds=self.settings.collect_stale_after_seconds)
        stale = (Collection.state.in_(("queued", "running")),
                 (Collection.heartbeat_at.is_(None)) | (Collection.heartbeat_at < limit))
        swept = 0
        with self.db.session() as session:
            found = session.execute(select(Collection.user_id, Collection.id).where(
                *((Collection.user_id == user_id,) if user_id is not None else ()), *stale)).all()
            for owner, collection_id in found:
                if collection_id in keep:
                    continue
                # Locked by its key (one shard on Citus), still stale, unless another
                # process holds it right now.
                row = session.scalars(select(Collection).where(
                    Collection.user_id == owner, Collection.id == collection_id, *stale,
                ).with_for_update(skip_locked=True)).first()
                if row is not None:
                    self._interrupt(session, row, now)
                    swept += 1
        return swept

    def interrupt(self, user_id: str, collection_id: str) -> None:
        with self.db.session() as session:
            row = session.get(Collection, (user_id, collection_id))
            if row is not None and row.state in ("queued", "running"):
                self._interrupt(session, row, utcnow())

    def _interrupt(self, session, row: Collection, now: datetime) -> None:
        cipher = self._cipher(session, row.user_id)
        progress = self._progress(cipher, row) or {}
        done = progress.get("services", {})
        row.state = "interrupted"
        row.error_code = "interrupted"
        row.finished_at = now
        log.warning("collect %s (%s): interrupted (last heartbeat %s)", row.reference, row.id, row.heartbeat_at)
        receipt = {
            "version": 1, "collection": row.id, "reference": row.reference, "provider": self._provider(cipher, row),
            "started_at": row.started_at.isoformat() if row.started_at else None,
            "finished_at": now.isoformat(), "outcome": "interrupted", "error": "interrupted",
            "services": [{"id": sid, "state": "interrupted", "requests": [], "counts": {},
                          "resources": done.get(sid, {}).get("resources", 0), "new": 0, "updated": 0,
                          "unchanged": 0, "error": "interrupted", "reference": row.reference}
                         for sid in self._services(cipher, row)],
            "totals": {"resources": progress.get("resources", 0), "new": 0, "updated": 0, "unchanged": 0,
                       "counts": {}},
        }
        self._store_receipt(session, row, receipt)
        self._audit(session, row, receipt)

    # --- reading ------------------------------------------------------------------
    def get(self, user_id: str, collection_id: str) -> dict[str, Any] | None:
        with self.db.session() as session:
            row = session.scalar(select(Collection).where(Collection.user_id == user_id,
                                                          Collection.id == collection_id))
            if row is None:
                return None
            return self._view(session, row)

    def batch(self, user_id: str, batch_id: str) -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.scalars(select(Collection).where(
                Collection.user_id == user_id, Collection.batch_id == batch_id).order_by(Collection.position)).all()
            cipher = self._cipher(session, user_id) if rows else None
            return [self._view(session, r, cipher=cipher) for r in rows]

    def history(self, user_id: str, limit: int = 100) -> list[dict[str, Any]]:
        # A read only (the start page asks on every visit): no BEGIN and COMMIT round trips.
        with self.db.reading() as session:
            rows = session.scalars(select(Collection).where(Collection.user_id == user_id)
                                   .order_by(Collection.created_at.desc()).limit(limit)).all()
            cipher = self._cipher(session, user_id) if rows else None
            return [self._view(session, r, receipt=False, cipher=cipher) for r in rows]

    def latest_finished(self, user: User, limit: int = 100) -> list[dict[str, Any]]:
        """The start page's "Last collected": per provider its latest finished (done, failed,
        interrupted) collection among the ``limit`` newest, newest first. The same rows, as
        the same dicts, as ``history(user.id, limit)`` filtered that way, for less CPU: one
        plain SQL statement on an autocommit connection (no ORM query, no users query for the
        key), and only the rows shown are decrypted. A row's provider is decrypted only when
        its keyed hash was not seen yet (the same hash is the same provider, so such a row
        could only be left out)."""
        with self.db.autocommit_engine.connect() as connection:
            shape, sql = _latest_query(connection.dialect)
            rows = fetch_all(connection, sql, (user.id, limit))
        state_at, hash_at = shape.keys.index("state"), shape.keys.index("provider_hash")
        cipher: Cipher | None = None
        hashes: set[str] = set()
        providers: set[str] = set()
        latest: list[dict[str, Any]] = []
        for raw in rows:
            if raw[state_at] not in FINISHED_STATES:
                continue
            provider_hash = raw[hash_at]
            if provider_hash is not None:
                if provider_hash in hashes:
                    continue
                hashes.add(provider_hash)
            row = shape.instance(shape.values(raw))
            cipher = cipher or self.keyring.user_cipher(user.id, user.wrapped_data_key)
            provider = self._provider(cipher, row)
            if provider not in providers:
                providers.add(provider)
                latest.append(self._view(None, row, receipt=False, cipher=cipher))
        return latest

    def unfinished_batches(self, user_id: str) -> list[str]:
        with self.db.session() as session:
            rows = session.scalars(select(Collection.batch_id).where(
                Collection.user_id == user_id, Collection.state.in_(("pending", "queued", "running")))
                .order_by(Collection.created_at.desc())).all()
            return list(dict.fromkeys(rows))

    def _view(self, session, row: Collection, *, receipt: bool = True, cipher: Cipher | None = None) -> dict[str, Any]:
        now = utcnow()
        cipher = cipher or self._cipher(session, row.user_id)
        expired = (row.state == "pending" and row.authorize_expires_at is not None
                   and row.authorize_expires_at < now)
        data: dict[str, Any] = {
            "id": row.id, "batch": row.batch_id, "position": row.position, "provider": self._provider(cipher, row),
            "services": self._services(cipher, row), "state": row.state, "channel": row.channel,
            "long_lived": row.long_lived, "reference": row.reference,
            "created_at": row.created_at.isoformat(),
            "started_at": row.started_at.isoformat() if row.started_at else None,
            "finished_at": row.finished_at.isoformat() if row.finished_at else None,
            "authorization_expired": expired, "error": row.error_code, "new": row.new_count,
            "progress": self._progress(cipher, row),
            "receipt": None,
        }
        if receipt and row.receipt_encrypted is not None:
            data["receipt"] = json.loads(cipher.decrypt(row.receipt_encrypted, self._aad(row.user_id, row.id, "receipt")))
        return data

    # --- long-lived consents --------------------------------------------------------
    def keep_consent(self, user_id: str, provider: str, scope: str, refresh_token: str,
                     language: str | None = None) -> None:
        now = utcnow()
        with self.db.session() as session:
            keys = self._keys(session, user_id)
            row = self._consent_for(session, keys, provider)
            if row is None:
                row = MedMijConsent(id=new_id(), user_id=user_id, created_at=now,
                                    schedule_days=DEFAULT_SCHEDULE_DAYS, email_new_data=True,
                                    next_run_at=now + timedelta(days=DEFAULT_SCHEDULE_DAYS))
                session.add(row)
            self._set_consent_what(keys, row, provider, scope)
            if language:
                row.language = language
            row.updated_at = now
            row.token_encrypted = keys.cipher.encrypt(refresh_token.encode(),
                                                      f"regie-consent|{user_id}|{row.id}".encode())

    def consents(self, user_id: str) -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.scalars(select(MedMijConsent).where(MedMijConsent.user_id == user_id)
                                   .order_by(MedMijConsent.created_at)).all()
            cipher = self._cipher(session, user_id) if rows else None
            return [{"id": r.id, "provider": self._consent_provider(cipher, r), "scope": self._consent_scope(cipher, r),
                     "language": r.language, "created_at": r.created_at,
                     "updated_at": r.updated_at, "schedule_days": r.schedule_days,
                     "next_run_at": r.next_run_at if r.schedule_days else None,
                     "last_run_at": r.last_run_at, "email_new_data": r.email_new_data} for r in rows]

    def set_schedule(self, user_id: str, consent_id: str, days: int, email_new_data: bool,
                     now: datetime | None = None, language: str | None = None) -> bool:
        """The patient's choice: re-collect every *days* days (one of SCHEDULE_DAYS; never
        more than daily; 0 = never) and whether to get an e-mail about new data."""
        if days not in SCHEDULE_DAYS:
            raise ValueError(f"schedule_days must be one of {SCHEDULE_DAYS}")
        now = now or utcnow()
        with self.db.session() as session:
            row = session.scalar(select(MedMijConsent).where(MedMijConsent.user_id == user_id,
                                                             MedMijConsent.id == consent_id))
            if row is None:
                return False
            if language:  # the language the patient uses now is the one the e-mail is in
                row.language = language
            if days != row.schedule_days:
                # The next run counts from the last one (or from now): never sooner than a day.
                base = row.last_run_at or now
                row.next_run_at = max(base + timedelta(days=days), now + timedelta(days=1)) if days else None
            row.schedule_days = days
            row.email_new_data = email_new_data
            row.updated_at = now
            return True

    # --- staying up to date (regie.collect.schedule) ----------------------------------
    def due_consents(self, now: datetime | None = None) -> list[tuple[str, str]]:
        """(user id, consent id) of long-lived consents whose scheduled re-collect is due:
        a scan across users by time (the scheduler's, a multi-shard query on Citus,
        docs/scale.md); each is then taken by its (user_id, id)."""
        now = now or utcnow()
        with self.db.session() as session:
            return [(u, c) for u, c in session.execute(select(MedMijConsent.user_id, MedMijConsent.id).where(
                MedMijConsent.schedule_days > 0,
                MedMijConsent.next_run_at.is_(None) | (MedMijConsent.next_run_at <= now),
            ).order_by(MedMijConsent.next_run_at)).all()]

    def start_scheduled(self, user_id: str, consent_id: str,
                        now: datetime | None = None) -> tuple[Claim, str] | None:
        """Take a due consent: move its next run on (so a second worker, or a rerun of the
        job, skips it), make a collection (channel ``schedule``, queued) of the services in
        its scope, and return its claim with the refresh token (memory only). None when the
        consent is gone or no longer due."""
        now = now or utcnow()
        with self.db.session() as session:
            row = session.get(MedMijConsent, (user_id, consent_id))
            if row is None or not row.schedule_days or (row.next_run_at is not None and row.next_run_at > now):
                return None
            previous = row.next_run_at
            moved = session.execute(
                update(MedMijConsent).where(
                    MedMijConsent.user_id == user_id, MedMijConsent.id == consent_id,
                    MedMijConsent.next_run_at.is_(None) if previous is None else MedMijConsent.next_run_at == previous,
                ).values(next_run_at=now + timedelta(days=row.schedule_days), last_run_at=now)
            ).rowcount
            if not moved:
                return None
            keys = self._keys(session, row.user_id)
            provider = self._consent_provider(keys.cipher, row)
            scope = self._consent_scope(keys.cipher, row)
            services = [part.partition("~")[2] for part in scope.split() if "~" in part]
            token = keys.cipher.decrypt(row.token_encrypted, f"regie-consent|{row.user_id}|{row.id}".encode()).decode()
            collection = Collection(
                id=new_id(), user_id=row.user_id, batch_id=new_id(), position=0,
                state="queued", channel="schedule", long_lived=True, language=row.language,
                reference=new_reference(), created_at=now, heartbeat_at=now, new_count=0,
            )
            self._set_what(keys, collection, provider, services)
            session.add(collection)
            claim = Claim(collection.id, row.user_id, collection.batch_id, provider, tuple(services),
                          "", oauth.new_request_id(), True, "schedule", row.language)
            return claim, token

    def drop_consent(self, user_id: str, provider: str) -> None:
        """The provider refused the refresh token (withdrawn or expired there): forget it."""
        with self.db.session() as session:
            row = self._consent_for(session, self._keys(session, user_id), provider)
            if row is not None:
                session.delete(row)

    def revoke_consent(self, user_id: str, consent_id: str) -> bool:
        with self.db.session() as session:
            row = session.scalar(select(MedMijConsent).where(MedMijConsent.user_id == user_id,
                                                             MedMijConsent.id == consent_id))
            if row is None:
                return False
            session.delete(row)
            return True


# What Collections._view(receipt=False) reads of a row (a column it reads that is left out
# here fails at once: the instance is detached).
_LATEST_COLUMNS = ("id", "user_id", "batch_id", "position", "provider_hash", "provider_encrypted",
                   "services_encrypted", "state", "channel", "long_lived", "reference", "created_at",
                   "started_at", "finished_at", "authorize_expires_at", "error_code", "new_count",
                   "progress_encrypted")
_LATEST_QUERIES: dict[tuple[str, str], tuple[RowShape, str]] = {}  # per (dialect, driver), built once


def _latest_query(dialect: Any) -> tuple[RowShape, str]:
    """The shape and statement of :meth:`Collections.latest_finished`: the same rows, in the
    same order, as ``history()``, the newest ``limit`` of the user's."""
    key = (dialect.name, dialect.driver)
    found = _LATEST_QUERIES.get(key)
    if found is None:
        shape = RowShape(Collection, dialect, _LATEST_COLUMNS)
        mark = mark_of(dialect)
        found = _LATEST_QUERIES[key] = (shape, f"SELECT {shape.select} FROM collections WHERE collections.user_id"
                                               f" = {mark} ORDER BY collections.created_at DESC LIMIT {mark}")
    return found


def message_for(code: str | None, gettext) -> str | None:
    text = error_text(code)
    return gettext(text) if text else None
