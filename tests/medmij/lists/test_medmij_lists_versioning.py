"""Volgnummer rules for replacing a held list."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from regie.medmij.lists import (
    ListHeader,
    ListVersionError,
    Replacement,
    Whitelist,
    decide_replacement,
)

T = datetime(2026, 1, 1, tzinfo=timezone.utc)


def header(n: int) -> ListHeader:
    return ListHeader(tijdstempel=T, volgnummer=n)


def test_nothing_held_installs():
    assert decide_replacement(None, header(1)) is Replacement.INSTALL


def test_higher_replaces():
    assert decide_replacement(header(5), header(6)) is Replacement.REPLACE
    assert decide_replacement(header(5), header(500)) is Replacement.REPLACE


def test_equal_is_no_change():
    assert decide_replacement(header(5), header(5)) is Replacement.UNCHANGED


def test_lower_is_refused():
    with pytest.raises(ListVersionError) as info:
        decide_replacement(header(5), header(4), list_name="Zorgaanbiederslijst")
    assert info.value.list_name == "Zorgaanbiederslijst"
    assert "4" in info.value.reason and "5" in info.value.reason


def test_accepts_models_too():
    held = Whitelist(header=header(2), hostnames=())
    new = Whitelist(header=header(3), hostnames=("a.example.nl",))
    assert decide_replacement(held, new) is Replacement.REPLACE
