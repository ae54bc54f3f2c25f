"""Accounts: registration, password and second-factor checks, recovery codes, TOTP.

Each public method is one unit of work (one database transaction). Callers in
the web layer run these in a worker thread: Argon2 would block the event loop.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from regie.accounts import activity, email_links, recovery, totp
from regie.accounts.activity import ClientInfo
from regie.accounts.errors import (
    EmailTaken,
    InvalidCredentials,
    InvalidSecondFactor,
    Throttled,
    ValidationFailed,
)
from regie.accounts.passwords import Passwords, password_problem
from regie.accounts.sessions import SessionStore
from regie.accounts.throttle import ThrottleKey, Throttler, account_key, address_key
from regie.config import Settings
from regie.store.crypto import Cipher, KeyRing
from regie.store.db import Database
from regie.store.models import Passkey, RecoveryCode, TotpFactor, User, new_id
from regie.store.types import utcnow


@dataclass(frozen=True, slots=True)
class NewTotp:
    factor_id: str
    secret: str
    uri: str


def normalise_email(raw: str) -> str:
    """Validate and normalise an address (lower case: one person, one account)."""
    # Here, not at the top: its tables take a few hundredths of a second to build, and most
    # processes (the worker, the command line) never check an address.
    from email_validator import EmailNotValidError, validate_email

    raw = (raw or "").strip()
    if not raw:
        raise ValidationFailed({"email": "email-required"})
    try:
        # test_environment: addresses under .test are accepted (demo and sandbox accounts).
        checked = validate_email(raw, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValidationFailed({"email": "email-invalid"}) from exc
    return checked.normalized.lower()


class Accounts:
    def __init__(self, settings: Settings, db: Database, keyring: KeyRing) -> None:
        self.settings = settings
        self.db = db
        self.keyring = keyring
        self.passwords = Passwords(settings)
        self.throttler = Throttler(settings)
        self.sessions = SessionStore(settings)
        # Seconds since the epoch for TOTP; tests move it to make fresh codes.
        self.clock: Callable[[], float] = time.time

    # -- lookups ---------------------------------------------------------------
    def user(self, session: Session, user_id: str) -> User | None:
        return session.get(User, user_id)

    def by_email(self, session: Session, email: str) -> User | None:
        return session.scalar(select(User).where(User.email == email.strip().lower()))

    def cipher(self, user: User) -> Cipher:
        return self.keyring.user_cipher(user.id, user.wrapped_data_key)

    def has_second_factor(self, session: Session, user_id: str) -> bool:
        totps = session.scalar(
            select(func.count()).select_from(TotpFactor).where(
                TotpFactor.user_id == user_id, TotpFactor.confirmed_at.is_not(None)
            )
        )
        keys = session.scalar(select(func.count()).select_from(Passkey).where(Passkey.user_id == user_id))
        return bool(totps or keys)

    # -- registration ----------------------------------------------------------
    def registration_problems(self, email: str, password: str) -> tuple[str, dict[str, str]]:
        """The normalised address and a message code per wrong field (empty when all is well)."""
        errors: dict[str, str] = {}
        try:
            email = normalise_email(email)
        except ValidationFailed as exc:
            errors.update(exc.errors)
        problem = password_problem(password, email if "email" not in errors else "")
        if problem:
            errors["password"] = problem
        return email, errors

    def register(self, email: str, password: str, client: ClientInfo, *, is_admin: bool = False) -> User:
        email, errors = self.registration_problems(email, password)
        if errors:
            raise ValidationFailed(errors)
        password_hash = self.passwords.hash(password)
        with self.db.session() as session:
            if self.by_email(session, email) is not None:
                raise EmailTaken("This e-mail address already has an account.", field="email")
            return self.create_user(session, email, password_hash, client, is_admin=is_admin)

    def create_user(self, session: Session, email: str, password_hash: str, client: ClientInfo, *,
                    is_admin: bool = False) -> User:
        """The account row with its own data key (the caller checked the address is free)."""
        user = User(email=email, password_hash=password_hash, is_admin=is_admin)
        user.id = user.id or new_id()
        user.wrapped_data_key = self.keyring.new_wrapped_data_key(user.id)
        session.add(user)
        session.flush()
        activity.record(session, user.id, "registered", client)
        return user

    # -- password --------------------------------------------------------------
    def check_password(self, email: str, password: str, client: ClientInfo) -> User:
        """Return the user when the password is right; throttle and record failures."""
        now = utcnow()
        email_key = (email or "").strip().lower()
        keys = [account_key("pw", email_key, self.settings), address_key("pw", client.ip, self.settings)]
        with self.db.session() as session:
            self.throttler.check(session, keys, now)
            user = self.by_email(session, email_key) if email_key else None
        # Always hash, so a missing account costs as long as a wrong password.
        ok = self.passwords.verify(user.password_hash if user else None, password or "")
        with self.db.session() as session:
            if ok and user is not None:
                self.throttler.succeed(session, keys)
                if self.passwords.needs_rehash(user.password_hash):
                    fresh = session.get(User, user.id)
                    if fresh is not None:
                        fresh.password_hash = self.passwords.hash(password)
                return user
            lock = self.throttler.fail(session, keys, now)
            if user is not None:
                activity.record(session, user.id, "login-failed-password", client)
                if lock is not None:
                    activity.record(session, user.id, "account-locked", client, "password")
        if lock is not None:
            raise lock
        raise InvalidCredentials("E-mail address or password is wrong.")

    def change_password(self, user_id: str, current: str, new: str, client: ClientInfo) -> None:
        with self.db.session() as session:
            user = session.get(User, user_id)
            assert user is not None
            email, old_hash = user.email, user.password_hash
        if not self.passwords.verify(old_hash, current or ""):
            raise ValidationFailed({"current_password": "current-password-wrong"})
        problem = password_problem(new, email)
        if problem is None and new == current:
            problem = "password-same-as-old"
        if problem:
            raise ValidationFailed({"new_password": problem})
        new_hash = self.passwords.hash(new)
        with self.db.session() as session:
            user = session.get(User, user_id)
            assert user is not None
            user.password_hash = new_hash
            user.password_changed_at = utcnow()
            email_links.forget_for_user(session, user_id)  # a reset link sent earlier stops working
            activity.record(session, user_id, "password-changed", client)

    # -- second factor ---------------------------------------------------------
    def verify_second_factor(self, user_id: str, code: str, client: ClientInfo, kind: str = "auto") -> str:
        """Check a TOTP code or a recovery code; return which one was used.

        The two are throttled apart: recovery codes are far too long to guess,
        so a lock caused by someone guessing app codes never stops the owner
        from getting in with a recovery code.
        """
        if kind == "auto":
            kind = "recovery" if recovery.looks_like_recovery_code(code or "") else "totp"
        assert kind in ("totp", "recovery")
        now = utcnow()
        self.require_second_factor_allowed(user_id, client, kind)
        with self.db.session() as session:
            user = session.get(User, user_id)
            assert user is not None
            matched = (
                self._match_totp(session, user, code) if kind == "totp" else self._match_recovery(session, user, code, now)
            )
            if matched:
                self.throttler.succeed(session, self._second_factor_keys(user, client, kind))
                if kind == "recovery":
                    activity.record(session, user_id, "recovery-code-used", client)
                return kind
        self.record_second_factor_failure(user_id, client, kind)
        raise InvalidSecondFactor("The code is not right.")

    def require_second_factor_allowed(self, user_id: str, client: ClientInfo, kind: str = "totp") -> None:
        """Raise Throttled while this account or address must wait or is locked."""
        with self.db.session() as session:
            user = session.get(User, user_id)
            assert user is not None
            self.throttler.check(session, self._second_factor_keys(user, client, kind), utcnow())

    def record_second_factor_failure(self, user_id: str, client: ClientInfo, kind: str = "totp") -> None:
        """Count a wrong code or passkey; raise Throttled when this failure locks the account."""
        with self.db.session() as session:
            user = session.get(User, user_id)
            assert user is not None
            lock = self.throttler.fail(session, self._second_factor_keys(user, client, kind), utcnow())
            activity.record(session, user_id, "login-failed-second-factor", client, kind)
            if lock is not None:
                activity.record(session, user_id, "account-locked", client, kind)
        if lock is not None:
            raise lock

    def second_factor_throttle(self, user_id: str, client: ClientInfo, kind: str = "totp") -> Throttled | None:
        """The current lock or delay, if any, so a page can say so before the user types."""
        try:
            self.require_second_factor_allowed(user_id, client, kind)
        except Throttled as exc:
            return exc
        return None

    def _second_factor_keys(self, user: User, client: ClientInfo, kind: str) -> list[ThrottleKey]:
        # Passkeys share the "totp" counters: both are the everyday second factor.
        prefix = "rc" if kind == "recovery" else "2fa"
        return [account_key(prefix, user.email, self.settings), address_key(prefix, client.ip, self.settings)]

    def _match_totp(self, session: Session, user: User, code: str) -> bool:
        cipher = self.cipher(user)
        for factor in session.scalars(
            select(TotpFactor).where(TotpFactor.user_id == user.id, TotpFactor.confirmed_at.is_not(None))
        ):
            secret = cipher.decrypt(factor.secret_encrypted, _totp_aad(user.id, factor.id)).decode()
            step = totp.matching_step(secret, code or "", factor.last_used_step, self.clock())
            if step is not None:
                factor.last_used_step = step
                return True
        return False

    def _match_recovery(self, session: Session, user: User, code: str, now: datetime) -> bool:
        row = session.scalar(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == recovery.code_hash(code or ""),
                RecoveryCode.used_at.is_(None),
            )
        )
        if row is None:
            return False
        row.used_at = now
        return True

    def begin_totp(self, user_id: str) -> NewTotp:
        """Create an unconfirmed TOTP factor; it counts only after a right code."""
        secret = totp.new_secret()
        with self.db.session() as session:
            user = session.get(User, user_id)
            assert user is not None
            factor = TotpFactor(user_id=user_id, secret_encrypted=b"")
            factor.id = new_id()
            factor.secret_encrypted = self.cipher(user).encrypt(secret.encode(), _totp_aad(user_id, factor.id))
            session.add(factor)
            return NewTotp(factor.id, secret, totp.provisioning_uri(secret, user.email))

    def pending_totp(self, user_id: str, factor_id: str) -> NewTotp | None:
        with self.db.session() as session:
            user = session.get(User, user_id)
            factor = _own(session, TotpFactor, user_id, factor_id)
            if user is None or factor is None or factor.confirmed_at:
                return None
            secret = self.cipher(user).decrypt(factor.secret_encrypted, _totp_aad(user_id, factor.id)).decode()
            return NewTotp(factor.id, secret, totp.provisioning_uri(secret, user.email))

    def confirm_totp(self, user_id: str, factor_id: str, code: str, client: ClientInfo) -> None:
        now = utcnow()
        with self.db.session() as session:
            user = session.get(User, user_id)
            factor = _own(session, TotpFactor, user_id, factor_id)
            if user is None or factor is None:
                raise InvalidSecondFactor("This set-up has expired; start again.")
            secret = self.cipher(user).decrypt(factor.secret_encrypted, _totp_aad(user_id, factor.id)).decode()
            step = totp.matching_step(secret, code, factor.last_used_step, self.clock())
            if step is None:
                raise ValidationFailed({"code": "totp-code-wrong"})
            factor.last_used_step = step
            factor.confirmed_at = now
            activity.record(session, user_id, "totp-added", client)

    def totp_factors(self, session: Session, user_id: str) -> list[TotpFactor]:
        return list(
            session.scalars(
                select(TotpFactor).where(TotpFactor.user_id == user_id, TotpFactor.confirmed_at.is_not(None))
            )
        )

    def remove_totp(self, user_id: str, factor_id: str, client: ClientInfo) -> None:
        self._remove_factor(TotpFactor, user_id, factor_id, client, "totp")

    def remove_passkey(self, user_id: str, passkey_id: str, client: ClientInfo) -> None:
        self._remove_factor(Passkey, user_id, passkey_id, client, "passkey")

    def _remove_factor(self, model: type[TotpFactor] | type[Passkey], user_id: str, factor_id: str,
                       client: ClientInfo, kind: str) -> None:
        with self.db.session() as session:
            factor = _own(session, model, user_id, factor_id)
            if factor is None:
                return
            self._refuse_removing_last_factor(session, user_id)
            session.delete(factor)
            activity.record(session, user_id, "second-factor-removed", client, kind)

    def _refuse_removing_last_factor(self, session: Session, user_id: str) -> None:
        totps = len(self.totp_factors(session, user_id))
        keys = session.scalar(select(func.count()).select_from(Passkey).where(Passkey.user_id == user_id)) or 0
        if totps + keys <= 1:
            raise ValidationFailed({"factor": "last-factor"})

    # -- recovery codes --------------------------------------------------------
    def renew_recovery_codes(self, user_id: str, client: ClientInfo, *, first: bool = False) -> list[str]:
        """Replace all recovery codes; the plain codes exist only in the return value."""
        codes = recovery.new_codes()
        with self.db.session() as session:
            for old in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user_id)):
                session.delete(old)
            for code in codes:
                session.add(RecoveryCode(user_id=user_id, code_hash=recovery.code_hash(code)))
            if not first:
                activity.record(session, user_id, "recovery-codes-renewed", client)
        return codes

    def unused_recovery_codes(self, session: Session, user_id: str) -> int:
        return session.scalar(
            select(func.count()).select_from(RecoveryCode).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        ) or 0


def _totp_aad(user_id: str, factor_id: str) -> bytes:
    return f"totp|{user_id}|{factor_id}".encode()


def _own(session: Session, model: type[TotpFactor] | type[Passkey], user_id: str, factor_id: str):
    """A factor by id, only among the user's own: the query itself is scoped to the user."""
    return session.scalar(select(model).where(model.user_id == user_id, model.id == factor_id))
