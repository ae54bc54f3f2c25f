"""The pure parts of the policy: WGBO age bands and what a grant allows."""
from __future__ import annotations

from datetime import date, datetime, timezone

from regie.access import Action, Grant, Need, Role, allows
from regie.access.ages import AgeBand, age_on, band_of, sixteenth_birthday, today_in_nl


def test_age_bands_turn_on_the_birthday() -> None:
    birth = date(2010, 6, 15)
    assert band_of(birth, date(2022, 6, 14)) is AgeBand.UNDER_12
    assert band_of(birth, date(2022, 6, 15)) is AgeBand.FROM_12
    assert band_of(birth, date(2026, 6, 14)) is AgeBand.FROM_12
    assert band_of(birth, date(2026, 6, 15)) is AgeBand.FROM_16
    leap = date(2008, 2, 29)
    assert age_on(leap, date(2024, 2, 28)) == 15 and age_on(leap, date(2024, 2, 29)) == 16
    assert age_on(leap, date(2023, 3, 1)) == 15 and sixteenth_birthday(leap) == date(2024, 2, 29)
    assert sixteenth_birthday(date(2007, 2, 28)) == date(2023, 2, 28)


def test_a_birthday_starts_at_midnight_in_the_netherlands() -> None:
    # 23:30 UTC on 14 June is already 15 June in Amsterdam (summer time).
    assert today_in_nl(datetime(2026, 6, 14, 23, 30, tzinfo=timezone.utc)) == date(2026, 6, 15)


def test_a_grant_allows_its_actions_and_categories_only() -> None:
    grant = Grant("owner", "helper", Role.CAREGIVER, frozenset({Action.READ}), frozenset({"allergies"}))
    read_category = Need(Action.READ, category_param="category")
    assert allows(grant, read_category, {"category": "allergies"})
    assert not allows(grant, read_category, {"category": "problems"})
    assert allows(grant, Need(Action.READ))  # the store limits the rows
    assert not allows(grant, Need(Action.ADD))
    assert not allows(None, Need(Action.READ))
    nothing = Grant("owner", "helper", Role.CAREGIVER, frozenset({Action.READ}), frozenset())
    assert not allows(nothing, Need(Action.READ))
