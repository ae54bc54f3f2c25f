"""Invitations, acceptance, scopes, revocation, and records of children.

Each method is one database transaction. Tokens (invitation, a child's own login) are 32
random bytes shown once in a link; only their SHA-256 is stored, they work once and expire.
Every change is written to the owner's audit log, naming who did it.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from regie.access.ages import AgeBand, age_on, band_of, today_in_nl
from regie.access.grants import birth_aad, birth_date_of, dump_categories, grant_for, name_aad, parse_categories
from regie.access.policy import Grant
from regie.accounts.service import Accounts, normalise_email
from regie.store.delegation_models import Delegation, ManagedRecord
from regie.store.models import User, new_id
from regie.store.record import RecordRepository
from regie.store.types import utcnow
from regie.store.ingest import RecordService


INVITE_DAYS = 7
CHILD_EMAIL_DOMAIN = "child.invalid"  # a reserved top-level domain: never a real address
NO_PASSWORD = "!"  # not an Argon2 hash: no password ever matches it


class DelegationError(Exception):
    """A refused step, with a message id for the page (``code``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class DelegationView:
    id: str
    kind: str
    email: str
    name: str
    delegate_user_id: str | None
    categories: frozenset[str] | None
    can_add: bool
    can_collect: bool
    valid_until: datetime | None
    created_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None
    invite_expires_at: datetime | None
    kept_at: datetime | None
    state: str  # invited, active, expired, revoked, invitation-expired


@dataclass(frozen=True)
class RecordChoice:
    owner_id: str
    label: str
    grant: Grant
    is_child: bool


@dataclass(frozen=True)
class ChildInfo:
    name: str
    birth_date: date
    age: int
    band: AgeBand
    claimed: bool
    claim_pending: bool


class Delegations:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.db = accounts.db
        self.keyring = accounts.keyring
        self.records = RecordService(accounts.db, accounts.keyring)
        # Tests set the clock to try each WGBO age band.
        self.clock: Callable[[], datetime] = utcnow

    def today(self) -> date:
        return today_in_nl(self.clock())

    # -- the policy's input ---------------------------------------------------------
    def grant(self, actor: User, owner_id: str) -> Grant | None:
        with self.db.session() as session:
            return grant_for(session, self.keyring, actor, owner_id, self.clock(), self.today())

    def owner_label(self, owner_id: str) -> str:
        with self.db.session() as session:
            owner = session.get(User, owner_id)
            if owner is None:
                return ""
            managed = session.get(ManagedRecord, owner_id)
            if managed is not None:
                return self._child_name(owner, managed)
            return owner.email

    # -- caregivers: invite, accept, change, end ------------------------------------
    def invite(self, owner: User, by: User, *, email: str, name: str, kind: str = "caregiver",
               categories: set[str] | None, can_add: bool = False, can_collect: bool = False,
               valid_until: datetime | None = None) -> tuple[str, str]:
        """A new invitation: (delegation id, token for the link)."""
        email = normalise_email(email)
        if email == by.email or email == owner.email:
            raise DelegationError("invite-self")
        now = self.clock()
        if valid_until is not None and valid_until <= now:
            raise DelegationError("until-past")
        token = secrets.token_urlsafe(32)
        row_id = new_id()
        cipher = self.keyring.user_cipher(owner.id, owner.wrapped_data_key)
        label = cipher.encrypt(json.dumps({"email": email, "name": name.strip()[:100]}).encode(),
                               _label_aad(owner.id, row_id))
        with self.db.session() as session:
            session.add(Delegation(
                id=row_id, user_id=owner.id, kind=kind, categories=dump_categories(categories),
                can_add=can_add, can_collect=can_collect, valid_until=valid_until, label_encrypted=label,
                token_hash=token_hash(token), invite_expires_at=now + timedelta(days=INVITE_DAYS),
                created_by=by.id, created_at=now))
            self._audit(session, owner, by.id, "delegation-invited", row_id)
        return row_id, token

    def invitation(self, token: str) -> tuple[Delegation, str, str] | None:
        """The open invitation of this token, the owner's label and the invited address; or None."""
        with self.db.session() as session:
            row = session.scalar(select(Delegation).where(Delegation.token_hash == token_hash(token)))
            if row is None or row.revoked_at is not None or row.accepted_at is not None:
                return None
            if row.invite_expires_at is None or row.invite_expires_at <= self.clock():
                return None
            owner = session.get(User, row.user_id)
            assert owner is not None
            invited = self._label(owner, row).get("email", "")
            session.expunge(row)
        return row, self.owner_label(row.user_id), invited

    def accept(self, token: str, actor: User) -> Delegation:
        now = self.clock()
        with self.db.session() as session:
            row = session.scalar(select(Delegation).where(Delegation.token_hash == token_hash(token)))
            if row is None or row.revoked_at is not None or row.accepted_at is not None:
                raise DelegationError("invite-unknown")
            if row.invite_expires_at is None or row.invite_expires_at <= now:
                raise DelegationError("invite-expired")
            if row.user_id == actor.id:
                raise DelegationError("invite-own")
            owner = session.get(User, row.user_id)
            assert owner is not None
            # The link is for the address it was sent to: a forwarded or leaked link is no use
            # to an account with another address.
            if self._label(owner, row).get("email") != actor.email:
                raise DelegationError("invite-other-address")
            if session.get(ManagedRecord, actor.id) is not None and row.kind == "parent":
                raise DelegationError("invite-own")
            row.delegate_user_id = actor.id
            row.accepted_at = now
            row.token_hash = None  # single use: the link is dead now
            self._audit(session, owner, actor.id, "delegation-accepted", row.id)
            session.flush()
            session.expunge(row)
            return row

    def update(self, owner: User, by: User, delegation_id: str, *, categories: set[str] | None,
               can_add: bool, can_collect: bool, valid_until: datetime | None) -> None:
        if valid_until is not None and valid_until <= self.clock():
            raise DelegationError("until-past")
        with self.db.session() as session:
            row = self._row(session, owner.id, delegation_id)
            if row.kind == "parent":
                raise DelegationError("parent-scope")
            row.categories = dump_categories(categories)
            row.can_add, row.can_collect, row.valid_until = can_add, can_collect, valid_until
            self._audit(session, owner, by.id, "delegation-changed", row.id)

    def revoke(self, owner: User, by: User, delegation_id: str) -> None:
        """End access now; an open invitation dies with it."""
        with self.db.session() as session:
            row = self._row(session, owner.id, delegation_id)
            if row.revoked_at is None:
                row.revoked_at = self.clock()
                row.token_hash = None
                self._audit(session, owner, by.id, "delegation-revoked", row.id)

    def keep_parent(self, child: User, delegation_id: str, keep: bool) -> None:
        """A child of 16 or older decides whether a parent keeps access."""
        with self.db.session() as session:
            managed = session.get(ManagedRecord, child.id)
            if managed is None or band_of(birth_date_of(self.keyring, child, managed), self.today()) is not AgeBand.FROM_16:
                raise DelegationError("not-16")
            row = self._row(session, child.id, delegation_id)
            if row.kind != "parent" or row.revoked_at is not None:
                raise DelegationError("not-parent")
            if keep:
                row.kept_at = self.clock()
                self._audit(session, child, child.id, "parent-kept", row.id)
            else:
                row.revoked_at = self.clock()
                self._audit(session, child, child.id, "delegation-revoked", row.id)

    def for_owner(self, owner: User) -> list[DelegationView]:
        now = self.clock()
        cipher = self.keyring.user_cipher(owner.id, owner.wrapped_data_key)
        with self.db.session() as session:
            rows = session.scalars(select(Delegation).where(Delegation.user_id == owner.id)
                                   .order_by(Delegation.created_at.desc())).all()
            views = []
            for row in rows:
                label = self._label(owner, row, cipher)
                views.append(DelegationView(
                    row.id, row.kind, label.get("email", ""), label.get("name", ""), row.delegate_user_id,
                    parse_categories(row.categories), row.can_add, row.can_collect, row.valid_until,
                    row.created_at, row.accepted_at, row.revoked_at, row.invite_expires_at, row.kept_at,
                    _state(row, now)))
        return views

    def helping(self, actor: User) -> list[RecordChoice]:
        """The records this person helps with now (each with what they may do there)."""
        with self.db.session() as session:
            owner_ids = list(dict.fromkeys(session.scalars(
                select(Delegation.user_id).where(Delegation.delegate_user_id == actor.id,
                                                 Delegation.revoked_at.is_(None))
                .order_by(Delegation.created_at)).all()))
        choices = []
        for owner_id in owner_ids:
            grant = self.grant(actor, owner_id)
            if grant is not None:
                with self.db.session() as session:
                    is_child = session.get(ManagedRecord, owner_id) is not None
                choices.append(RecordChoice(owner_id, self.owner_label(owner_id), grant, is_child))
        return choices

    def forget_user(self, session: Session, user_id: str) -> None:
        """Account deletion: every delegation to or from this person goes (and so all access)."""
        for row in session.scalars(select(Delegation).where(Delegation.user_id == user_id)).all():
            session.delete(row)
        for row in session.scalars(select(Delegation).where(Delegation.delegate_user_id == user_id)).all():
            session.delete(row)

    # -- children ------------------------------------------------------------------
    def create_child(self, parent: User, name: str, birth_date: date) -> User:
        name = name.strip()
        if not name:
            raise DelegationError("child-name")
        today = self.today()
        if birth_date > today or age_on(birth_date, today) >= 18:
            raise DelegationError("child-age")
        now = self.clock()
        with self.db.session() as session:
            child = User(id=new_id(), password_hash=NO_PASSWORD)
            child.email = f"record-{child.id}@{CHILD_EMAIL_DOMAIN}"
            child.wrapped_data_key = self.keyring.new_wrapped_data_key(child.id)
            session.add(child)
            session.flush()
            cipher = self.keyring.user_cipher(child.id, child.wrapped_data_key)
            session.add(ManagedRecord(
                user_id=child.id, created_by=parent.id, created_at=now,
                name_encrypted=cipher.encrypt(name[:100].encode(), name_aad(child.id)),
                birth_date_encrypted=cipher.encrypt(birth_date.isoformat().encode(), birth_aad(child.id))))
            row_id = new_id()
            session.add(Delegation(
                id=row_id, user_id=child.id, delegate_user_id=parent.id, kind="parent",
                categories=dump_categories(None), can_add=True, can_collect=True,
                label_encrypted=cipher.encrypt(json.dumps({"email": parent.email, "name": ""}).encode(),
                                               _label_aad(child.id, row_id)),
                created_by=parent.id, created_at=now, accepted_at=now))
            session.flush()
            self._audit(session, child, parent.id, "child-created", child.id)
            session.expunge(child)
            return child

    def child_info(self, owner: User) -> ChildInfo | None:
        with self.db.session() as session:
            managed = session.get(ManagedRecord, owner.id)
            if managed is None:
                return None
            birth = birth_date_of(self.keyring, owner, managed)
            today = self.today()
            pending = (managed.claim_token_hash is not None and managed.claim_expires_at is not None
                       and managed.claim_expires_at > self.clock())
            return ChildInfo(self._child_name(owner, managed), birth, age_on(birth, today), band_of(birth, today),
                             managed.claimed_at is not None, pending)

    def invite_child_login(self, child: User, by: User) -> str:
        """A link for the child (12 or older) to make an own login for this record."""
        with self.db.session() as session:
            managed = session.get(ManagedRecord, child.id)
            if managed is None:
                raise DelegationError("not-child")
            if managed.claimed_at is not None:
                raise DelegationError("already-claimed")
            if band_of(birth_date_of(self.keyring, child, managed), self.today()) is AgeBand.UNDER_12:
                raise DelegationError("child-too-young")
            token = secrets.token_urlsafe(32)
            managed.claim_token_hash = token_hash(token)
            managed.claim_expires_at = self.clock() + timedelta(days=INVITE_DAYS)
            self._audit(session, child, by.id, "child-login-invited", child.id)
        return token

    def claim_target(self, token: str) -> tuple[str, str] | None:
        """(child user id, name) for an open claim link."""
        with self.db.session() as session:
            managed = session.scalar(select(ManagedRecord).where(ManagedRecord.claim_token_hash == token_hash(token)))
            if managed is None or managed.claimed_at is not None or managed.claim_expires_at is None \
                    or managed.claim_expires_at <= self.clock():
                return None
            child = session.get(User, managed.user_id)
            assert child is not None
            return child.id, self._child_name(child, managed)

    def claim(self, token: str, email: str, password: str) -> User:
        """The child takes the record over with an own e-mail address and password; the
        second factor follows in the usual enrolment."""
        target = self.claim_target(token)
        if target is None:
            raise DelegationError("invite-unknown")
        email, errors = self.accounts.registration_problems(email, password)
        if errors:
            from regie.accounts.errors import ValidationFailed
            raise ValidationFailed(errors)
        password_hash = self.accounts.passwords.hash(password)
        with self.db.session() as session:
            if self.accounts.by_email(session, email) is not None:
                from regie.accounts.errors import EmailTaken
                raise EmailTaken("This e-mail address already has an account.", field="email")
            managed = session.get(ManagedRecord, target[0])
            child = session.get(User, target[0])
            assert managed is not None and child is not None
            if managed.claim_token_hash != token_hash(token) or managed.claimed_at is not None:
                raise DelegationError("invite-unknown")
            child.email = email
            child.password_hash = password_hash
            managed.claim_token_hash = None
            managed.claimed_at = self.clock()
            self._audit(session, child, child.id, "record-claimed", child.id)
            session.flush()
            session.expunge(child)
            return child

    # -- helpers ------------------------------------------------------------------
    def _row(self, session: Session, owner_id: str, delegation_id: str) -> Delegation:
        row = session.scalar(select(Delegation).where(Delegation.user_id == owner_id,
                                                      Delegation.id == delegation_id))
        if row is None:
            raise DelegationError("unknown")
        return row

    def _label(self, owner: User, row: Delegation, cipher=None) -> dict[str, str]:
        cipher = cipher or self.keyring.user_cipher(owner.id, owner.wrapped_data_key)
        return json.loads(cipher.decrypt(row.label_encrypted, _label_aad(owner.id, row.id)))

    def _child_name(self, owner: User, managed: ManagedRecord) -> str:
        cipher = self.keyring.user_cipher(owner.id, owner.wrapped_data_key)
        return cipher.decrypt(managed.name_encrypted, name_aad(owner.id)).decode()

    def _audit(self, session: Session, owner: User, actor_id: str, action: str, target: str) -> None:
        RecordRepository(session, self.records.keys(owner)).audit(actor_id, action, [target], "web")


def _label_aad(owner_id: str, row_id: str) -> bytes:
    return f"regie-delegation|{owner_id}|{row_id}|label".encode()


def _state(row: Delegation, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.accepted_at is None:
        if row.invite_expires_at is not None and row.invite_expires_at <= now:
            return "invitation-expired"
        return "invited"
    if row.valid_until is not None and row.valid_until <= now:
        return "expired"
    return "active"
