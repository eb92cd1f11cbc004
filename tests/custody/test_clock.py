"""The PACE clock at the edges of every rule (pure functions: no database)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine

from app.custody import clock
from app.custody.clock import ClockError, Detention, Medication, Warrant

UTC = timezone.utc
T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # arrival
H = timedelta(hours=1)


def detention(**facts) -> Detention:
    base = {"arrested_at": T0 - H, "arrived_at": T0, "authorised_at": T0 + timedelta(minutes=20)}
    return Detention(**{**base, **facts})


def test_the_relevant_time_is_arrival_at_the_first_station():
    assert clock.relevant_time(detention()) == T0
    assert clock.detention_limit(detention()) == T0 + 24 * H


def test_an_arrest_in_another_force_area_starts_at_the_earlier_of_arrival_and_24_hours():
    far = detention(arrested_in_other_force_area=True, arrived_at_relevant_station=T0 + 30 * H)
    assert clock.relevant_time(far) == T0 - H + 24 * H
    near = replace(far, arrived_at_relevant_station=T0 + 5 * H)
    assert clock.relevant_time(near) == T0 + 5 * H


def test_a_voluntary_attender_starts_at_arrest_and_an_override_needs_a_reason():
    assert clock.relevant_time(detention(voluntary_attender=True)) == T0 - H
    with pytest.raises(ClockError, match="reason"):
        clock.relevant_time(detention(relevant_time_override=T0 + H))
    assert clock.relevant_time(detention(relevant_time_override=T0 + H, override_reason="CCTV shows later")) == T0 + H


def test_naive_times_are_refused():
    with pytest.raises(ClockError, match="time zone"):
        clock.relevant_time(detention(arrived_at=datetime(2026, 6, 1, 10, 0)))


def test_the_first_review_is_due_exactly_6_hours_after_authorisation():
    d = detention()
    due = d.authorised_at + 6 * H
    assert clock.next_review_due(d) == due
    assert not any(o.what == "review" for o in clock.overdue(d, due))
    assert [o.what for o in clock.overdue(d, due + timedelta(seconds=1)) if o.what == "review"] == ["review"]


def test_later_reviews_are_9_hours_after_the_previous_one():
    early = detention(reviews_done=(T0 + 5 * H,))
    assert clock.next_review_due(early) == T0 + 14 * H


def test_a_postponed_review_does_not_move_the_next_one():
    due = T0 + timedelta(minutes=20) + 6 * H
    late = detention(reviews_done=(due + 2 * H,), postponed=((0, "detainee asleep after medical treatment"),))
    schedule = clock.review_schedule(late)
    assert schedule[0].postponed_reason == "detainee asleep after medical treatment"
    assert clock.next_review_due(late) == due + 9 * H


def test_no_reviews_are_due_before_authorisation_or_after_charge():
    assert clock.next_review_due(detention(authorised_at=None)) is None
    assert clock.next_review_due(detention(charged_at=T0 + 3 * H)) is None


def test_an_extension_needs_the_second_review_an_indictable_offence_and_less_than_24_hours():
    two_reviews = (T0 + 6 * H, T0 + 15 * H)
    with pytest.raises(ClockError, match="second review"):
        clock.check_extension(detention(indictable=True, reviews_done=two_reviews[:1]), T0 + 10 * H)
    with pytest.raises(ClockError, match="summary only"):
        clock.check_extension(detention(reviews_done=two_reviews), T0 + 16 * H)
    with pytest.raises(ClockError, match="before 24 hours"):
        clock.check_extension(detention(indictable=True, reviews_done=two_reviews), T0 + 24 * H)
    d = detention(indictable=True, reviews_done=two_reviews)
    assert clock.check_extension(d, T0 + 24 * H - timedelta(seconds=1)) == T0 + 36 * H
    assert clock.detention_limit(replace(d, extended_at=T0 + 20 * H)) == T0 + 36 * H


def test_a_warrant_runs_36_hours_from_issue_and_never_past_96():
    d = detention(indictable=True, extended_at=T0 + 20 * H)
    assert clock.check_warrant(d, T0 + 30 * H, 36) == T0 + 66 * H
    in_force = replace(d, warrants=(Warrant(T0 + 30 * H, 36),))
    assert clock.check_warrant(in_force, T0 + 60 * H, 36) == T0 + 96 * H  # extended (s.44), capped at 96 hours
    with pytest.raises(ClockError, match="while the warrant is in force"):
        clock.check_warrant(in_force, T0 + 67 * H, 12)
    with pytest.raises(ClockError, match="at most 36 hours"):
        clock.check_warrant(d, T0 + 30 * H, 37)
    with pytest.raises(ClockError, match="indictable"):
        clock.check_warrant(replace(d, indictable=False), T0 + 30 * H, 24)
    with pytest.raises(ClockError, match="within 36 hours"):
        clock.check_warrant(d, T0 + 37 * H, 24)
    assert clock.check_warrant(d, T0 + 37 * H, 24, not_practicable_reason="court closed") == T0 + 61 * H
    extended = replace(d, warrants=(Warrant(T0 + 30 * H, 36), Warrant(T0 + 60 * H, 36)))
    assert clock.detention_limit(extended) == T0 + 96 * H
    with pytest.raises(ClockError, match="beyond 96 hours"):
        clock.check_warrant(extended, T0 + 96 * H, 1)


def test_a_juvenile_needs_an_appropriate_adult_before_interview():
    juvenile = detention(date_of_birth=date(2008, 6, 2))  # 17 on arrival, 18 the next day
    assert clock.is_juvenile(juvenile) and clock.appropriate_adult_outstanding(juvenile)
    assert any(o.what == "appropriate adult" for o in clock.overdue(juvenile, T0 + H))
    with pytest.raises(ClockError, match="under 18"):
        clock.check_interview(juvenile, T0 + 2 * H)
    attended = replace(juvenile, appropriate_adult_at=T0 + H)
    clock.check_interview(attended, T0 + 2 * H)
    with pytest.raises(ClockError, match="appropriate adult first"):
        clock.check_interview(attended, T0 + timedelta(minutes=30))
    assert not clock.is_juvenile(detention(date_of_birth=date(2008, 6, 1)))  # 18 today


def test_visits_follow_the_observation_level_and_doses_their_interval():
    d = detention(visits=(T0 + H,), observation_level=2)
    assert clock.next_visit_due(d) == T0 + H + timedelta(minutes=30)
    assert clock.next_visit_due(replace(d, observation_level=1)) == T0 + 2 * H
    insulin = Medication("insulin", 8 * H, first_due_at=T0 + 2 * H, given_at=(T0 + 2 * H,))
    inhaler = Medication("salbutamol", 4 * H, first_due_at=T0 + 3 * H)
    d = replace(d, medications=(insulin, inhaler))
    assert clock.next_doses_due(d) == [("salbutamol", T0 + 3 * H), ("insulin", T0 + 10 * H)]
    late = clock.overdue(d, T0 + 3 * H + timedelta(minutes=1))
    assert [o.what for o in late] == ["visit", "medication: salbutamol"]


def test_overdue_is_most_urgent_first_and_names_the_limit():
    d = detention(date_of_birth=date(2010, 1, 1))
    items = clock.overdue(d, T0 + 25 * H)
    assert [o.what for o in items] == ["visit", "review", "detention limit passed: charge or release",
                                       "appropriate adult"]


def test_the_clock_counts_real_hours_across_the_autumn_change():
    # 22:00 BST on Saturday 24 October 2026; the clocks go back at 02:00 on Sunday 25 October
    arrived = datetime(2026, 10, 24, 21, 0, tzinfo=UTC)
    d = Detention(arrested_at=arrived - H, arrived_at=arrived, authorised_at=arrived)
    limit = clock.local(clock.detention_limit(d), "Europe/London")
    assert (limit.hour, limit.day, limit.tzname()) == (21, 25, "GMT")  # 24 real hours: 21:00, not 22:00
    review = clock.local(clock.next_review_due(d), "Europe/London")
    assert (review.hour, review.day, review.tzname()) == (3, 25, "GMT")


def test_the_clock_counts_real_hours_across_the_spring_change():
    # 22:00 GMT on Saturday 27 March 2027; the clocks go forward at 01:00 on Sunday 28 March
    arrived = datetime(2027, 3, 27, 22, 0, tzinfo=UTC)
    d = Detention(arrested_at=arrived - H, arrived_at=arrived, authorised_at=arrived)
    limit = clock.local(clock.detention_limit(d), "Europe/London")
    assert (limit.hour, limit.day, limit.tzname()) == (23, 28, "BST")


def test_overdue_reads_the_pinned_clock():
    d = detention()
    with time_machine.travel(T0 + 7 * H, tick=False):
        assert [o.what for o in clock.overdue(d)] == ["visit", "review"]
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        assert clock.overdue(d) == []
