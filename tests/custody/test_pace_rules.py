"""Custody rules of issue 14 through the API, as the sergeant sees them: the status and the rule named."""
from __future__ import annotations

from datetime import datetime, timedelta

from tests.custody.test_records import NOW, H, book, detail, entry, iso, rights_and_advice

M = timedelta(minutes=1)


def test_no_warrant_once_24_hours_have_passed_without_an_extension(sergeant, inspector):
    arrived = NOW - 30 * H
    record = book(sergeant, arrived=arrived)
    for hours in (6, 15):
        assert entry(inspector, record, "review", arrived + hours * H, decision="continue").status_code == 201
    lawful = entry(sergeant, record, "warrant", arrived + 24 * H, hours=12, court="Northtown Magistrates")
    assert lawful.status_code == 201, lawful.get_json()  # at the 24th hour detention is still lawful

    ended = book(sergeant, arrived=arrived)
    refused = entry(sergeant, ended, "warrant", arrived + 24 * H + M, hours=12, court="Northtown Magistrates")
    assert refused.status_code == 409
    assert "s.43(1)" in refused.get_json()["message"] and "s.41(1)" in refused.get_json()["message"]
    assert datetime.fromisoformat(detail(sergeant, ended)["clock"]["detention_limit"]) == arrived + 24 * H


def test_no_warrant_once_the_extended_limit_has_passed(sergeant, inspector, superintendent):
    arrived = NOW - 40 * H
    record = book(sergeant, arrived=arrived)
    for hours in (6, 15):
        assert entry(inspector, record, "review", arrived + hours * H, decision="continue").status_code == 201
    assert entry(superintendent, record, "extension", arrived + 20 * H, grounds="enquiries").status_code == 201
    late = entry(sergeant, record, "warrant", arrived + 36 * H + M, hours=12, court="Northtown Magistrates")
    assert late.status_code == 409 and "s.43(5)" in late.get_json()["message"]


def test_after_charge_the_custody_officer_reviews_on_the_same_schedule(sergeant, inspector):
    arrived = NOW - 20 * H
    record = book(sergeant, arrived=arrived)
    assert entry(inspector, record, "review", arrived + 6 * H, decision="charge").status_code == 201
    assert entry(sergeant, record, "charge", arrived + 7 * H, offences=["Burglary of a dwelling"]).status_code == 201
    clock = detail(sergeant, record)["clock"]
    assert datetime.fromisoformat(clock["next_review_due"]) == arrived + 15 * H  # not stopped by the charge
    assert "review" in {o["what"] for o in clock["overdue"]}
    by_inspector = entry(inspector, record, "review", arrived + 14 * H, decision="continue")
    assert by_inspector.status_code == 403 and "s.40(1)(a)" in by_inspector.get_json()["message"]
    assert entry(sergeant, record, "review", arrived + 14 * H, decision="continue").status_code == 201
    before_charge = book(sergeant, arrived=arrived)
    by_sergeant = entry(sergeant, before_charge, "review", arrived + 5 * H, decision="continue")
    assert by_sergeant.status_code == 403 and "s.40(1)(b)" in by_sergeant.get_json()["message"]


def test_rights_and_the_risk_assessment_are_overdue_until_recorded(sergeant):
    arrived = NOW - 10 * M
    record = book(sergeant, arrived=arrived)
    overdue = [o["what"] for o in detail(sergeant, record)["clock"]["overdue"]]
    assert overdue == ["rights and entitlements (Code C 3.1)", "risk assessment (Code C 3.6)"]
    board = sergeant.get("/api/v1/custody/suites/NTH/board").get_json()["items"]
    mine = next(i for i in board if i["record"]["id"] == record["id"])
    assert [o["what"] for o in mine["clock"]["overdue"]][:2] == overdue
    assert entry(sergeant, record, "rights_given", arrived + M, written_notice=True).status_code == 201
    assert [o["what"] for o in detail(sergeant, record)["clock"]["overdue"]] == ["risk assessment (Code C 3.6)"]
    assert entry(sergeant, record, "risk_assessment", arrived + 2 * M, answers={"self_harm": "no"},
                 level="low").status_code == 201
    assert detail(sergeant, record)["clock"]["overdue"] == []


def test_no_interview_before_rights_and_legal_advice(sergeant):
    record = book(sergeant, arrived=NOW - 3 * H)
    first = entry(sergeant, record, "interview", NOW - H, by="DC 4")
    assert first.status_code == 409 and "Code C 3.1" in first.get_json()["message"]
    assert entry(sergeant, record, "rights_given", NOW - 2 * H, written_notice=True).status_code == 201
    second = entry(sergeant, record, "interview", NOW - H, by="DC 4")
    assert second.status_code == 409 and "Code C 6.1" in second.get_json()["message"]
    advice = entry(sergeant, record, "legal_advice", NOW - 90 * M, requested=True, solicitor="A. Brief")
    assert advice.status_code == 201
    assert entry(sergeant, record, "interview", NOW - 91 * M, by="DC 4").status_code == 409  # before the offer
    assert entry(sergeant, record, "interview", NOW - H, by="DC 4").status_code == 201


def test_a_police_officer_or_police_staff_is_refused_as_appropriate_adult(sergeant):
    record = book(sergeant, arrived=NOW - 3 * H, dob=f"{NOW.year - 15}-01-01")
    refused = entry(sergeant, record, "appropriate_adult", NOW - 2 * H, name="PC Parent", relationship="father",
                    police_officer_or_staff=True)
    assert refused.status_code == 409 and "Code C 1.7(b)" in refused.get_json()["message"]
    unanswered = entry(sergeant, record, "appropriate_adult", NOW - 2 * H, name="A. Parent", relationship="mother")
    assert unanswered.status_code == 422 and "police_officer_or_staff" in str(unanswered.get_json()["errors"])
    assert detail(sergeant, record)["clock"]["appropriate_adult_outstanding"] is True


def test_a_voluntary_attender_arrested_later_starts_the_clock_at_the_arrest(sergeant):
    arrived = NOW - 5 * H
    arrested = arrived + 2 * H
    record = book(sergeant, arrived=arrived, voluntary_attender=True, arrested_at=iso(arrested),
                  authorised_at=iso(arrested))
    clock = detail(sergeant, record)["clock"]
    assert datetime.fromisoformat(clock["relevant_time"]) == arrested  # s.41(2)(c)
    assert datetime.fromisoformat(clock["detention_limit"]) == arrested + 24 * H
    body = {"suite": "NTH", "person": {"surname": "Early", "forenames": "Arrival", "sex": "male"}, "confirm_new": True,
            "arrested_at": iso(arrested), "arrest_place": "x", "arresting_officer": "x", "arrived_at": iso(arrived),
            "offences": [{"code": "28/1", "wording": "x", "indictable": True}]}
    not_voluntary = sergeant.post("/api/v1/custody/records", json=body)
    assert not_voluntary.status_code == 422 and "arrived_at" in not_voluntary.get_json()["errors"]
    early = sergeant.post("/api/v1/custody/records", json={**body, "voluntary_attender": True,
                                                           "authorised_at": iso(arrived), "authorised_by": "PS 1",
                                                           "grounds": "x"})
    assert early.status_code == 422 and "authorised_at" in early.get_json()["errors"]


def test_the_board_puts_an_overdue_review_ahead_of_more_numerous_late_items(sergeant, inspector):
    # many late items, but none a review or the limit: rights, risk, a visit, a dose
    busy = book(sergeant, arrived=NOW - 3 * H)
    assert entry(sergeant, busy, "medication", NOW - 2 * H, name="insulin", dose="10u", interval_hours=1,
                 first_due_at=iso(NOW - 2 * H)).status_code == 201
    # one late item, a review, 1 minute late, all else done
    review_late = book(sergeant, arrived=NOW - 6 * H - M)
    rights_and_advice(sergeant, review_late, NOW - 6 * H)
    assert entry(sergeant, review_late, "risk_assessment", NOW - 6 * H, answers={}, level="low").status_code == 201
    assert entry(sergeant, review_late, "visit", NOW - 10 * M, condition="awake").status_code == 201
    board = sergeant.get("/api/v1/custody/suites/NTH/board").get_json()["items"]
    ids = [item["record"]["id"] for item in board]
    assert ids.index(review_late["id"]) < ids.index(busy["id"])
    mine = next(item for item in board if item["record"]["id"] == review_late["id"])
    assert [o["what"] for o in mine["clock"]["overdue"]] == ["review"]


def test_every_time_on_the_board_is_in_the_forces_local_time(sergeant):
    record = book(sergeant, arrived=NOW - H)
    board = sergeant.get("/api/v1/custody/suites/NTH/board").get_json()["items"]
    mine = next(item for item in board if item["record"]["id"] == record["id"])
    times = [mine["record"][f] for f in ("arrested_at", "arrived_at", "authorised_at")]
    times += [mine["clock"][f] for f in ("relevant_time", "detention_limit", "next_review_due", "next_visit_due")]
    offsets = {datetime.fromisoformat(t).utcoffset() for t in times}
    london = {timedelta(0), timedelta(hours=1)}
    assert offsets <= london and len({datetime.fromisoformat(t).tzname() for t in times[:3]}) == 1
    assert datetime.fromisoformat(mine["record"]["arrived_at"]) == NOW - H
    shown = detail(sergeant, record)
    assert datetime.fromisoformat(shown["record"]["arrived_at"]).utcoffset() in london


def test_a_dose_interval_outside_the_forces_range_is_refused_naming_the_field(sergeant):
    record = book(sergeant, arrived=NOW - H)
    short = entry(sergeant, record, "medication", NOW - 30 * M, name="x", dose="1", interval_hours=0.2,
                  first_due_at=iso(NOW))
    assert short.status_code == 422 and "data.interval_hours" in short.get_json()["errors"]
    assert entry(sergeant, record, "medication", NOW - 30 * M, name="x", dose="1", interval_hours=0.25,
                 first_due_at=iso(NOW)).status_code == 201


def test_the_arresting_or_authorising_officer_cannot_review_the_detention_before_charge(sergeant, as_user):
    record = book(sergeant, arresting_officer="insp-arrest", authorised_by="insp-auth")
    for user, what in (("insp-arrest", "the arresting officer"), ("insp-auth", "the officer who authorised")):
        inspector = as_user("northshire", "custody_inspector", user=user)
        review = entry(inspector, record, "review", NOW - 16 * H, decision="continue")
        assert review.status_code == 409, review.get_json()
        body = review.get_json()
        assert what in body["message"] and "not involved" in body["message"] and "recorded_by" in body["errors"]
    independent = as_user("northshire", "custody_inspector", user="insp-1")
    assert entry(independent, record, "review", NOW - 16 * H, decision="continue").status_code == 201


def test_a_release_outcome_contradicting_the_charge_is_refused_naming_the_outcome(sergeant):
    def release(record, outcome):
        path = f"/api/v1/custody/records/{record['id']}"
        return sergeant.post(f"{path}/release", headers={"If-Match": sergeant.get(path).headers["ETag"]},
                             json={"released_at": iso(NOW), "outcome": outcome})

    uncharged = book(sergeant)
    refused = release(uncharged, "charged_remanded")
    assert refused.status_code == 409 and "outcome" in refused.get_json()["errors"]
    assert "needs a charge" in refused.get_json()["message"]
    assert release(uncharged, "released_under_investigation").status_code == 200
    charged = book(sergeant)
    assert entry(sergeant, charged, "charge", NOW - H, offences=["Burglary of a dwelling"]).status_code == 201
    refused = release(charged, "no_further_action")
    assert refused.status_code == 409 and "before charge" in refused.get_json()["errors"]["outcome"][0]
    assert release(charged, "charged_bailed").status_code == 200
