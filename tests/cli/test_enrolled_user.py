"""`regie user create` confirms the TOTP factor with a code it makes itself: a 30-second step
that ends between making the code and checking it must not make the creation fail."""
from __future__ import annotations

import time
from pathlib import Path

import pyotp
import pytest

import regie.cli.user as cli_user
from regie.accounts.errors import ValidationFailed
from regie.web.context import AppContext
from tests.conftest import fast_settings, migrate


def test_a_step_ending_between_making_and_checking_the_code(tmp_path: Path, database_url: str, monkeypatch) -> None:
    migrate(database_url)
    context = AppContext.build(fast_settings(tmp_path, database_url))
    made: list[str] = []
    fresh = cli_user._current_code

    def first_too_old(secret: str) -> str:
        # The first code as it is once a step ended meanwhile: two steps old, refused.
        made.append(pyotp.TOTP(secret).at(time.time() - 90) if not made else fresh(secret))
        return made[-1]

    monkeypatch.setattr(cli_user, "_current_code", first_too_old)
    created = cli_user.create_enrolled_user(context.accounts, "nieuw@voorbeeld.nl", "paars-fietsje-wandelt-42")
    assert len(made) == 2 and created["recovery_codes"]
    with context.db.session() as session:
        user = context.accounts.by_email(session, "nieuw@voorbeeld.nl")
        assert context.accounts.has_second_factor(session, user.id)
    context.db.dispose()


def test_a_code_that_keeps_being_refused_still_fails(tmp_path: Path, database_url: str, monkeypatch) -> None:
    """The retries are bounded: a code that is always wrong ends in the error, not a loop."""
    migrate(database_url)
    context = AppContext.build(fast_settings(tmp_path, database_url))
    made: list[str] = []

    def always_too_old(secret: str) -> str:
        made.append(pyotp.TOTP(secret).at(time.time() - 90))
        return made[-1]

    monkeypatch.setattr(cli_user, "_current_code", always_too_old)
    with pytest.raises(ValidationFailed):
        cli_user.create_enrolled_user(context.accounts, "nooit@voorbeeld.nl", "paars-fietsje-wandelt-42")
    assert len(made) == 3
    context.db.dispose()
