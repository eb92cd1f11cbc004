"""Home Office outcome types and the conditions each puts on the facts, as data: one rule per condition, named in
the refusal with its source.

Sources: the Home Office Counting Rules for Recorded Crime and the crime outcomes framework (the outcome
definitions of "Crime outcomes in England and Wales", Home Office, which name the suspect where the outcome needs
one: 11-13 and 15-17 "named suspect identified", 14 and 18 "no suspect identified" / "named suspect not
identified"), and the Children and Young Persons Act 1933 s.50 for the age of criminal responsibility.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

OUTCOMES = {
    1: "charged/summonsed", 2: "caution – youth", 3: "caution – adult", 4: "taken into consideration",
    5: "offender died", 6: "penalty notice for disorder", 7: "cannabis/khat warning", 8: "community resolution",
    9: "prosecution not in the public interest (CPS)", 10: "formal action not in the public interest (police)",
    11: "prosecution prevented – suspect under age", 12: "prosecution prevented – suspect too ill",
    13: "prosecution prevented – victim or key witness dead or too ill",
    14: "evidential difficulties: suspect not identified; victim does not support action",
    15: "evidential difficulties: suspect identified; victim supports action",
    16: "evidential difficulties: suspect identified; victim does not support action",
    17: "prosecution time limit expired", 18: "investigation complete – no suspect identified",
    19: "National Fraud Intelligence Bureau filed", 20: "further investigation to be carried out by another body",
    21: "further investigation not in the public interest (police)",
    22: "diversionary, educational or intervention activity",
}
# "It shall be conclusively presumed that no child under the age of ten years can be guilty of any offence."
# (Children and Young Persons Act 1933 s.50, England and Wales.)
AGE_OF_CRIMINAL_RESPONSIBILITY = 10
ADULT = 18
# Outcomes that deal with a suspect: each needs one named (linked to the investigation as suspect).
NEEDS_SUSPECT = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 22})
# Outcomes that punish or divert an offender for the offence: none stands against a child below the age of
# criminal responsibility (outcome 11 records that case instead).
SANCTIONS = frozenset({1, 2, 3, 4, 6, 7, 8})
HOCR = "Home Office Counting Rules, crime outcomes framework"


@dataclass(frozen=True)
class OutcomeFacts:
    """What the outcome rules look at: the kind of record, its suspects' names, their ages at the offence (None
    when the date of birth is not known to the day) and whether a charge or summons is on record."""

    kind: str
    suspects: list[str]
    ages: list[int | None]
    charged: bool


@dataclass(frozen=True)
class OutcomeRule:
    """A condition some outcomes put on the facts: `breaks` is true when the facts do not meet it."""

    name: str
    outcomes: frozenset[int]
    breaks: Callable[[OutcomeFacts], bool]
    refusal: Callable[[OutcomeFacts], str]
    source: str = HOCR


def _named(facts: OutcomeFacts) -> str:
    return ", ".join(facts.suspects)


def _every_age_known(facts: OutcomeFacts) -> bool:
    return None not in facts.ages


def _all_below_responsibility(facts: OutcomeFacts) -> bool:
    return bool(facts.ages) and all(age is not None and age < AGE_OF_CRIMINAL_RESPONSIBILITY for age in facts.ages)


def _known(facts: OutcomeFacts) -> list[int]:
    return [age for age in facts.ages if age is not None]


# In the order they are checked: the first broken rule is the one the refusal names.
OUTCOME_RULES: tuple[OutcomeRule, ...] = (
    OutcomeRule("a crime, not a non-crime incident", frozenset({1}), lambda f: f.kind != "crime",
                lambda f: "cannot close a non-crime incident: no offence is recorded to charge or summons"),
    OutcomeRule("named suspect required", NEEDS_SUSPECT, lambda f: not f.suspects,
                lambda f: "needs a suspect linked to the investigation"),
    OutcomeRule("no suspect identified", frozenset({14}), lambda f: bool(f.suspects),
                lambda f: f"cannot stand with a named suspect ({_named(f)}): outcome 16 applies when the victim "
                          "does not support action"),
    OutcomeRule("no suspect identified", frozenset({18}), lambda f: bool(f.suspects),
                lambda f: f"cannot stand with a named suspect ({_named(f)})"),
    OutcomeRule("suspect's age known", frozenset({2, 3, 11}), lambda f: not _every_age_known(f),
                lambda f: "needs the suspect's date of birth (to the day) to know their age at the offence"),
    OutcomeRule("below the age of criminal responsibility", frozenset({11}),
                lambda f: not any(age < AGE_OF_CRIMINAL_RESPONSIBILITY for age in _known(f)),
                lambda f: f"needs a suspect under {AGE_OF_CRIMINAL_RESPONSIBILITY} at the offence (the age of "
                          "criminal responsibility in England and Wales)",
                "Children and Young Persons Act 1933 s.50; " + HOCR),
    OutcomeRule("criminally responsible suspect", SANCTIONS, _all_below_responsibility,
                lambda f: f"cannot stand against a suspect under {AGE_OF_CRIMINAL_RESPONSIBILITY} at the offence: "
                          "outcome 11 applies",
                "Children and Young Persons Act 1933 s.50; " + HOCR),
    OutcomeRule("youth caution: suspect under 18", frozenset({2}),
                lambda f: not any(age < ADULT for age in _known(f)),
                lambda f: f"needs a suspect under {ADULT} at the offence",
                "Crime and Disorder Act 1998 s.66ZA; " + HOCR),
    OutcomeRule("adult caution: suspect 18 or over", frozenset({3}),
                lambda f: not any(age >= ADULT for age in _known(f)),
                lambda f: f"needs a suspect aged {ADULT} or over at the offence", HOCR),
    OutcomeRule("charge or summons on record", frozenset({1}), lambda f: not f.charged,
                lambda f: "needs a charge or summons on record"),
)
