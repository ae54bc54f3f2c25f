"""Every statement on ``totp_factors`` and ``passkeys`` names the user (issue 9): a factor
is never loaded, changed or removed by its id alone, and another user's factor id does
nothing. All SQL of the account service's factor methods is captured and checked with the
checker of tests/web/test_citus_readiness.py."""
from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from regie.accounts.activity import ClientInfo
from regie.accounts.errors import InvalidSecondFactor
from regie.accounts.passkeys import Passkeys
from regie.cli._common import open_accounts
from regie.config import Settings
from regie.store.db import Database
from regie.store.migrate import upgrade
from regie.store.models import Passkey, TotpFactor
from tests.statements import captured_statements
from tests.web.helpers import PASSWORD, TestClock
from tests.web.test_citus_readiness import violations

CLIENT = ClientInfo("127.0.0.1", "test")


@pytest.fixture
def accounts(settings: Settings):
    database = Database(settings.resolved_database_url)
    upgrade(database.engine)
    database.dispose()
    service = open_accounts(settings)
    service.clock = TestClock()
    yield service
    service.db.dispose()


def _enrolled(accounts, email: str) -> tuple[str, str, str]:
    user = accounts.register(email, PASSWORD, CLIENT)
    new = accounts.begin_totp(user.id)
    accounts.confirm_totp(user.id, new.factor_id, accounts.clock.code(new.secret), CLIENT)
    with accounts.db.session() as session:
        session.add(Passkey(user_id=user.id, credential_id=email.encode(), public_key=b"k", name="sleutel"))
        key = session.scalar(select(Passkey.id).where(Passkey.user_id == user.id))
    return user.id, new.factor_id, key


def test_factor_statements_name_the_user_and_foreign_ids_do_nothing(accounts, tmp_path: Path) -> None:
    anna, anna_totp, anna_key = _enrolled(accounts, "anna@voorbeeld.nl")
    bert, bert_totp, bert_key = _enrolled(accounts, "bert@voorbeeld.nl")
    with captured_statements() as statements:
        pending = accounts.begin_totp(anna)
        assert accounts.pending_totp(anna, pending.factor_id) is not None
        assert accounts.pending_totp(bert, pending.factor_id) is None  # anna's set-up, not bert's
        with pytest.raises(InvalidSecondFactor):
            accounts.confirm_totp(bert, pending.factor_id, "123456", CLIENT)
        accounts.confirm_totp(anna, pending.factor_id, accounts.clock.code(pending.secret), CLIENT)
        with accounts.db.session() as session:
            secret = accounts.cipher(accounts.user(session, anna)).decrypt(
                session.scalar(select(TotpFactor.secret_encrypted).where(
                    TotpFactor.user_id == anna, TotpFactor.id == anna_totp)),
                f"totp|{anna}|{anna_totp}".encode()).decode()
        accounts.clock.now += 30
        assert accounts.verify_second_factor(anna, pyotp.TOTP(secret).at(accounts.clock.now), CLIENT) == "totp"
        accounts.remove_totp(bert, anna_totp, CLIENT)  # someone else's id: nothing happens
        accounts.remove_passkey(bert, anna_key, CLIENT)
        accounts.remove_totp(anna, anna_totp, CLIENT)
        accounts.remove_passkey(anna, anna_key, CLIENT)
        with accounts.db.session() as session:
            accounts.totp_factors(session, anna)
            accounts.has_second_factor(session, anna)
            passkeys = Passkeys(accounts.settings)
            passkeys.list_for(session, anna)
            user = accounts.user(session, anna)
            passkeys.registration_options(session, user)
            passkeys.authentication_options(session, user)
    touched = " ".join(statements)
    assert "UPDATE totp_factors" in touched and "DELETE FROM totp_factors" in touched
    assert "DELETE FROM passkeys" in touched and "FROM passkeys" in touched
    found = {key: items for key, items in violations(statements).items() if key[0] in ("totp_factors", "passkeys")}
    assert not found, found
    with accounts.db.session() as session:
        left = {(f.user_id, f.id) for f in session.scalars(select(TotpFactor))}
        keys = {(k.user_id, k.id) for k in session.scalars(select(Passkey))}
    assert (bert, bert_totp) in left and (anna, anna_totp) not in left and (anna, pending.factor_id) in left
    assert keys == {(bert, bert_key)}
