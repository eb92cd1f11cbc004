"""The PACE clock: pure functions of a detention's facts and the time now. No database, no Flask.

Everything is computed in UTC with aware datetimes, so elapsed hours are exact across the changes to and
from summer time; `local()` turns a moment into the force's time zone on the way out.

Rules (DOMAIN.md "Custody"):
- relevant time (s.41(2)): arrival at the first police station after arrest; for an arrest in another
  force's area, the earlier of arrival at the relevant station and 24 hours after arrest; for a voluntary
  attender arrested at the station, the time of arrest. An override needs a reason.
- the limit: 24 hours from the relevant time (s.41); a superintendent's extension to 36 hours (s.42) for
  an indictable offence, after the second review and before the 24 hours are up; a warrant of further
  detention for up to 36 hours from its issue (s.43), extended (s.44) to at most 96 hours from the
  relevant time.
- reviews (s.40): the first no later than 6 hours after detention was first authorised, then no later
  than 9 hours after the previous one. A postponed review does not move the ones after it (s.40(6)):
  the next is due 9 hours after the earlier of when the last was done and when it was due.
- after charge, reviews continue on the same schedule (s.40(1)(a)) and are the custody officer's; before
  charge, an inspector's not involved in the investigation (s.40(1)(b)): not the officer in charge of it, nor
  the officer who arrested the detainee or authorised the detention.
- a juvenile is under 18 (Code C 1.5) on the force's local date of arrival, not UTC's.
- the release outcome agrees with the timeline: charged (remanded or bailed, s.38) only with a charge recorded;
  after a charge, not a release without charge (s.37(7)(b), (c): that is for before charge).
- on arrival: rights and entitlements given (Code C 3.1) and the risk assessment (Code C 3.6) are due at
  once, and overdue until recorded; no interview before them and before legal advice is offered (Code C 6.1,
  11.2); an appropriate adult is never a police officer or police staff (Code C 1.7(b)).
- a warrant of further detention only while detention is lawful (s.43(1), s.41(1), s.42(1)).
- visits: at the interval of the observation level (configurable; level 1 hourly, 2 half-hourly, 3 and 4
  constant); doses: at each medication's interval after the last dose (or its first due time).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from app.people.identifiers import completed_years

FIRST_REVIEW = timedelta(hours=6)
REVIEW_INTERVAL = timedelta(hours=9)
BASIC_LIMIT = timedelta(hours=24)
EXTENDED_LIMIT = timedelta(hours=36)
WARRANT_MAXIMUM = timedelta(hours=36)
ABSOLUTE_LIMIT = timedelta(hours=96)
OTHER_AREA_LIMIT = timedelta(hours=24)
WARRANT_APPLICATION_GRACE = timedelta(hours=6)  # s.43(5)(b): when applying within 36 hours was not practicable
VISIT_INTERVALS = {1: timedelta(minutes=60), 2: timedelta(minutes=30), 3: timedelta(0), 4: timedelta(0)}
ADULT_AGE = 18
CHARGED_OUTCOMES = frozenset({"charged_remanded", "charged_bailed"})
WITHOUT_CHARGE_OUTCOMES = frozenset({"bailed_without_charge", "released_under_investigation", "no_further_action"})


class ClockError(ValueError):
    """A step the law does not allow yet (or at all); the message names the rule."""


@dataclass(frozen=True)
class Review:
    due_at: datetime
    done_at: datetime | None = None  # None: not yet done
    postponed_reason: str | None = None


@dataclass(frozen=True)
class Warrant:
    issued_at: datetime
    hours: int  # as the court granted them


@dataclass(frozen=True)
class Medication:
    name: str
    interval: timedelta
    first_due_at: datetime
    given_at: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class Detention:
    """The facts of one detention the clock needs; all moments aware."""

    arrested_at: datetime
    arrived_at: datetime  # at the first police station
    authorised_at: datetime | None = None
    arrested_in_other_force_area: bool = False
    arrived_at_relevant_station: datetime | None = None
    voluntary_attender: bool = False
    relevant_time_override: datetime | None = None
    override_reason: str | None = None
    indictable: bool = False
    date_of_birth: date | None = None
    vulnerable: bool = False
    appropriate_adult_at: datetime | None = None
    reviews_done: tuple[datetime, ...] = ()  # when each review was carried out, in order
    postponed: tuple[tuple[int, str], ...] = ()  # (index of the review, reason) for reviews done late
    extended_at: datetime | None = None
    warrants: tuple[Warrant, ...] = ()
    charged_at: datetime | None = None
    released_at: datetime | None = None
    observation_level: int = 1
    visits: tuple[datetime, ...] = ()
    rights_given_at: datetime | None = None
    risk_assessed_at: datetime | None = None
    legal_advice_offered_at: datetime | None = None
    medications: tuple[Medication, ...] = ()
    visit_intervals: dict[int, timedelta] = field(default_factory=lambda: dict(VISIT_INTERVALS))
    time_zone: str = "Europe/London"  # the force's: calendar facts (a birthday) are its local dates


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ClockError(f"{name} must carry its time zone")


def relevant_time(d: Detention) -> datetime:
    """When the detention clock starts (s.41(2)), or the recorded override (which needs a reason)."""
    for name in ("arrested_at", "arrived_at"):
        _aware(getattr(d, name), name)
    if d.relevant_time_override is not None:
        if not (d.override_reason or "").strip():
            raise ClockError("overriding the relevant time needs a reason")
        return d.relevant_time_override
    if d.voluntary_attender:
        return d.arrested_at
    if d.arrested_in_other_force_area:
        cap = d.arrested_at + OTHER_AREA_LIMIT
        return min(d.arrived_at_relevant_station or cap, cap)
    return d.arrived_at


def detention_limit(d: Detention) -> datetime:
    """The latest moment the detainee may be held without charge, given any extension and warrants."""
    start = relevant_time(d)
    limit = start + (EXTENDED_LIMIT if d.extended_at else BASIC_LIMIT)
    for warrant in sorted(d.warrants, key=lambda w: w.issued_at):
        limit = min(warrant.issued_at + timedelta(hours=warrant.hours), start + ABSOLUTE_LIMIT)
    return limit


def review_schedule(d: Detention) -> list[Review]:
    """Every review so far and the next one due (none before authorisation or after release). After charge
    the same schedule continues (s.40(1)(a), s.40(3)): charging does not restart the review clock."""
    if d.authorised_at is None:
        return []
    postponed = dict(d.postponed)
    reviews, due = [], d.authorised_at + FIRST_REVIEW
    for index, done in enumerate(d.reviews_done):
        reviews.append(Review(due, done, postponed.get(index)))
        due = min(done, due) + REVIEW_INTERVAL
    if d.released_at is None:
        reviews.append(Review(due))
    return reviews


def next_review_due(d: Detention) -> datetime | None:
    schedule = review_schedule(d)
    return schedule[-1].due_at if schedule and schedule[-1].done_at is None else None


def reviewer_roles(d: Detention, at: datetime) -> tuple[frozenset[str], str]:
    """Who may carry out a review at `at`, and the rule: after charge the custody officer (s.40(1)(a)), before
    it an inspector not involved in the investigation (s.40(1)(b)) or a superintendent."""
    if d.charged_at is not None and at >= d.charged_at:
        return frozenset({"custody_officer"}), "after charge the custody officer reviews (PACE s.40(1)(a))"
    return (frozenset({"custody_inspector", "superintendent"}),
            "before charge an inspector not involved in the investigation reviews (PACE s.40(1)(b))")


def check_reviewer_not_involved(d: Detention, at: datetime, reviewer: str,
                                involved: list[tuple[str, str | None]]) -> None:
    """Before charge the reviewing officer is not involved in the investigation (s.40(1)(b)): ClockError when
    `reviewer` is one of `involved` (what they are, e.g. "the arresting officer", and who)."""
    if d.charged_at is not None and at >= d.charged_at:
        return
    for what, officer in involved:
        if officer and officer.strip().casefold() == reviewer.strip().casefold():
            raise ClockError(f"{reviewer} is {what}: before charge an inspector not involved in the investigation "
                             "reviews (PACE s.40(1)(b))")


def check_extension(d: Detention, now: datetime) -> datetime:
    """The limit a superintendent's extension would set now (36 hours from the relevant time), or
    ClockError naming the rule that stops it."""
    start = relevant_time(d)
    if d.extended_at is not None:
        raise ClockError("detention has already been extended by a superintendent (s.42)")
    if not d.indictable:
        raise ClockError("an extension needs an indictable offence (s.42(1)); this one is summary only")
    if len(d.reviews_done) < 2:
        raise ClockError(f"an extension can be given only after the second review (s.42(4)); "
                         f"{len(d.reviews_done)} done")
    if now >= start + BASIC_LIMIT:
        raise ClockError("an extension must be given before 24 hours from the relevant time (s.42(1))")
    return start + EXTENDED_LIMIT


def check_warrant(d: Detention, applied_at: datetime, hours: int,
                  not_practicable_reason: str | None = None) -> datetime:
    """The limit a warrant of `hours` would set (the first, s.43; or the extension of the one in force,
    s.44), or ClockError naming the rule."""
    start = relevant_time(d)
    if d.charged_at is not None and applied_at >= d.charged_at:
        raise ClockError("the detainee has been charged: a warrant of further detention is for detention "
                         "without charge (PACE s.43(1))")
    if not d.warrants and d.extended_at is None and applied_at > start + BASIC_LIMIT:
        raise ClockError(f"detention without charge ended at {(start + BASIC_LIMIT).isoformat()} (24 hours, PACE "
                         "s.41(1)) with no superintendent's extension: a warrant of further detention can be "
                         "sought only while detention is lawful (PACE s.43(1))")
    if not 0 < hours <= 36:
        raise ClockError("a warrant of further detention runs for at most 36 hours from its issue (s.43(12))")
    if not d.indictable:
        raise ClockError("a warrant needs an indictable offence (s.43(4))")
    if d.warrants:
        if applied_at > detention_limit(d):
            raise ClockError("an extension of a warrant must be applied for while the warrant is in force (s.44(1))")
    elif applied_at > start + EXTENDED_LIMIT:
        deadline = start + EXTENDED_LIMIT
        if not (not_practicable_reason or "").strip() or applied_at > deadline + WARRANT_APPLICATION_GRACE:
            raise ClockError("the application must be made within 36 hours of the relevant time, or within 6 hours "
                             "more when that was not practicable, with the reason (s.43(5))")
    if applied_at >= start + ABSOLUTE_LIMIT:
        raise ClockError("no detention without charge beyond 96 hours from the relevant time (s.44(3))")
    return min(applied_at + timedelta(hours=hours), start + ABSOLUTE_LIMIT)


def is_juvenile(d: Detention) -> bool:
    """Under 18 (Code C 1.5) on the day of arrival in the force's time zone: 00:30 BST on an 18th birthday is 18."""
    if d.date_of_birth is None:
        return False
    return completed_years(d.date_of_birth, local(d.arrived_at, d.time_zone).date()) < ADULT_AGE


def check_outcome(d: Detention, outcome: str) -> None:
    """ClockError when the release outcome contradicts the timeline: charged (s.38) needs a charge recorded; after
    a charge, no release without charge (s.37(7)(b), (c) are for before charge)."""
    if outcome in CHARGED_OUTCOMES and d.charged_at is None:
        raise ClockError(f"{outcome} needs a charge on the record: add the charge entry first (PACE s.38)")
    if outcome in WITHOUT_CHARGE_OUTCOMES and d.charged_at is not None:
        raise ClockError(f"the detainee was charged at {d.charged_at.isoformat()}: {outcome} is for release before "
                         "charge (PACE s.37(7)); after charge they are remanded or bailed (s.38)")


def appropriate_adult_outstanding(d: Detention) -> bool:
    return (is_juvenile(d) or d.vulnerable) and d.appropriate_adult_at is None


def check_interview(d: Detention, at: datetime) -> None:
    """No interview before the detainee's rights are given (Code C 3.1) and legal advice offered (Code C 6.1,
    11.2); a juvenile or vulnerable detainee not before an appropriate adult is there (Code C 11.15)."""
    if d.rights_given_at is None or d.rights_given_at > at:
        raise ClockError("an interview needs the detainee's rights and entitlements given first (Code C 3.1, 11.2)")
    if d.legal_advice_offered_at is None or d.legal_advice_offered_at > at:
        raise ClockError("an interview needs free legal advice offered first (Code C 6.1, 11.2)")
    if (is_juvenile(d) or d.vulnerable) and (d.appropriate_adult_at is None or d.appropriate_adult_at > at):
        raise ClockError("an interview needs the appropriate adult first: the detainee is "
                         + ("under 18" if is_juvenile(d) else "vulnerable") + " (Code C 11.15)")


def check_appropriate_adult(police_officer_or_staff: bool) -> None:
    """An appropriate adult is never a police officer or someone employed by the police (Code C 1.7(b))."""
    if police_officer_or_staff:
        raise ClockError("a police officer or someone employed by the police cannot be the appropriate adult "
                         "(Code C 1.7(b))")


def booking_due(d: Detention) -> list[tuple[str, datetime]]:
    """What is due at once on booking in and not yet recorded: rights given (Code C 3.1), risk assessment
    (Code C 3.6); due from authorisation (or arrival)."""
    if d.released_at is not None:
        return []
    due = d.authorised_at or d.arrived_at
    items = []
    if d.rights_given_at is None:
        items.append(("rights and entitlements (Code C 3.1)", due))
    if d.risk_assessed_at is None:
        items.append(("risk assessment (Code C 3.6)", due))
    return items


def next_visit_due(d: Detention) -> datetime | None:
    if d.released_at is not None:
        return None
    interval = d.visit_intervals[d.observation_level]
    last = max(d.visits) if d.visits else (d.authorised_at or d.arrived_at)
    return last + interval


def next_doses_due(d: Detention) -> list[tuple[str, datetime]]:
    if d.released_at is not None:
        return []
    out = []
    for med in d.medications:
        due = max(med.given_at) + med.interval if med.given_at else med.first_due_at
        out.append((med.name, due))
    return sorted(out, key=lambda item: item[1])


@dataclass(frozen=True)
class Overdue:
    what: str
    due_at: datetime | None


def current_time() -> datetime:
    return datetime.now(timezone.utc)


def overdue(d: Detention, now: datetime | None = None) -> list[Overdue]:
    """What is late now, most urgent (earliest due) first."""
    now = now or current_time()
    _aware(now, "now")
    items: list[Overdue] = []
    if d.charged_at is None and d.released_at is None and now > detention_limit(d):
        items.append(Overdue("detention limit passed: charge or release", detention_limit(d)))
    review = next_review_due(d)
    if review is not None and now > review:
        items.append(Overdue("review", review))
    for what, due in booking_due(d):
        if now >= due:
            items.append(Overdue(what, due))
    visit = next_visit_due(d)
    if visit is not None and now > visit and d.visit_intervals[d.observation_level] > timedelta(0):
        items.append(Overdue("visit", visit))
    for name, due in next_doses_due(d):
        if now > due:
            items.append(Overdue(f"medication: {name}", due))
    if d.released_at is None and appropriate_adult_outstanding(d):
        items.append(Overdue("appropriate adult", None))
    return sorted(items, key=lambda o: (o.due_at is None, o.due_at or now))


# On the board, these come ahead of everything else that is late.
FIRST_CLASS = ("detention limit passed: charge or release", "review")


def urgency(d: Detention, now: datetime) -> tuple[int, datetime]:
    """Where a detainee stands on the board, smallest first: a breached detention limit or an overdue review
    (0), anything else overdue (1), then nothing late (2); within each, the earliest due or most overdue time of
    any kind."""
    late = overdue(d, now)
    first = [o.due_at for o in late if o.what in FIRST_CLASS and o.due_at is not None]
    if first:
        return 0, min(first)
    timed = [o.due_at for o in late if o.due_at is not None]
    if late:
        return 1, min(timed, default=now)
    upcoming = [next_review_due(d), next_visit_due(d), *(t for _, t in next_doses_due(d))]
    if d.charged_at is None and d.released_at is None:
        upcoming.append(detention_limit(d))
    return 2, min((t for t in upcoming if t is not None), default=now)


def local(moment: datetime, time_zone: str) -> datetime:
    """A moment in the force's time zone, for people to read."""
    return moment.astimezone(ZoneInfo(time_zone))
