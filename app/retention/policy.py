"""Which PIRM group a record belongs to and when it is next reviewed: one function of the record's facts and its
force's `[retention]` policy, applied to every record as it is written (a flush hook, so that every service that
changes a deciding fact — an offence classification, an outcome, a warning marker — recomputes it alike).

Below every domain (it reads facts by name from the record, imports no domain), so that any may be written
through it. The national defaults and their source are in app/tenancy/config.py (NATIONAL_RETENTION...).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db import Record

# Record types reviewed in their own right; a link is kept and disposed of with its ends, a case file with its
# investigation.
REVIEWED_TYPES = ("person", "object", "location", "event", "investigation", "intelligence", "custody")


@dataclass(frozen=True)
class Assessment:
    group: int
    review_on: date
    policy_version: str


def _offence_matches(code: str, entries: list[str]) -> bool:
    """A Home Office code ("19/2") against a policy's classes ("19") and codes ("4/1")."""
    return any(code == entry or ("/" not in entry and code.split("/")[0] == entry) for entry in entries)


def _facts(record: Any) -> tuple[list[str], int | None, list[str], date]:
    """(offences, outcome, warning markers, the date the review period runs from) of a record."""
    offences = [c for c in [getattr(record, "primary_classification", None),
                            *(getattr(record, "included_classifications", None) or [])] if c]
    markers = [m.code for m in getattr(record, "warning_markers", None) or []]
    starts = [getattr(record, "finalised_at", None) or record.created_at or datetime.now(timezone.utc)]
    starts += [m.from_date for m in getattr(record, "warning_markers", None) or []]
    start = max(s.date() if isinstance(s, datetime) else s for s in starts)
    return offences, getattr(record, "outcome_type", None), markers, start


def group_of(policy: dict[str, Any], offences: list[str], outcome: int | None, markers: list[str]) -> int:
    """The group the facts place a record in: group 1 and 2 offences or markers first, then an undetected
    outcome (group 4), else group 3 (all other offences)."""
    for group in (1, 2):
        if any(_offence_matches(code, policy[f"group_{group}_offences"]) for code in offences) or \
                set(markers) & set(policy[f"group_{group}_markers"]):
            return group
    if outcome is not None and outcome in policy["undetected_outcomes"]:
        return 4
    return 3


def assess(policy: dict[str, Any], record: Any) -> Assessment:
    """The record's group and next review date under the policy: its period after the facts' latest date, or
    the date a retain decision set, whichever is later."""
    offences, outcome, markers, start = _facts(record)
    group = group_of(policy, offences, outcome, markers)
    years = policy[f"group_{group}"]["review_after_years"]
    review_on = _add_years(start, years)
    if record.retained_to is not None:
        review_on = max(review_on, record.retained_to)
    return Assessment(group, review_on, policy["version"])


def apply(policy: dict[str, Any], record: Record) -> None:
    """Set the record's group and review date from its facts (nothing for a type not reviewed on its own)."""
    if record.record_type not in REVIEWED_TYPES:
        return
    assessment = assess(policy, record)
    if (record.retention_group, record.review_on) != (assessment.group, assessment.review_on):
        record.retention_group, record.review_on = assessment.group, assessment.review_on


def retain_until_age_passed(policy: dict[str, Any], group: int, date_of_birth: date | None, today: date) -> bool:
    """Whether a group's 'kept until the subject is deemed N years old' allows disposal today (True when the
    group has no such rule; False when the subject's age is unknown)."""
    age = policy[f"group_{group}"].get("retain_until_age")
    if age is None:
        return True
    return date_of_birth is not None and _add_years(date_of_birth, age) <= today


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@event.listens_for(Session, "before_flush")
def _assess_written_records(session: Session, _flush: Any, _instances: Any) -> None:
    tenant = session.info.get("tenant")
    if tenant is None:
        return
    policy = tenant.settings["retention"]
    with session.no_autoflush:  # reading a fact (a person's markers) may load it
        for instance in (*session.new, *session.dirty):
            if isinstance(instance, Record) and instance.tenant_id == tenant.id:
                apply(policy, instance)
