"""The Victims' Code (Right 6): when a victim must be told of a development, in working days; and who is owed
enhanced rights.

Pure functions: a trigger (arrest, interview under caution, bail or release under investigation, no
further action, a decision not to investigate, charge) at a moment gives a due date 5 working days
later, or 1 under enhanced rights. Working days exclude weekends and England & Wales bank holidays (the
`holidays` package), counted in the force's time zone.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from app.people.identifiers import PartialDate, certainly_under

TRIGGERS = ("arrest", "interview_under_caution", "bail_or_released_under_investigation", "no_further_action",
            "decision_not_to_investigate", "charge")
STANDARD_DAYS, ENHANCED_DAYS = 5, 1
CHILD_VICTIM_UNDER = 18  # years, at the time of the offence


def enhanced_rights(*, assessed: bool, date_of_birth: PartialDate | None, offence_on: date) -> bool:
    """Whether a victim is owed enhanced rights: as the officer assessed them (a victim of the most serious crime,
    persistently targeted, vulnerable or intimidated), or by age: every victim under 18 at the time of the offence
    is eligible (Victims' Code 2020, "Enhanced rights"), whatever the assessment says."""
    young = date_of_birth is not None and certainly_under(date_of_birth, CHILD_VICTIM_UNDER, offence_on)
    return assessed or young


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (the day of the trigger does not count)."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def due_on(trigger: str, at: datetime, enhanced: bool, time_zone: str = "Europe/London") -> date:
    """When the victim must have been told of this trigger."""
    if trigger not in TRIGGERS:
        raise ValueError(f"not a Victims' Code trigger: {trigger}")
    local_day = at.astimezone(ZoneInfo(time_zone)).date()
    return add_working_days(local_day, ENHANCED_DAYS if enhanced else STANDARD_DAYS)
