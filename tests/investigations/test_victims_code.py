"""Victims' Code due dates: working days without weekends or England & Wales bank holidays."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from app.investigations import victims_code


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
