"""Victims' Code due dates: working days without weekends or England & Wales bank holidays."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from app.cases import special_measures
from app.investigations import victims_code
from app.people.identifiers import PartialDate


@pytest.mark.parametrize("trigger_day, enhanced, due", [
    (date(2026, 11, 23), False, date(2026, 11, 30)),  # Monday + 5 working days: the next Monday
    (date(2026, 11, 27), False, date(2026, 12, 4)),   # Friday: the weekend does not count
    (date(2026, 11, 27), True, date(2026, 11, 30)),   # enhanced rights: 1 working day
    (date(2026, 12, 23), False, date(2027, 1, 4)),    # Christmas, Boxing Day (substitute 28th) and 1 January
    (date(2026, 4, 2), True, date(2026, 4, 7)),       # Good Friday and Easter Monday 2026
    (date(2026, 8, 28), True, date(2026, 9, 1)),      # the August bank holiday (31 August 2026)
])
def test_due_dates_skip_weekends_and_bank_holidays(trigger_day, enhanced, due):
    at = datetime(trigger_day.year, trigger_day.month, trigger_day.day, 12, 0, tzinfo=timezone.utc)
    assert victims_code.due_on("arrest", at, enhanced) == due


def test_the_day_is_the_forces_local_day():
    # 23:30 UTC on Sunday 29 March 2026 is 00:30 BST on Monday 30 March
    at = datetime(2026, 3, 29, 23, 30, tzinfo=timezone.utc)
    assert victims_code.due_on("charge", at, enhanced=True) == date(2026, 3, 31)


def test_an_unknown_trigger_is_refused():
    with pytest.raises(ValueError, match="not a Victims' Code trigger"):
        victims_code.due_on("lunch", datetime(2026, 1, 5, tzinfo=timezone.utc), False)


OFFENCE = date(2026, 6, 15)


@pytest.mark.parametrize("born, assessed, enhanced", [
    (None, False, False),                    # no date of birth: only the officer's assessment counts
    (None, True, True),
    (PartialDate(date(2008, 6, 16), "day"), False, True),   # 17 on the day of the offence: enhanced by age
    (PartialDate(date(2008, 6, 15), "day"), False, False),  # 18 that very day
    (PartialDate(date(2008, 6, 15), "day"), True, True),    # an adult the officer assessed
    (PartialDate(date(2008, 7, 1), "month"), False, True),  # born in July 2008: under 18 whichever day
    (PartialDate(date(2008, 6, 1), "month"), False, False), # born in June 2008: may be 18 already, so not by age
    (PartialDate(date(2008, 1, 1), "year"), False, False),  # born in 2008: may be 18 already
    (PartialDate(date(2009, 1, 1), "year"), False, True),   # born in 2009: certainly under 18
])
def test_every_victim_under_18_at_the_time_of_the_offence_is_owed_enhanced_rights(born, assessed, enhanced):
    assert victims_code.enhanced_rights(assessed=assessed, date_of_birth=born, offence_on=OFFENCE) is enhanced


@pytest.mark.parametrize("born, assessed, why", [
    (PartialDate(date(2010, 3, 1), "day"), False, "under 18 (YJCEA 1999 s.16(1)(a))"),
    (PartialDate(date(2000, 3, 1), "day"), False, None),
    (PartialDate(date(2000, 3, 1), "day"), True,
     "vulnerable or intimidated (Victims' Code enhanced rights; YJCEA 1999 ss.16(1)(b), 17)"),
    (PartialDate(date(2010, 3, 1), "day"), True,
     "under 18 (YJCEA 1999 s.16(1)(a)); vulnerable or intimidated (Victims' Code enhanced rights; "
     "YJCEA 1999 ss.16(1)(b), 17)"),
    (None, False, None),
])
def test_a_witness_is_eligible_for_special_measures_under_18_or_vulnerable_or_intimidated(born, assessed, why):
    assert special_measures.eligibility(date_of_birth=born, assessed_vulnerable=assessed, on=OFFENCE) == why
