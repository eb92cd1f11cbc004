"""Custody entries entered as a custody officer would: through the console's text fields, or JSON with numbers in
strings. The schema checks the entry's data but stores it unconverted, and the clock then meets strings."""
from __future__ import annotations

from tests.console.conftest import csrf
from tests.custody.test_records import NOW, book, iso

PURPOSE = {"X-Purpose": "Custody review"}


def _officer(console, as_user):
    record = book(as_user("northshire", "custody_officer", user="ps-custody-1"))
    page = console("northshire", "custody_officer", user="ps-custody-1")
    return record, page


def _post(client, record, **form):
    token = csrf(client.get(f"/console/custody/records/{record['id']}"))
    return client.post(f"/console/custody/records/{record['id']}/entries",
                       data={"csrf_token": token, "occurred_at": iso(NOW), **form})


def test_a_warrant_recorded_on_the_console_leaves_the_record_and_the_suite_board_readable(console, as_user):
    record, officer = _officer(console, as_user)
    added = _post(officer, record, kind="warrant", **{"data-hours": "36", "data-court": "Northtown Magistrates"})
    assert added.status_code == 303
    assert officer.get(f"/console/custody/records/{record['id']}").status_code == 200
    assert officer.get("/console/custody?suite=NTH").status_code == 200
    api = as_user("northshire", "custody_officer", user="ps-custody-1")
    assert api.get(f"/api/v1/custody/records/{record['id']}", headers=PURPOSE).status_code == 200


def test_a_warrant_whose_hours_arrive_as_a_string_in_json_is_stored_as_a_number(as_user):
    api = as_user("northshire", "custody_officer", user="ps-custody-1")
    record = book(api)
    added = api.post(f"/api/v1/custody/records/{record['id']}/entries",
                     json={"kind": "warrant", "occurred_at": iso(NOW), "data": {"hours": "12", "court": "Northtown"}})
    assert added.status_code in (201, 422), added.get_json()
    shown = api.get(f"/api/v1/custody/records/{record['id']}", headers=PURPOSE)
    assert shown.status_code == 200
    assert api.get("/api/v1/custody/suites/NTH/board").status_code == 200


def test_an_observation_level_set_on_the_console_keeps_the_record_readable(console, as_user):
    record, officer = _officer(console, as_user)
    added = _post(officer, record, kind="observation_level", **{"data-level": "2"})
    assert added.status_code == 303
    page = officer.get(f"/console/custody/records/{record['id']}")
    assert page.status_code == 200
    assert officer.get("/console/custody?suite=NTH").status_code == 200


def test_medication_recorded_on_the_console_keeps_the_record_readable(console, as_user):
    record, officer = _officer(console, as_user)
    added = _post(officer, record, kind="medication", **{"data-name": "Insulin", "data-dose": "10 units",
                                                         "data-interval_hours": "8", "data-first_due_at": iso(NOW)})
    assert added.status_code == 303
    assert officer.get(f"/console/custody/records/{record['id']}").status_code == 200
    assert officer.get("/console/custody?suite=NTH").status_code == 200


def test_the_console_can_record_a_risk_assessment_property_and_a_charge(console, as_user):
    """Code C 3.6 needs the risk assessment on arrival; the form's text boxes can never make a list or a mapping."""
    record, officer = _officer(console, as_user)
    refused = {}
    for kind, form in (("risk_assessment", {"data-answers": "no concerns", "data-level": "low"}),
                       ("property", {"data-items": "wallet"}),
                       ("charge", {"data-offences": "28/1 Burglary of a dwelling"})):
        answer = _post(officer, record, kind=kind, **form)
        if answer.status_code != 303:
            refused[kind] = answer.status_code
    assert refused == {}


def test_a_warrant_entered_with_string_hours_can_at_least_be_corrected(as_user):
    """Once stored, the entry breaks every later step of the record: even the correction that would remove it."""
    api = as_user("northshire", "custody_officer", user="ps-custody-1")
    record = book(api)
    added = api.post(f"/api/v1/custody/records/{record['id']}/entries",
                     json={"kind": "warrant", "occurred_at": iso(NOW), "data": {"hours": "12", "court": "Northtown"}})
    if added.status_code == 422:
        return  # refused at the door: nothing to correct
    correction = api.post(f"/api/v1/custody/records/{record['id']}/entries", json={
        "kind": "correction", "occurred_at": iso(NOW), "corrects_id": added.get_json()["id"],
        "data": {"reason": "hours entered as text"}})
    assert correction.status_code == 201, correction.get_json()


def test_the_console_records_an_appropriate_adult_who_is_not_police(console, as_user):
    """The form's 'police officer or staff' box takes 'no'; bool('no') is True, so the clock refuses them all as
    police (Code C 1.7(b)), and a juvenile can then never be interviewed (Code C 11.15)."""
    record, officer = _officer(console, as_user)
    added = _post(officer, record, kind="appropriate_adult", **{"data-name": "Pat Jones", "data-relationship": "mother",
                                                                 "data-police_officer_or_staff": "no"})
    assert added.status_code == 303


def test_an_appropriate_adult_sent_with_the_string_false_is_not_taken_for_a_police_officer(as_user):
    api = as_user("northshire", "custody_officer", user="ps-custody-1")
    record = book(api)
    added = api.post(f"/api/v1/custody/records/{record['id']}/entries", json={
        "kind": "appropriate_adult", "occurred_at": iso(NOW),
        "data": {"name": "Pat Jones", "relationship": "mother", "police_officer_or_staff": "false"}})
    assert added.status_code in (201, 422), added.get_json()


def test_the_console_can_correct_an_entry_it_offers_to_correct(console, as_user):
    """'correction' is one of the form's kinds, but the form has no way to name the entry corrected (corrects_id):
    every correction is refused."""
    record, officer = _officer(console, as_user)
    assert _post(officer, record, kind="cell", **{"data-cell": "C1"}).status_code == 303
    entry = as_user("northshire", "custody_officer", user="ps-custody-1").get(
        f"/api/v1/custody/records/{record['id']}", headers=PURPOSE).get_json()["entries"][-1]
    answer = _post(officer, record, kind="correction", corrects_id=entry["id"],
                   **{"data-reason": "wrong cell entered", "data-corrects_id": entry["id"]})
    assert answer.status_code == 303, answer.get_data(as_text=True).split("error-summary-title")[-1][:300]
