"""Investigations through the API: reference numbers, the status flow, people, log and actions, outcomes."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import psycopg
import pytest

from tests.conftest import POOL_DB, superuser_url, unique, unique_name

WHEN = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()


def person(api, dob="1990-01-01"):
    return api.create_person(surname=unique_name("Inv"), date_of_birth=dob)


def record(api, people=(), **extra):
    body = {"primary_classification": "46/1", "occurred_at": WHEN, "summary": "Shoplifting at Northtown Co-op",
            "people": [{"person_id": p["id"], "role": role} for p, role in people], **extra}
    response = api.post("/api/v1/investigations", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def move(api, inv, action, version, **body):
    return api.post(f"/api/v1/investigations/{inv['id']}/{action}", json=body, headers={"If-Match": f'"{version}"'})


def to_investigation(north, as_user, inv):
    """QA, allocate to pc-101 (the north fixture's user), acknowledge: returns the current version."""
    assert move(north, inv, "qa", 1).status_code == 200
    assert move(north, inv, "allocate", 2, officer_in_charge="pc-101").status_code == 200
    acknowledged = move(north, inv, "acknowledge", 3)
    assert acknowledged.status_code == 200, acknowledged.get_json()
    return acknowledged.get_json()["version"]


def test_a_crime_gets_the_forces_reference_and_its_people_through_pole_links(north):
    suspect, victim = person(north), person(north)
    inv = record(north, [(suspect, "suspect"), (victim, "victim")])
    year = datetime.now(timezone.utc).year % 100
    assert inv["reference"].startswith("91/") and inv["reference"].endswith(f"/{year:02d}")
    detail = north.get(f"/api/v1/investigations/{inv['id']}").get_json()
    assert {(p["role"], p["person_id"]) for p in detail["people"]} == {("suspect", suspect["id"]),
                                                                       ("victim", victim["id"])}
    links = north.get(f"/api/v1/people/{suspect['id']}/links").get_json()["items"]
    assert [(lk["link_type"], lk["to"]["id"]) for lk in links] == [("suspect", inv["event_id"])]


def test_the_status_flow_is_followed_in_order_and_only_the_oic_acknowledges(north, as_user):
    inv = record(north)
    assert move(north, inv, "allocate", 1, officer_in_charge="pc-101").status_code == 409
    assert move(north, inv, "qa", 1).status_code == 200
    assert move(north, inv, "qa", 1).status_code == 412
    assert move(north, inv, "allocate", 2, officer_in_charge="pc-555").status_code == 200
    assert move(north, inv, "acknowledge", 3).status_code == 403
    other = as_user("northshire", "investigator", user="pc-555")
    assert move(other, inv, "acknowledge", 3).get_json()["status"] == "under_investigation"


@pytest.mark.parametrize("outcome, people, rule", [
    (18, "suspect", "named suspect"),
    (2, "adult suspect", "under 18"),
    (3, "youth suspect", "18 or over"),
    (1, "suspect", "charge or summons"),
    (8, "nobody", "needs a suspect"),
])
def test_an_outcome_that_does_not_fit_the_facts_is_refused_naming_the_rule(north, as_user, outcome, people, rule):
    linked = []
    if "suspect" in people:
        dob = f"{datetime.now(timezone.utc).year - 15}-01-01" if "youth" in people else "1980-01-01"
        linked = [(person(north, dob), "suspect")]
    inv = record(north, linked)
    version = to_investigation(north, as_user, inv)
    refused = move(north, inv, "finalise", version, outcome_type=outcome)
    assert refused.status_code == 409 and rule in refused.get_json()["message"], refused.get_json()


def test_outcomes_that_fit_are_accepted_and_close_the_investigation(north, as_user):
    suspect = person(north, f"{datetime.now(timezone.utc).year - 15}-06-01")
    inv = record(north, [(suspect, "suspect")])
    version = to_investigation(north, as_user, inv)
    done = move(north, inv, "finalise", version, outcome_type=2, reason="first offence, admitted")
    assert done.status_code == 200 and done.get_json()["status"] == "finalised"
    again = north.post(f"/api/v1/investigations/{inv['id']}/entries", json={"kind": "log", "text": "late note"})
    assert again.status_code == 409

    charged = record(north, [(suspect, "suspect")])
    version = to_investigation(north, as_user, charged)
    entry = north.post(f"/api/v1/investigations/{charged['id']}/entries",
                       json={"kind": "charge", "text": "theft from a shop", "person_id": suspect["id"]})
    assert entry.status_code == 201
    assert move(north, charged, "finalise", version + 1, outcome_type=1).status_code == 200
    nobody = record(north)
    version = to_investigation(north, as_user, nobody)
    assert move(north, nobody, "finalise", version, outcome_type=18).status_code == 200


def test_log_entries_and_actions_with_assignee_and_due_date(north):
    inv = record(north)
    action = north.post(f"/api/v1/investigations/{inv['id']}/entries", json={
        "kind": "action", "text": "Obtain CCTV from the shop", "assignee": "pc-202", "due_on": "2026-12-01"}).get_json()
    north.post(f"/api/v1/investigations/{inv['id']}/entries", json={"kind": "log", "text": "Spoke to the manager"})
    assert [a["id"] for a in north.get(f"/api/v1/investigations/{inv['id']}").get_json()["open_actions"]] == [
        action["id"]]
    done = north.post(f"/api/v1/investigations/{inv['id']}/entries", json={
        "kind": "action_done", "text": "CCTV seized, exhibit JS/1", "refers_to": action["id"]})
    assert done.status_code == 201
    assert north.get(f"/api/v1/investigations/{inv['id']}").get_json()["open_actions"] == []
    bad = north.post(f"/api/v1/investigations/{inv['id']}/entries", json={"kind": "charge", "text": "x"})
    assert bad.status_code == 422 and "person_id" in bad.get_json()["errors"]


def test_bad_recordings_are_refused_naming_the_field(north, south):
    theirs = south.create_person(surname=unique_name("Other"))
    for body, field in (({"primary_classification": "theft"}, "primary_classification"),
                        ({"occurred_at": "2999-01-01T00:00:00+00:00"}, "occurred_at"),
                        ({"people": [{"person_id": theirs["id"], "role": "suspect"}]}, "people.0.person_id")):
        base = {"primary_classification": "46/1", "occurred_at": WHEN, "summary": "x theft"}
        response = north.post("/api/v1/investigations", json={**base, **body})
        assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()


def test_another_forces_investigation_is_404(north, south):
    inv = record(north)
    assert south.get(f"/api/v1/investigations/{inv['id']}").status_code == 404
    assert south.post(f"/api/v1/investigations/{inv['id']}/entries",
                      json={"kind": "log", "text": "x"}).status_code == 404


@pytest.mark.committing
def test_references_recorded_at_once_are_distinct_and_without_gaps(as_user):
    marker = unique("Crn")

    def one(_: int) -> str:
        api = as_user("westshire", "investigator", user="concurrency-test")
        response = api.post("/api/v1/investigations", json={
            "primary_classification": "46/1", "occurred_at": WHEN, "summary": marker})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["reference"]

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            references = list(pool.map(one, range(10)))
        serials = sorted(int(r.split("/")[1]) for r in references)
        assert len(set(references)) == 10 and serials == list(range(serials[0], serials[0] + 10))
    finally:
        with psycopg.connect(superuser_url(POOL_DB), autocommit=True) as conn:
            conn.execute("DELETE FROM audit_event WHERE user_id = 'concurrency-test'")
            conn.execute("DELETE FROM investigation_entry WHERE recorded_by = 'concurrency-test'")
            conn.execute("DELETE FROM investigation WHERE summary = %s", (marker,))
            conn.execute("DELETE FROM pole_event WHERE summary = %s", (marker,))


def test_victims_code_obligations_follow_developments_and_preferences(north, as_user):
    suspect, victim, quiet = person(north), person(north), person(north)
    inv = record(north, [(suspect, "suspect"), (victim, "victim"), (quiet, "victim")])
    path = f"/api/v1/investigations/{inv['id']}"
    assert north.put(f"{path}/victims/{victim['id']}/preferences",
                     json={"enhanced": True, "method": "email"}).status_code == 204
    assert north.put(f"{path}/victims/{quiet['id']}/preferences",
                     json={"frequency": "outcomes_only"}).status_code == 204
    assert north.put(f"{path}/victims/{suspect['id']}/preferences", json={"enhanced": True}).status_code == 404
    arrest = north.post(f"{path}/victims-code", json={"trigger": "arrest", "at": "2026-11-20T10:00:00+00:00"})
    assert arrest.status_code == 201
    items = arrest.get_json()["items"]
    assert [(i["person_id"], i["due_on"], i["method"]) for i in items] == [(victim["id"], "2026-11-23", "email")]
    north.post(f"{path}/entries", json={"kind": "charge", "text": "theft", "person_id": suspect["id"]})
    triggers = sorted((c["trigger"], c["person_id"] == quiet["id"])
                      for c in north.get(f"{path}/victims-code").get_json()["items"])
    assert triggers == [("arrest", False), ("charge", False), ("charge", True)]


def test_a_victim_under_18_at_the_time_of_the_offence_is_told_within_1_working_day_unassessed(north):
    young = person(north, dob=(date.today() - timedelta(days=15 * 365)).isoformat())
    adult = person(north)
    inv = record(north, [(young, "victim"), (adult, "victim")])
    arrest = north.post(f"/api/v1/investigations/{inv['id']}/victims-code",
                        json={"trigger": "arrest", "at": "2026-11-20T10:00:00+00:00"})  # a Friday
    due = {i["person_id"]: i["due_on"] for i in arrest.get_json()["items"]}
    assert due == {young["id"]: "2026-11-23", adult["id"]: "2026-11-27"}  # 1 working day, and 5


def test_overdue_obligations_are_listed_for_the_officer_in_charge(north, as_user):
    victim = person(north)
    inv = record(north, [(victim, "victim")])
    move(north, inv, "qa", 1)
    move(north, inv, "allocate", 2, officer_in_charge="pc-777")
    contact = north.post(f"/api/v1/investigations/{inv['id']}/victims-code",
                         json={"trigger": "decision_not_to_investigate", "at": "2026-01-05T09:00:00+00:00"}).get_json()
    oic = as_user("northshire", "investigator", user="pc-777")
    overdue = oic.get("/api/v1/investigations/victims-code/overdue").get_json()["items"]
    assert [(o["reference"], o["due_on"]) for o in overdue if o["investigation_id"] == inv["id"]] == [
        (inv["reference"], "2026-01-12")]
    contact_id = contact["items"][0]["id"]
    told = oic.post(f"/api/v1/investigations/{inv['id']}/victims-code/{contact_id}/contacted",
                    json={"contacted_at": "2026-01-13T09:00:00+00:00"})
    assert told.status_code == 200
    assert all(o["investigation_id"] != inv["id"]
               for o in oic.get("/api/v1/investigations/victims-code/overdue").get_json()["items"])
    again = oic.post(f"/api/v1/investigations/{inv['id']}/victims-code/{contact_id}/contacted",
                     json={"contacted_at": "2026-01-13T09:00:00+00:00"})
    assert again.status_code == 409


def test_a_shared_investigation_is_read_only_and_masked(north, as_user):
    inv = record(north, [(person(north), "suspect")])
    admin = as_user("northshire", "force_admin", user="ns-admin")
    agreement = admin.post("/api/v1/sharing/agreements", json={
        "consumer_force": "southshire", "record_types": ["investigation"], "max_classification": "OFFICIAL",
        "purpose": "linked series", "lawful_basis": "DPA 2018 s.35",
        "field_profile": {"investigation": {"masked": ["people", "entries"]}}}).get_json()
    admin.post(f"/api/v1/sharing/agreements/{agreement['id']}/approve", json={"reason": "agreed"})
    south = as_user("southshire", "investigator")
    shown = south.get(f"/api/v1/investigations/{inv['id']}", headers={"X-Purpose": "linked series"}).get_json()
    assert shown["investigation"]["reference"] == inv["reference"] and shown["people"] == []
    assert shown["shared"]["read_only"] is True
    refused = south.post(f"/api/v1/investigations/{inv['id']}/entries", json={"kind": "log", "text": "x"},
                         headers={"X-Purpose": "linked series"})
    assert refused.status_code == 404
