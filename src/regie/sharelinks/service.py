"""Share links: make, list, revoke, and open them (see docs/share-links.md).

Each public method is one unit of work. The owner's methods take the owner's
:class:`~regie.store.models.User`; the recipient's (:meth:`ShareLinks.view`,
:meth:`ShareLinks.check_code`) take only the token from the URL. What a link shows is
read from the encrypted record when it is opened, never copied, so revoking or
expiry takes effect at once. Every opening is written to the owner's audit log.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from regie.accounts.errors import Throttled
from regie.accounts.throttle import ThrottleKey, Throttler
from regie.config import Settings
from regie.sharelinks import tokens
from regie.sharelinks.emergency import EmergencyCards, ResolvedCard
from regie.sharelinks.selection import Section, Selection, patient_details, resolve
from regie.store.crypto import KeyRing
from regie.store.db import Database
from regie.store.ingest import RecordService
from regie.store.models import User, new_id
from regie.store.record import UserKeys
from regie.store.record_queries import RecordQueries
from regie.store.sharelinks_models import ShareLink, ShareLinkOpen
from regie.store.types import utcnow

#: Validity a patient can choose, in hours: one hour to thirty days.
VALIDITY_HOURS = (1, 4, 24, 72, 168, 336, 720)
#: Wrong codes before the link pauses (for ``Settings.lock_minutes``), and before it is blocked for good.
CODE_PAUSE_AFTER = 5
CODE_BLOCK_AFTER = 10
LABEL_MAX = 100
NAME_MAX = 120
#: Audit: the actor of an opening is the link (the recipient has no account).
AUDIT_OPEN = "share-open"


class ShareLinkError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class Created:
    link_id: str
    token: str
    code: str | None
    expires_at: datetime


@dataclass
class LinkSummary:
    """A link as its owner sees it (never the secret: it is not stored)."""

    id: str
    label: str
    patient_name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    blocked_at: datetime | None
    state: str  # active, expired, revoked, blocked
    open_count: int
    last_opened_at: datetime | None
    code: str | None  # shown while the link is active
    has_code: bool
    failed_codes: int
    selection: Selection
    opens: list[datetime] = field(default_factory=list)


@dataclass
class SharedView:
    """What the recipient's page shows."""

    state: str  # ok, code, unknown, gone
    link_id: str = ""
    patient_name: str = ""
    birth_date: str | None = None
    shared_by: str | None = None  # None: the patient shared it themself
    created_at: datetime | None = None
    expires_at: datetime | None = None
    sections: list[Section] = field(default_factory=list)
    card: ResolvedCard | None = None
    files: set[str] = field(default_factory=set)  # items with a document the recipient can open


@dataclass(frozen=True)
class CodeCheck:
    outcome: str  # ok, wrong, locked, gone, unknown
    retry_at: datetime | None = None


def _aad(user_id: str, link_id: str) -> bytes:
    return f"regie-share-link|{user_id}|{link_id}".encode()


def state_of(link: ShareLink, now: datetime) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if link.blocked_at is not None:
        return "blocked"
    if link.expires_at <= now:
        return "expired"
    return "active"


class ShareLinks:
    def __init__(self, settings: Settings, db: Database, keyring: KeyRing) -> None:
        self.settings = settings
        self.db = db
        self.records = RecordService(db, keyring)
        self.throttler = Throttler(settings)
        self.cards = EmergencyCards()

    # -- the owner ---------------------------------------------------------------
    def defaults(self, owner: User) -> dict[str, Any]:
        """The patient's name as the record has it (the form's suggestion)."""
        keys = self.records.keys(owner)
        with self.records.open(keys) as repo:
            name, _ = patient_details(RecordQueries(repo))
        return {"patient_name": name}

    def create(self, owner: User, *, actor_id: str, selection: Selection, hours: int, label: str,
               patient_name: str, shared_by: str | None = None, with_code: bool = True,
               now: datetime | None = None) -> Created:
        errors: dict[str, str] = {}
        label, patient_name = " ".join(label.split()), " ".join(patient_name.split())
        if hours not in VALIDITY_HOURS:
            errors["hours"] = "share-validity-invalid"
        if not patient_name:
            errors["patient_name"] = "share-name-required"
        elif len(patient_name) > NAME_MAX:
            errors["patient_name"] = "share-name-too-long"
        if len(label) > LABEL_MAX:
            errors["label"] = "share-label-too-long"
        if errors:
            raise ShareLinkError(errors)
        now = now or utcnow()
        keys = self.records.keys(owner)
        token, token_hash = tokens.new_token(owner.id)
        code = tokens.new_code() if with_code else None
        link_id = new_id()
        details = {"label": label, "patient_name": patient_name, "shared_by": shared_by,
                   "selection": selection.to_json(), "code": code}
        expires = now + timedelta(hours=hours)
        with self.db.session() as session:
            session.add(ShareLink(
                id=link_id, user_id=owner.id, token_hash=token_hash, created_by=actor_id,
                details_encrypted=keys.cipher.encrypt(orjson.dumps(details), _aad(owner.id, link_id)),
                has_code=code is not None, created_at=now, expires_at=expires, failed_codes=0, open_count=0,
            ))
        return Created(link_id, token, code, expires)

    def list_for(self, owner: User, now: datetime | None = None) -> list[LinkSummary]:
        now = now or utcnow()
        keys = self.records.keys(owner)
        with self.db.session() as session:
            rows = session.scalars(
                select(ShareLink).where(ShareLink.user_id == owner.id)
                .order_by(ShareLink.created_at.desc(), ShareLink.id.desc())
            ).all()
            summaries = [self._summary(keys, row, now) for row in rows]
            by_id = {summary.id: summary for summary in summaries}
            # Every opening in one query (the export takes them along; the list shows counts).
            for link_id, at in session.execute(
                select(ShareLinkOpen.link_id, ShareLinkOpen.at).where(ShareLinkOpen.user_id == owner.id)
                .order_by(ShareLinkOpen.at.desc())
            ):
                if link_id in by_id:
                    by_id[link_id].opens.append(at)
            return summaries

    def get(self, owner: User, link_id: str, now: datetime | None = None) -> LinkSummary | None:
        now = now or utcnow()
        keys = self.records.keys(owner)
        with self.db.session() as session:
            row = self._link(session, owner.id, link_id)
            if row is None:
                return None
            summary = self._summary(keys, row, now)
            summary.opens = list(session.scalars(
                select(ShareLinkOpen.at).where(ShareLinkOpen.user_id == owner.id, ShareLinkOpen.link_id == link_id)
                .order_by(ShareLinkOpen.at.desc()).limit(500)
            ))
            return summary

    def revoke(self, owner: User, link_id: str, now: datetime | None = None) -> bool:
        """Stop a link at once; True when it was still usable."""
        with self.db.session() as session:
            result = session.execute(
                update(ShareLink).where(ShareLink.user_id == owner.id, ShareLink.id == link_id,
                                        ShareLink.revoked_at.is_(None))
                .values(revoked_at=now or utcnow())
            )
            return bool(result.rowcount)

    def _link(self, session: Session, user_id: str, link_id: str) -> ShareLink | None:
        return session.scalar(select(ShareLink).where(ShareLink.user_id == user_id, ShareLink.id == link_id))

    def _details(self, keys: UserKeys, row: ShareLink) -> dict[str, Any]:
        return orjson.loads(keys.cipher.decrypt(row.details_encrypted, _aad(row.user_id, row.id)))

    def _summary(self, keys: UserKeys, row: ShareLink, now: datetime) -> LinkSummary:
        details = self._details(keys, row)
        state = state_of(row, now)
        return LinkSummary(
            id=row.id, label=details.get("label") or "", patient_name=details.get("patient_name") or "",
            created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at,
            blocked_at=row.blocked_at, state=state, open_count=row.open_count, last_opened_at=row.last_opened_at,
            code=details.get("code") if state == "active" else None, has_code=row.has_code,
            failed_codes=row.failed_codes,
            selection=Selection.from_json(details.get("selection") or {}),
        )

    # -- the recipient -------------------------------------------------------------
    def _find(self, session: Session, token: str) -> tuple[ShareLink, User] | None:
        parsed = tokens.parse(token)
        if parsed is None:
            return None
        user_id, token_hash = parsed
        link = session.scalar(select(ShareLink).where(ShareLink.user_id == user_id,
                                                      ShareLink.token_hash == token_hash))
        if link is None:
            return None
        owner = session.get(User, user_id)
        if owner is None or not owner.wrapped_data_key:
            return None  # an account being deleted: its key is already gone
        return link, owner

    def link_id_of(self, token: str) -> str | None:
        with self.db.session() as session:
            found = self._find(session, token)
            return found[0].id if found else None

    def view(self, token: str, *, unlocked: bool, now: datetime | None = None) -> SharedView:
        """Open a link: resolve what it shows from the record now, count it, audit it."""
        now = now or utcnow()
        with self.db.session() as session:
            found = self._find(session, token)
            if found is None:
                return SharedView("unknown")
            link, owner = found
            if state_of(link, now) != "active":
                return SharedView("gone", link_id=link.id)
            if link.has_code and not unlocked:
                return SharedView("code", link_id=link.id)
            link_id = link.id
        keys = self.records.keys(owner)
        with self.records.open(keys) as repo:
            session = repo.session
            # Read again inside this unit of work: a revoke that committed meanwhile wins.
            link = self._link(session, owner.id, link_id)
            if link is None or state_of(link, now) != "active":
                return SharedView("gone", link_id=link_id)
            details = self._details(keys, link)
            selection = Selection.from_json(details.get("selection") or {})
            queries = RecordQueries(repo)
            sections = resolve(selection, queries, now)
            card = None
            if selection.emergency_card:
                content = self.cards.load(session, keys)
                card = self.cards.resolve(content, queries) if content is not None else None
            files = queries.document_ids_with_file(i for section in sections for i in section.items)
            _, birth_date = patient_details(queries)
            session.add(ShareLinkOpen(id=new_id(), user_id=owner.id, link_id=link_id, at=now))
            session.execute(update(ShareLink).where(ShareLink.user_id == owner.id, ShareLink.id == link_id)
                            .values(open_count=ShareLink.open_count + 1, last_opened_at=now))
            shown = [i["id"] for s in sections for i in s.items]
            if card is not None:
                shown += [i["id"] for items in card.sections.values() for i in items]
            repo.audit(link_id, AUDIT_OPEN, [link_id], "web")
            repo.audit(link_id, "list", list(dict.fromkeys(shown)), "web")
            return SharedView(
                "ok", link_id=link_id, patient_name=details.get("patient_name") or "", birth_date=birth_date,
                shared_by=details.get("shared_by"), created_at=link.created_at, expires_at=link.expires_at,
                sections=sections, card=card, files=files,
            )

    def document(self, token: str, item_id: str, *, unlocked: bool,
                 now: datetime | None = None) -> tuple[str, bytes, str] | None:
        """(content type, bytes, title) of a document the link shows, or None: only an item the
        link's choice shows now, only while the link is usable. Audited as the link's."""
        now = now or utcnow()
        with self.db.session() as session:
            found = self._find(session, token)
        if found is None:
            return None
        link, owner = found
        if state_of(link, now) != "active" or (link.has_code and not unlocked):
            return None
        keys = self.records.keys(owner)
        with self.records.open(keys) as repo:
            link = self._link(repo.session, owner.id, link.id)
            if link is None or state_of(link, now) != "active":
                return None
            selection = Selection.from_json(self._details(keys, link).get("selection") or {})
            queries = RecordQueries(repo)
            shown = {i["id"] for section in resolve(selection, queries, now) for i in section.items}
            if item_id not in shown:
                return None
            document = queries.document_file(item_id)
            if document is not None:
                repo.audit(link.id, "read_document", [item_id], "web")
            return document

    def check_code(self, token: str, code: str, ip: str, now: datetime | None = None) -> CodeCheck:
        """The recipient's access code. Wrong codes are counted per link (a pause after
        five, blocked for good after ten) and per address (like passwords)."""
        now = now or utcnow()
        address = [ThrottleKey(f"share:ip:{ip}", self.settings.ip_lock_failures)]
        with self.db.session() as session:
            found = self._find(session, token)
            if found is None:
                return CodeCheck("unknown")
            link, owner = found
            if state_of(link, now) != "active":
                return CodeCheck("gone")
            if not link.has_code:
                return CodeCheck("ok")
            if link.locked_until is not None and link.locked_until > now:
                return CodeCheck("locked", link.locked_until)
            try:
                self.throttler.check(session, address, now)
            except Throttled as exc:  # this address guessed too much, on any link
                return CodeCheck("locked", exc.retry_at)
            expected = self._details(self.records.keys(owner), link).get("code") or ""
            if tokens.same_code(code, expected):
                return CodeCheck("ok")
            failures = link.failed_codes + 1
            values: dict[str, Any] = {"failed_codes": failures}
            if failures >= CODE_BLOCK_AFTER:
                values["blocked_at"] = now
            elif failures % CODE_PAUSE_AFTER == 0:
                values["locked_until"] = now + timedelta(minutes=self.settings.lock_minutes)
            session.execute(update(ShareLink).where(ShareLink.user_id == owner.id, ShareLink.id == link.id)
                            .values(**values))
            self.throttler.fail(session, address, now)
        if "blocked_at" in values:
            return CodeCheck("gone")
        if "locked_until" in values:
            return CodeCheck("locked", values["locked_until"])
        return CodeCheck("wrong")
