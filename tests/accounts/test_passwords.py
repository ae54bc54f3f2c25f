from __future__ import annotations

import pytest

from regie.accounts.passwords import Passwords, common_passwords, password_problem
from regie.config import Settings


@pytest.mark.parametrize(
    "password,problem",
    [
        ("kort", "password-too-short"),
        ("1qaz2wsx3edc", "password-too-common"),
        ("aaaaaaaaaaaaaa", "password-too-simple"),
        ("jansen-wachtwoord-2026", "password-contains-email"),
        ("x" * 1025, "password-too-long"),
        ("paars-fietsje-wandelt-42", None),
    ],
)
def test_policy(password: str, problem: str | None) -> None:
    assert password_problem(password, "jansen@voorbeeld.nl") == problem


def test_common_list_has_ten_thousand_entries() -> None:
    assert len(common_passwords()) >= 9_900  # a few collide when lower-cased
    assert "password" in common_passwords()


def test_argon2id_hash_and_verify() -> None:
    passwords = Passwords(Settings(argon2_time_cost=1, argon2_memory_cost_kib=8, argon2_parallelism=1))
    hashed = passwords.hash("paars-fietsje-wandelt-42")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify(hashed, "paars-fietsje-wandelt-42")
    assert not passwords.verify(hashed, "paars-fietsje-wandelt-43")
    assert not passwords.verify(None, "anything")  # unknown account: still hashes, never true
    assert not passwords.verify("garbage", "x")
