"""When an investigation, an intelligence report or a custody record may be disposed of, and in what order a list
is executed: pure functions of facts read beforehand (app/retention/cascade.py reads them), each with its source.

What goes with what (the cascade, app/retention/cascade.py):
- an investigation takes its entries (log, actions, charges), its Victims' Code preferences and contacts, its
  tasks, its documents, the POLE event it specialises (with that event's links and documents) and its case file
  (submissions, court results, the bundles in storage); custody records that belong to it stay, no longer naming
  it: they are reviewed in their own right (PACE custody records are a record type of their own under PIRM);
- an intelligence report takes its disseminations, its tasks, its documents and its POLE event with the links
  that attached it to people, objects, locations and events;
- a custody record takes its entries (rights, risk, reviews, the clock's facts, charges), its links to
  investigations, its tasks and documents; the detainee stays (the person is reviewed in their own right).
A case file is not reviewed on its own (app/retention/policy.py REVIEWED_TYPES): it is part of its investigation's
crime record, and goes with it.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

# Execution order of an approved list: a record that refers to others goes before what it refers to, so that a
# list holding both disposes of both in one run. An investigation before the custody records its case file cites
# and before its own event; a custody record before its detainee; an event before its location.
DISPOSAL_ORDER = ("intelligence", "investigation", "custody", "event", "object", "location", "person")

# Results that end a charge (CPIA 1996 Code of Practice para 5.9: material is kept at least until the accused is
# acquitted or convicted, or the prosecutor decides not to proceed): an acquittal, a dismissal, a withdrawal, or a
# conviction with its sentence. "guilty" without a sentence awaits sentence; "adjourned" is still before the court.
FINAL_RESULTS = ("not_guilty", "dismissed", "withdrawn")
# CPIA 1996 Code of Practice para 5.9: after a conviction, material is kept at least six months from its date (or
# until release from custody, which Concord does not hold: the six months is the floor it can enforce).
MONTHS_AFTER_CONVICTION = 6


def order_key(record_type: str) -> int:
    """Where a record of this type comes in a list's execution (DISPOSAL_ORDER)."""
    return DISPOSAL_ORDER.index(record_type)


@dataclass(frozen=True)
class Result:
    """A court result on a case file, as recorded."""

    charge_id: str | None
    result: str
    sentence: str | None
    decided_on: date


@dataclass(frozen=True)
class CaseFacts:
    urn: str
    submitted: bool
    charge_ids: list[str]
    results: list[Result]  # in the order recorded


def undecided_charges(case: CaseFacts) -> list[str]:
    """The charges of a case file still before the court: submitted, and whose latest result does not end them
    (CPIA Code para 5.9). A file never submitted to the CPS was never before the court."""
    if not case.submitted and not case.results:
        return []
    latest: dict[str, Result] = {}
    for result in case.results:
        if result.charge_id is not None:
            latest[result.charge_id] = result
    return [c for c in case.charge_ids if c not in latest or not _ends(latest[c])]


def _ends(result: Result) -> bool:
    return result.result in FINAL_RESULTS or (result.result == "guilty" and bool(result.sentence))


def conviction_hold_until(case: CaseFacts) -> date | None:
    """The day a case file's convictions stop holding it (CPIA Code para 5.9: six months from the conviction)."""
    convicted = [r.decided_on for r in case.results if r.result == "guilty"]
    if not convicted:
        return None
    day = max(convicted)
    months = day.month - 1 + MONTHS_AFTER_CONVICTION
    year, month = day.year + months // 12, months % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def investigation_refusal(*, reference: str, status: str, case: CaseFacts | None, today: date) -> str | None:
    """Why an investigation may not be disposed of yet, or None.

    - It must be finalised: every recorded crime is closed with a Home Office outcome (Home Office Counting Rules;
      DOMAIN.md "Investigations"); an open one is cancelled or transferred under the HOCR, not disposed of.
    - Its case file must not be before the court, nor within six months of a conviction (CPIA Code para 5.9).
    """
    if status != "finalised":
        return (f"Investigation {reference} is {status.replace('_', ' ')}: a recorded crime is disposed of only once "
                "finalised with a Home Office outcome (Home Office Counting Rules)")
    if case is None:
        return None
    undecided = undecided_charges(case)
    if undecided:
        return (f"Case file {case.urn} of {reference} is still before the court: no final result on charge "
                f"{', '.join(undecided)} (CPIA 1996 Code of Practice para 5.9)")
    until = conviction_hold_until(case)
    if until is not None and today < until:
        return (f"Case file {case.urn} of {reference} is kept until {until.isoformat()}, six months after the "
                "conviction (CPIA 1996 Code of Practice para 5.9)")
    return None


def custody_refusal(*, custody_number: str, released: bool, open_investigations: list[str],
                    citing_case_files: list[str]) -> str | None:
    """Why a custody record may not be disposed of yet, or None.

    - The detainee must have been released: an open detention is running under PACE 1984 (ss.37-44).
    - The investigations it belongs to must be finalised: the detention is evidence in an open one (CPIA Code
      para 5.8: material is kept until a decision whether to institute proceedings).
    - No case file may cite it (a charge in custody on the MG4): the custody record supports that case file, which
      goes with its investigation; dispose of that first (or with it, on the same list).
    """
    if not released:
        return f"Custody record {custody_number} is open: the detainee has not been released (PACE 1984)"
    if open_investigations:
        return (f"Custody record {custody_number} belongs to investigation {', '.join(open_investigations)}, not "
                "yet finalised (CPIA 1996 Code of Practice para 5.8)")
    if citing_case_files:
        return (f"Custody record {custody_number} is cited by case file {', '.join(citing_case_files)}: dispose of "
                "that case file's investigation first, or on the same list")
    return None


def companion_refusal(*, record_type: str, of: str, decision: str | None, restricted: bool) -> str | None:
    """Why a record that goes with another (an investigation's event, its case file) stops it: restricted instead
    of erased (DPA 2018 s.47(2)), or reviewed on its own and retained (PIRM: every decision to retain stands until
    the next review)."""
    if restricted:
        return f"The {record_type} of this {of} is restricted (kept as evidence): lift the restriction first"
    if decision == "retain":
        return f"The {record_type} of this {of} was reviewed and retained: review it again first"
    return None
