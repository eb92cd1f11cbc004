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
    booked = T0 + timedelta(minutes=20)  # rights given and risk assessed at authorisation unless a test says not
    base = {"arrested_at": T0 - H, "arrived_at": T0, "authorised_at": booked, "rights_given_at": booked,
            "risk_assessed_at": booked}
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


def test_no_reviews_are_due_before_authorisation_or_after_release():
    assert clock.next_review_due(detention(authorised_at=None)) is None
    assert clock.next_review_due(detention(released_at=T0 + 3 * H)) is None


def test_after_charge_reviews_continue_on_the_same_schedule_and_are_the_custody_officers():
    # s.40(1)(a): a charged detainee's detention is reviewed by the custody officer, at the s.40(3) intervals
    charged = detention(reviews_done=(T0 + 6 * H,), charged_at=T0 + 8 * H)
    assert clock.next_review_due(charged) == T0 + 15 * H
    assert any(o.what == "review" for o in clock.overdue(charged, T0 + 15 * H + timedelta(seconds=1)))
    roles, rule = clock.reviewer_roles(charged, T0 + 8 * H)
    assert roles == {"custody_officer"} and "s.40(1)(a)" in rule
    roles, rule = clock.reviewer_roles(charged, T0 + 8 * H - timedelta(seconds=1))
    assert roles == {"custody_inspector", "superintendent"} and "s.40(1)(b)" in rule


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


def test_no_warrant_once_detention_has_ended_without_an_extension_or_past_the_extended_limit():
    start = T0
    unextended = detention(indictable=True, reviews_done=(T0 + 6 * H, T0 + 15 * H))
    assert clock.check_warrant(unextended, start + 24 * H, 12) == start + 36 * H  # at the 24th hour: still lawful
    with pytest.raises(ClockError, match=r"ended at .*s.41\(1\).* no superintendent's extension.*s.43\(1\)"):
        clock.check_warrant(unextended, start + 24 * H + timedelta(seconds=1), 12)
    extended = replace(unextended, extended_at=T0 + 20 * H)
    assert clock.check_warrant(extended, start + 36 * H, 12) == start + 48 * H
    with pytest.raises(ClockError, match=r"s.43\(5\)"):
        clock.check_warrant(extended, start + 36 * H + timedelta(seconds=1), 12)
    with pytest.raises(ClockError, match=r"s.43\(5\)"):  # past the 6 hours' grace even with a reason
        clock.check_warrant(extended, start + 42 * H + timedelta(seconds=1), 12, not_practicable_reason="no court")
    with pytest.raises(ClockError, match=r"charged.*s.43\(1\)"):
        clock.check_warrant(replace(extended, charged_at=T0 + 30 * H), T0 + 31 * H, 12)


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


def test_an_interview_needs_rights_given_and_legal_advice_offered_first():
    offered = detention(legal_advice_offered_at=T0 + H)
    clock.check_interview(offered, T0 + H)  # the same minute is in time
    with pytest.raises(ClockError, match=r"rights and entitlements .*Code C 3.1"):
        clock.check_interview(replace(offered, rights_given_at=None), T0 + 2 * H)
    with pytest.raises(ClockError, match=r"rights .*Code C 3.1"):
        clock.check_interview(replace(offered, rights_given_at=T0 + 3 * H), T0 + 2 * H)
    with pytest.raises(ClockError, match=r"legal advice offered first \(Code C 6.1, 11.2\)"):
        clock.check_interview(offered, T0 + H - timedelta(seconds=1))
    with pytest.raises(ClockError, match="legal advice"):
        clock.check_interview(replace(offered, legal_advice_offered_at=None), T0 + 2 * H)


def test_an_appropriate_adult_is_never_police():
    clock.check_appropriate_adult(False)
    with pytest.raises(ClockError, match=r"Code C 1.7\(b\)"):
        clock.check_appropriate_adult(True)


def test_rights_and_the_risk_assessment_are_due_at_booking_and_overdue_until_recorded():
    d = detention(rights_given_at=None, risk_assessed_at=None)
    booked = T0 + timedelta(minutes=20)
    assert clock.booking_due(d) == [("rights and entitlements (Code C 3.1)", booked),
                                    ("risk assessment (Code C 3.6)", booked)]
    assert [o.what for o in clock.overdue(d, booked)] == ["rights and entitlements (Code C 3.1)",
                                                          "risk assessment (Code C 3.6)"]
    assert clock.overdue(d, booked - timedelta(seconds=1)) == []
    assert [o.what for o in clock.overdue(replace(d, rights_given_at=booked), booked)] == [
        "risk assessment (Code C 3.6)"]
    assert clock.booking_due(replace(d, authorised_at=None))[0][1] == T0  # not yet authorised: from arrival
    assert clock.booking_due(replace(d, released_at=T0 + H)) == []


def test_a_voluntary_attender_arrested_later_starts_at_the_arrest_even_after_arrival():
    d = detention(voluntary_attender=True, arrived_at=T0, arrested_at=T0 + 2 * H, authorised_at=T0 + 2 * H)
    assert clock.relevant_time(d) == T0 + 2 * H  # s.41(2)(c)
    assert clock.detention_limit(d) == T0 + 26 * H


def test_a_juvenile_needs_an_appropriate_adult_before_interview():
    # 17 on arrival, 18 the next day
    juvenile = detention(date_of_birth=date(2008, 6, 2), legal_advice_offered_at=T0 + timedelta(minutes=25))
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


def test_the_board_orders_by_the_most_urgent_item_limit_and_reviews_ahead_of_visits():
    now = T0 + 10 * H
    visit_long_late = detention(visits=(), authorised_at=T0 + timedelta(minutes=20), reviews_done=(T0 + 6 * H,))
    review_just_late = detention(arrived_at=T0 + 3 * H, authorised_at=T0 + 3 * H + timedelta(seconds=1),
                                 visits=(now - timedelta(minutes=10),), rights_given_at=T0 + 3 * H,
                                 risk_assessed_at=T0 + 3 * H)
    calm = detention(reviews_done=(T0 + 6 * H,), visits=(now - timedelta(minutes=5),))
    assert clock.urgency(review_just_late, now) == (0, T0 + 9 * H + timedelta(seconds=1))  # review late by 1 h
    assert clock.urgency(visit_long_late, now) == (1, T0 + timedelta(minutes=20) + H)
    assert clock.urgency(calm, now) == (2, now - timedelta(minutes=5) + H)
    ordered = sorted([calm, visit_long_late, review_just_late], key=lambda d: clock.urgency(d, now))
    assert ordered == [review_just_late, visit_long_late, calm]
    breached = detention(visits=(now,))
    assert clock.urgency(breached, T0 + 25 * H) == (0, T0 + timedelta(minutes=20) + 6 * H)  # most overdue first


def test_visit_intervals_are_the_forces():
    d = detention(visits=(T0 + H,), observation_level=2, visit_intervals={1: 45 * timedelta(minutes=1),
                                                                          2: 15 * timedelta(minutes=1),
                                                                          3: timedelta(0), 4: timedelta(0)})
    assert clock.next_visit_due(d) == T0 + H + timedelta(minutes=15)


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


def test_age_is_counted_on_the_forces_local_date_of_arrival():
    # 23:30 UTC on 17 June is 00:30 BST on the 18th, the 18th birthday: an adult in London, 17 in UTC's date
    late = detention(arrived_at=datetime(2026, 6, 17, 23, 30, tzinfo=UTC), date_of_birth=date(2008, 6, 18))
    assert not clock.is_juvenile(late)
    assert clock.is_juvenile(replace(late, time_zone="UTC"))


def test_before_charge_no_one_involved_in_the_investigation_reviews():
    involved = [("the arresting officer", "PC 101"), ("the officer in charge of investigation NS/1", "insp-oic"),
                ("the officer who authorised the detention", None)]
    with pytest.raises(ClockError, match="insp-oic is the officer in charge of investigation NS/1.*s.40.1..b"):
        clock.check_reviewer_not_involved(detention(), T0 + 6 * H, "insp-oic", involved)
    with pytest.raises(ClockError, match="the arresting officer"):
        clock.check_reviewer_not_involved(detention(), T0 + 6 * H, "pc 101 ", involved)
    clock.check_reviewer_not_involved(detention(), T0 + 6 * H, "insp-1", involved)
    charged = detention(charged_at=T0 + 5 * H)  # after charge the custody officer reviews (s.40(1)(a))
    clock.check_reviewer_not_involved(charged, T0 + 6 * H, "insp-oic", involved)


def test_the_release_outcome_agrees_with_the_charge():
    with pytest.raises(ClockError, match="charged_remanded needs a charge"):
        clock.check_outcome(detention(), "charged_remanded")
    charged = detention(charged_at=T0 + 5 * H)
    for outcome in ("bailed_without_charge", "released_under_investigation", "no_further_action"):
        with pytest.raises(ClockError, match="is for release before charge"):
            clock.check_outcome(charged, outcome)
    for outcome in ("charged_bailed", "charged_remanded", "transferred", "released"):
        clock.check_outcome(charged, outcome)
    for outcome in ("bailed_without_charge", "released_under_investigation", "no_further_action", "transferred",
                    "released"):
        clock.check_outcome(detention(), outcome)
