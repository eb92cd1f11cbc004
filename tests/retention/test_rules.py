"""The disposal rules for investigations, their case files and custody records, as pure functions of the facts."""
from __future__ import annotations

from datetime import date

from app.retention import rules
from app.retention.rules import CaseFacts, Result


def _case(*results: Result, submitted: bool = True, charges: tuple[str, ...] = ("c1", "c2")) -> CaseFacts:
    return CaseFacts(urn="42CJ0000126", submitted=submitted, charge_ids=list(charges), results=list(results))


def test_a_charge_is_decided_by_its_latest_final_result_and_a_conviction_needs_its_sentence():
    adjourned, cleared = Result("c1", "adjourned", None, date(2026, 1, 5)), Result("c1", "not_guilty", None,
                                                                                  date(2026, 2, 5))
    assert rules.undecided_charges(_case(submitted=False)) == []  # never sent to the CPS or the court
    assert rules.undecided_charges(_case()) == ["c1", "c2"]
    assert rules.undecided_charges(_case(adjourned)) == ["c1", "c2"]
    assert rules.undecided_charges(_case(adjourned, cleared)) == ["c2"]
    assert rules.undecided_charges(_case(cleared, Result("c1", "adjourned", None, date(2026, 3, 1)))) == ["c1", "c2"]
    assert rules.undecided_charges(_case(Result("c2", "guilty", None, date(2026, 2, 5)), cleared)) == ["c2"]
    assert rules.undecided_charges(_case(Result("c2", "guilty", "Fine", date(2026, 2, 5)), cleared)) == []


def test_a_conviction_holds_the_file_six_months_to_the_day_or_the_months_last():
    assert rules.conviction_hold_until(_case(Result("c1", "dismissed", None, date(2026, 2, 5)))) is None
    assert rules.conviction_hold_until(_case(Result("c1", "guilty", "Fine", date(2026, 8, 31)))) == date(2027, 2, 28)
    assert rules.conviction_hold_until(_case(Result("c1", "guilty", "Fine", date(2026, 3, 15)),
                                             Result("c2", "guilty", "Fine", date(2026, 1, 1)))) == date(2026, 9, 15)


def test_an_investigation_goes_only_finalised_and_out_of_court():
    done = _case(Result("c1", "withdrawn", None, date(2026, 1, 1)), Result("c2", "guilty", "Fine", date(2026, 1, 1)))
    open_one = rules.investigation_refusal(reference="NS/1/26", status="under_investigation", case=None,
                                           today=date(2026, 12, 1))
    assert open_one is not None and "NS/1/26 is under investigation" in open_one
    assert rules.investigation_refusal(reference="NS/1/26", status="finalised", case=None, today=date(2026, 1, 1)) \
        is None
    held = rules.investigation_refusal(reference="NS/1/26", status="finalised", case=done, today=date(2026, 6, 30))
    assert held is not None and "kept until 2026-07-01" in held
    assert rules.investigation_refusal(reference="NS/1/26", status="finalised", case=done, today=date(2026, 7, 1)) \
        is None
    in_court = rules.investigation_refusal(reference="NS/1/26", status="finalised", case=_case(),
                                           today=date(2030, 1, 1))
    assert in_court is not None and "still before the court" in in_court and "c1, c2" in in_court


def test_a_custody_record_goes_only_released_and_unneeded_and_a_list_runs_referrers_first():
    assert "has not been released" in (rules.custody_refusal(custody_number="NTH/1/26", released=False,
                                                            open_investigations=[], citing_case_files=[]) or "")
    assert "NS/1/26, not yet finalised" in (rules.custody_refusal(
        custody_number="NTH/1/26", released=True, open_investigations=["NS/1/26"], citing_case_files=[]) or "")
    assert "cited by case file 42CJ" in (rules.custody_refusal(
        custody_number="NTH/1/26", released=True, open_investigations=[], citing_case_files=["42CJ"]) or "")
    assert rules.custody_refusal(custody_number="NTH/1/26", released=True, open_investigations=[],
                                 citing_case_files=[]) is None
    listed = ["person", "event", "custody", "location", "investigation", "object", "intelligence"]
    assert sorted(listed, key=rules.order_key) == ["intelligence", "investigation", "custody", "event", "object",
                                                   "location", "person"]
    assert rules.companion_refusal(record_type="event", of="investigation", decision="retain", restricted=False)
    assert rules.companion_refusal(record_type="event", of="investigation", decision="dispose", restricted=False) \
        is None
