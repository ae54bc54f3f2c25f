"""Registration by e-mail and password reset: the account side of both flows.

Both start with an address typed by anyone, so both answer alike whether or not it has an
account (the web layer shows one page; this module tells it which e-mail to send). Both
continue through a single-use link (:mod:`regie.accounts.email_links`). A reset sets the
new password only after the second factor: a mailbox alone never opens an account.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from regie.accounts import activity, email_links, mail_quota
from regie.accounts.activity import ClientInfo
from regie.accounts.errors import EmailTaken, ValidationFailed
from regie.accounts.passwords import password_problem
from regie.accounts.service import Accounts, normalise_email
from regie.accounts.throttle import account_key
from regie.store.models import User
from regie.store.types import utcnow


@dataclass(frozen=True, slots=True)
class MailDue:
    """Which e-mail to send to ``email``: ``kind`` and, for a link, its plain ``token``."""

    email: str
    kind: str  # "register-link", "account-exists", "reset-link", "no-account"
    token: str | None = None


@dataclass(frozen=True, slots=True)
class PendingLink:
    """A link that was opened and still works."""

    id: str
    email: str
    user_id: str | None


class EmailFlows:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.settings = accounts.settings
        self.db = accounts.db

    # -- the first step: an address ------------------------------------------------
    def request_registration(self, raw_email: str, client: ClientInfo) -> MailDue:
        """Raise ValidationFailed for a malformed address, Throttled over the e-mail quota."""
        email = normalise_email(raw_email)
        now = utcnow()
        with self.db.session() as session:
            mail_quota.take(session, self.settings, email, client.ip, now)
            user = self.accounts.by_email(session, email)
            if user is not None:
                activity.record(session, user.id, "register-attempt", client)
                return MailDue(email, "account-exists")
            lifetime = timedelta(hours=self.settings.register_link_hours)
            token = email_links.issue(session, email_links.REGISTER, email, None, lifetime, now)
            return MailDue(email, "register-link", token)

    def request_reset(self, raw_email: str, client: ClientInfo) -> MailDue:
        email = normalise_email(raw_email)
        now = utcnow()
        with self.db.session() as session:
            mail_quota.take(session, self.settings, email, client.ip, now)
            user = self.accounts.by_email(session, email)
            if user is None:
                return MailDue(email, "no-account")
            lifetime = timedelta(minutes=self.settings.reset_link_minutes)
            token = email_links.issue(session, email_links.RESET, email, user.id, lifetime, now)
            activity.record(session, user.id, "password-reset-requested", client)
            return MailDue(email, "reset-link", token)

    # -- opening the link ------------------------------------------------------------
    def open_link(self, purpose: str, token: str) -> tuple[str, PendingLink | None]:
        """The link's state ("ok", "used", "expired", "unknown") and, when ok, what it is for."""
        with self.db.session() as session:
            row = email_links.find(session, purpose, token)
            found = email_links.state(row, utcnow())
            if found != "ok" or row is None:
                return found, None
            if purpose == email_links.RESET and self.accounts.user(session, row.user_id or "") is None:
                return "unknown", None
            return found, PendingLink(row.id, row.email, row.user_id)

    def pending(self, purpose: str, token_id: str | None) -> PendingLink | None:
        """The opened link kept in the visitor's session, while it still works."""
        if not token_id:
            return None
        with self.db.session() as session:
            row = email_links.usable(session, purpose, token_id, utcnow())
            return PendingLink(row.id, row.email, row.user_id) if row else None

    # -- registration: the password --------------------------------------------------
    def complete_registration(self, token_id: str, password: str, client: ClientInfo) -> User:
        """Create the account; the link is used up. Raise ValidationFailed for a weak
        password, EmailTaken when the address got an account meanwhile, LookupError for a
        link that no longer works."""
        link = self.pending(email_links.REGISTER, token_id)
        if link is None:
            raise LookupError("registration link no longer works")
        problem = password_problem(password, link.email)
        if problem:
            raise ValidationFailed({"password": problem})
        password_hash = self.accounts.passwords.hash(password)
        with self.db.session() as session:
            row = email_links.usable(session, email_links.REGISTER, token_id, utcnow(), lock=True)
            if row is None:  # used by a second tab meanwhile
                raise LookupError("registration link no longer works")
            row.used_at = utcnow()
            if self.accounts.by_email(session, row.email) is not None:
                raise EmailTaken("This e-mail address already has an account.", field="email")
            return self.accounts.create_user(session, row.email, password_hash, client)

    # -- reset: the new password, then the second factor ------------------------------
    def set_reset_password(self, token_id: str, password: str) -> None:
        """Keep the new password's hash with the link; it counts only after :meth:`finish_reset`."""
        link = self.pending(email_links.RESET, token_id)
        if link is None:
            raise LookupError("reset link no longer works")
        problem = password_problem(password, link.email)
        if problem:
            raise ValidationFailed({"password": problem})
        password_hash = self.accounts.passwords.hash(password)
        with self.db.session() as session:
            row = email_links.usable(session, email_links.RESET, token_id, utcnow(), lock=True)
            if row is None:
                raise LookupError("reset link no longer works")
            row.new_password_hash = password_hash

    def finish_reset(self, token_id: str, client: ClientInfo) -> str:
        """The second factor was given (or the account has none): the new password counts,
        the link is used up, every session of the account ends. Returns the user id."""
        now = utcnow()
        with self.db.session() as session:
            row = email_links.usable(session, email_links.RESET, token_id, now, lock=True)
            if row is None or row.user_id is None or row.new_password_hash is None:
                raise LookupError("reset link no longer works")
            user = self.accounts.user(session, row.user_id)
            if user is None:
                raise LookupError("the account is gone")
            user.password_hash = row.new_password_hash
            user.password_changed_at = now
            row.used_at = now
            row.new_password_hash = None
            email_links.forget_for_user(session, user.id)
            # The lock was about guessing the old password; the owner just proved more than that.
            self.accounts.throttler.succeed(session, [account_key("pw", user.email, self.settings)])
            self.accounts.sessions.destroy_all_for_user(session, user.id)
            activity.record(session, user.id, "password-reset", client)
            return user.id

    def reset_needs_second_factor(self, session: Session, user_id: str) -> bool:
        return self.accounts.has_second_factor(session, user_id)
