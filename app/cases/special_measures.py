"""Who MG2 (special measures) lists, and why: the Youth Justice and Criminal Evidence Act 1999.

Pure rules. A witness (a victim or any other witness for the prosecution) is eligible for special measures if
under 18 at the time of the hearing (s.16(1)(a)), or vulnerable (s.16(1)(b)) or intimidated (s.17), which the
officer records as the victim's enhanced rights under the Victims' Code. The hearing's date is not known when the
file is prepared, so age is counted on the day the file is read: the officer reviews it before the hearing.
"""
from __future__ import annotations

from datetime import date

from app.people.identifiers import PartialDate, certainly_under

WITNESS_UNDER = 18  # years, at the time of the hearing (s.16(1)(a), as amended by the Coroners and Justice Act 2009)


def eligibility(*, date_of_birth: PartialDate | None, assessed_vulnerable: bool, on: date) -> str | None:
    """Why the witness is eligible for special measures, or None when nothing on the record says they are."""
    reasons = []
    if date_of_birth is not None and certainly_under(date_of_birth, WITNESS_UNDER, on):
        reasons.append("under 18 (YJCEA 1999 s.16(1)(a))")
    if assessed_vulnerable:
        reasons.append("vulnerable or intimidated (Victims' Code enhanced rights; YJCEA 1999 ss.16(1)(b), 17)")
    return "; ".join(reasons) or None
