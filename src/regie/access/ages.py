"""Age bands of the WGBO (Dutch law on medical treatment), for records of minors.

- under 12: the parents decide;
- 12 to 16: the child is involved: can get an own login and sees who has access, the
  parents still manage the record;
- 16 and older: the child decides alone, also whether a parent keeps access.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

_ZONE = ZoneInfo("Europe/Amsterdam")


class AgeBand(StrEnum):
    UNDER_12 = "under_12"
    FROM_12 = "12_to_16"
    FROM_16 = "16_plus"


def age_on(birth: date, today: date) -> int:
    """Full years on ``today`` (a birthday on 29 February counts on 1 March in other years)."""
    had_birthday = (today.month, today.day) >= (birth.month, birth.day)
    return today.year - birth.year - (0 if had_birthday else 1)


def band_of(birth: date, today: date) -> AgeBand:
    age = age_on(birth, today)
    if age < 12:
        return AgeBand.UNDER_12
    if age < 16:
        return AgeBand.FROM_12
    return AgeBand.FROM_16


def sixteenth_birthday(birth: date) -> date:
    try:
        return birth.replace(year=birth.year + 16)
    except ValueError:  # 29 February
        return date(birth.year + 16, 3, 1)


def today_in_nl(now: datetime) -> date:
    """The calendar day in the Netherlands: a birthday starts at midnight there, not in UTC."""
    return now.astimezone(_ZONE).date()
