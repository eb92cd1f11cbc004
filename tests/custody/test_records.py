"""Custody through the API: booking in, the timeline checked against PACE, cells, corrections, the board."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.conftest import unique_name

NOW = datetime.now(timezone.utc).replace(microsecond=0)
H = timedelta(hours=1)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def book(api, arrived=NOW - 20 * H, indictable=True, dob="1990-05-05", **extra):
    body = {
        "suite": "NTH", "person": {"surname": unique_name("Det"), "forenames": "Sam", "sex": "male",
                                   "date_of_birth": dob},
        "confirm_new": True, "arrested_at": iso(arrived - H), "arrest_place": "High Street, Northtown",
        "arresting_officer": "PC 101", "arrived_at": iso(arrived), "authorised_at": iso(arrived),
        "authorised_by": "PS 12", "grounds": "to secure and preserve evidence",
        "offences": [{"code": "28/1", "wording": "Burglary of a dwelling", "indictable": indictable}], **extra}
    response = api.post("/api/v1/custody/records", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def entry(api, record, kind, at, **data):
    return api.post(f"/api/v1/custody/records/{record['id']}/entries",
                    json={"kind": kind, "occurred_at": iso(at), "data": data})


def rights_and_advice(api, record, at):
    """What Code C needs before an interview: rights given (3.1), legal advice offered (6.1)."""
    assert entry(api, record, "rights_given", at, written_notice=True).status_code == 201
    assert entry(api, record, "legal_advice", at, requested=False).status_code == 201


def detail(api, record):
    return api.get(f"/api/v1/custody/records/{record['id']}").get_json()


def test_booking_in_allocates_a_custody_number_and_starts_the_clock(sergeant):
    first, second = book(sergeant), book(sergeant)
    year = (NOW - 20 * H).year % 100
    assert first["custody_number"].startswith(f"NTH/{year:02d}/")
    assert int(second["custody_number"].rsplit("/", 1)[1]) == int(first["custody_number"].rsplit("/", 1)[1]) + 1
    clock = detail(sergeant, first)["clock"]
    arrived = NOW - 20 * H
    assert datetime.fromisoformat(clock["relevant_time"]) == arrived
    assert datetime.fromisoformat(clock["detention_limit"]) == arrived + 24 * H
    assert clock["relevant_time"].endswith(("+00:00", "+01:00"))  # shown in Europe/London


def test_bad_bookings_are_refused_naming_the_field(sergeant):
    arrived = NOW - 2 * H
    base = {"suite": "NTH", "person": {"surname": "X", "forenames": "Y", "sex": "male"}, "confirm_new": True,
            "arrested_at": iso(arrived), "arrest_place": "x", "arresting_officer": "x", "arrived_at": iso(arrived),
            "offences": [{"code": "28/1", "wording": "x", "indictable": True}]}
    cases = [({"suite": "NOPE"}, "suite"), ({"arrived_at": iso(arrived - 2 * H)}, "arrived_at"),
             ({"arrived_at": iso(NOW + 5 * H)}, "arrived_at"),
             ({"relevant_time_override": iso(arrived)}, "override_reason"),
             ({"offences": [{"code": "burglary", "wording": "x", "indictable": True}]}, "offences")]
    for change, field in cases:
        response = sergeant.post("/api/v1/custody/records", json={**base, **change})
        assert response.status_code == 422 and field in response.get_json()["errors"], (change, response.get_json())


def test_reviews_follow_pace_and_an_impossible_timeline_is_refused(sergeant, inspector):
    arrived = NOW - 20 * H
    record = book(sergeant, arrived=arrived)
    early = entry(inspector, record, "review", arrived - timedelta(minutes=1), decision="continue")
    assert early.status_code == 422 and "before the detainee arrived" in early.get_json()["message"]
    late = entry(inspector, record, "review", arrived + 7 * H, decision="continue")
    assert late.status_code == 409 and "postponed" in late.get_json()["message"]
    ok = entry(inspector, record, "review", arrived + 7 * H, decision="continue",
               postponed_reason="detainee at hospital")
    assert ok.status_code == 201, ok.get_json()
    assert datetime.fromisoformat(detail(sergeant, record)["clock"]["next_review_due"]) == arrived + 15 * H
    assert entry(sergeant, record, "review", arrived + 8 * H, decision="continue").status_code == 403
    future = entry(sergeant, record, "visit", NOW + H, condition="asleep")
    assert future.status_code == 422 and "future" in str(future.get_json()["errors"])


def test_an_extension_is_refused_before_the_second_review_and_for_a_summary_offence(sergeant, inspector, as_user):
    superintendent = as_user("northshire", "superintendent", user="supt-1")
    arrived = NOW - 20 * H
    summary = book(sergeant, arrived=arrived, indictable=False)
    refused = entry(superintendent, summary, "extension", arrived + 19 * H, grounds="more enquiries")
    assert refused.status_code == 409 and "indictable" in refused.get_json()["message"]
    record = book(sergeant, arrived=arrived)
    before = entry(superintendent, record, "extension", arrived + 10 * H, grounds="more enquiries")
    assert before.status_code == 409 and "second review" in before.get_json()["message"]
    for hours in (6, 15):
        assert entry(inspector, record, "review", arrived + hours * H, decision="continue").status_code == 201
    assert entry(superintendent, record, "extension", arrived + 19 * H, grounds="more enquiries").status_code == 201
    assert datetime.fromisoformat(detail(sergeant, record)["clock"]["detention_limit"]) == arrived + 36 * H
    assert entry(sergeant, record, "warrant", arrived + 19 * H, hours=40, court="x").status_code == 422


def test_a_juvenile_needs_an_appropriate_adult_before_interview_and_never_shares_with_an_adult(sergeant):
    juvenile = book(sergeant, arrived=NOW - 3 * H, dob=f"{NOW.year - 15}-01-01")
    assert detail(sergeant, juvenile)["clock"]["appropriate_adult_outstanding"] is True
    rights_and_advice(sergeant, juvenile, NOW - 3 * H)
    refused = entry(sergeant, juvenile, "interview", NOW - H, by="DC 4")
    assert refused.status_code == 409 and "appropriate adult" in refused.get_json()["message"]
    assert entry(sergeant, juvenile, "appropriate_adult", NOW - 2 * H, name="A. Parent",
                 relationship="mother", police_officer_or_staff=False).status_code == 201
    assert entry(sergeant, juvenile, "interview", NOW - H, by="DC 4").status_code == 201
    adult = book(sergeant, arrived=NOW - 3 * H)
    assert entry(sergeant, adult, "cell", NOW - 2 * H, cell="C6").status_code == 201
    mixed = entry(sergeant, juvenile, "cell", NOW - 2 * H, cell="C6")
    assert mixed.status_code == 409 and "juvenile" in mixed.get_json()["message"]


def test_a_cell_holds_no_more_than_its_capacity(sergeant):
    first, second = book(sergeant, arrived=NOW - 3 * H), book(sergeant, arrived=NOW - 3 * H)
    assert entry(sergeant, first, "cell", NOW - 2 * H, cell="C1").status_code == 201
    full = entry(sergeant, second, "cell", NOW - 2 * H, cell="C1")
    assert full.status_code == 409 and "full" in full.get_json()["message"]
    assert entry(sergeant, second, "cell", NOW - 2 * H, cell="C9").status_code == 422


def test_a_correction_is_a_new_entry_and_the_corrected_one_stops_counting(sergeant):
    record = book(sergeant, arrived=NOW - 3 * H)
    wrong = entry(sergeant, record, "observation_level", NOW - 2 * H, level=2).get_json()
    next_visit_due = datetime.fromisoformat(detail(sergeant, record)["clock"]["next_visit_due"])
    assert next_visit_due == NOW - 3 * H + 30 * timedelta(minutes=1)
    fix = sergeant.post(f"/api/v1/custody/records/{record['id']}/entries", json={
        "kind": "correction", "occurred_at": iso(NOW - H), "corrects_id": wrong["id"],
        "data": {"reason": "level 2 was entered for the wrong detainee"}})
    assert fix.status_code == 201
    shown = detail(sergeant, record)
    assert [e["kind"] for e in shown["entries"]] == ["observation_level", "correction"]
    assert datetime.fromisoformat(shown["clock"]["next_visit_due"]) == NOW - 2 * H


def test_release_needs_if_match_and_closes_the_record(sergeant):
    record = book(sergeant, arrived=NOW - 3 * H)
    path = f"/api/v1/custody/records/{record['id']}/release"
    body = {"released_at": iso(NOW - H), "outcome": "released_under_investigation"}
    assert sergeant.post(path, json=body).status_code == 428
    before = sergeant.post(path, json={**body, "released_at": iso(NOW - 4 * H)}, headers={"If-Match": '"1"'})
    assert before.status_code == 422 and "released_at" in before.get_json()["errors"]
    done = sergeant.post(path, json=body, headers={"If-Match": '"1"'})
    assert done.status_code == 200 and done.get_json()["outcome"] == "released_under_investigation"
    assert entry(sergeant, record, "visit", NOW - timedelta(minutes=30), condition="fine").status_code == 409


def test_the_board_lists_current_detainees_most_urgent_first(sergeant):
    calm = book(sergeant, arrived=NOW - timedelta(minutes=30))
    late = book(sergeant, arrived=NOW - 8 * H)  # no visit for hours, first review overdue
    board = sergeant.get("/api/v1/custody/suites/NTH/board").get_json()["items"]
    ids = [item["record"]["id"] for item in board]
    assert ids.index(late["id"]) < ids.index(calm["id"])
    mine = next(item for item in board if item["record"]["id"] == late["id"])
    assert {o["what"] for o in mine["clock"]["overdue"]} >= {"review", "visit"}
    assert sergeant.get("/api/v1/custody/suites/NOPE/board").status_code == 422


def test_another_forces_custody_record_is_404_and_not_on_its_board(sergeant, as_user):
    record = book(sergeant, arrived=NOW - H)
    south = as_user("southshire", "custody_officer")
    assert south.get(f"/api/v1/custody/records/{record['id']}").status_code == 404
    assert entry(south, record, "visit", NOW, condition="x").status_code == 404
    assert all(i["record"]["id"] != record["id"]
               for i in south.get("/api/v1/custody/suites/STH/board").get_json()["items"])


def test_a_shared_custody_record_is_read_only_and_masked(sergeant, as_user):
    record = book(sergeant, arrived=NOW - 2 * H)
    admin = as_user("northshire", "force_admin", user="ns-admin")
    agreement = admin.post("/api/v1/sharing/agreements", json={
        "consumer_force": "southshire", "record_types": ["custody"], "max_classification": "OFFICIAL",
        "purpose": "detainee welfare across the border", "lawful_basis": "DPA 2018 s.35",
        "field_profile": {"custody": {"masked": ["offences", "entries"]}}}).get_json()
    assert admin.post(f"/api/v1/sharing/agreements/{agreement['id']}/approve",
                      json={"reason": "agreed"}).status_code == 200
    south = as_user("southshire", "custody_officer")
    purpose = {"X-Purpose": "transfer planning"}
    assert south.get(f"/api/v1/custody/records/{record['id']}").status_code == 404
    shown = south.get(f"/api/v1/custody/records/{record['id']}", headers=purpose).get_json()
    assert shown["record"]["force"] == "northshire" and shown["record"]["offences"] == []
    assert shown["entries"] == [] and shown["shared"]["read_only"] is True
    added = south.post(f"/api/v1/custody/records/{record['id']}/entries", headers=purpose,
                       json={"kind": "visit", "occurred_at": iso(NOW), "data": {"condition": "x"}})
    assert added.status_code == 404
