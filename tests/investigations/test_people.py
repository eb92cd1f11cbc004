"""A person's role on an investigation ended (a suspect eliminated, a link made in error): nothing deleted, the reason
logged and audited, and the person no longer counted in the role by outcomes, the Victims' Code, case files and
lists; linked again later as anyone is. Recording someone new and linking them is one transaction."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.errors import Conflict, NotFound
from app.investigations import service
from tests.conftest import unique_name
from tests.factories import acting
from tests.investigations.test_records import move, person, record, to_investigation
from tests.people.test_search import find
from tests.sharing.test_agreements import share


def end(api, inv, who, role="suspect", reason="eliminated: alibi confirmed", **headers):
    body = {"role": role, "reason": reason} if reason is not None else {"role": role}
    return api.post(f"/api/v1/investigations/{inv['id']}/people/{who['id']}/end", json=body, headers=headers)


def detail(api, inv):
    return api.get(f"/api/v1/investigations/{inv['id']}").get_json()


def test_an_eliminated_suspect_leaves_the_people_and_is_kept_as_a_former_role_with_the_reason(north, as_user):
    suspect, victim = person(north), person(north)
    inv = record(north, [(suspect, "suspect"), (victim, "victim")])
    ended = end(north, inv, suspect)
    assert ended.status_code == 200, ended.get_json()
    assert ended.headers["ETag"] == f'"{ended.get_json()["version"]}"' and ended.get_json()["version"] == 2
    shown = detail(north, inv)
    assert [(p["role"], p["person_id"]) for p in shown["people"]] == [("victim", victim["id"])]
    [former] = shown["former_people"]
    assert (former["role"], former["person_id"], former["surname"], former["reason"], former["ended_by"]) == (
        "suspect", suspect["id"], suspect["surname"], "eliminated: alibi confirmed", "pc-101")
    assert former["ended_on"] == datetime.now(ZoneInfo("Europe/London")).date().isoformat()  # the force's today
    [logged] = [e for e in shown["entries"] if e["person_id"] == suspect["id"]]
    assert (logged["kind"], logged["text"]) == ("log", "No longer a suspect: eliminated: alibi confirmed")
    # the link itself is kept, ended on that day: the person's own record still shows it
    [link] = north.get(f"/api/v1/people/{suspect['id']}/links").get_json()["items"]
    assert (link["link_type"], link["valid_to"], logged["refers_to"]) == ("suspect", former["ended_on"], link["id"])
    auditor = as_user("northshire", "auditor")
    events = auditor.get(f"/api/v1/audit?record_id={inv['id']}").get_json()["items"]
    [audited] = [e for e in events if e["details"].get("ended")]
    assert audited["action"] == "alteration" and audited["details"]["person"] == suspect["id"]
    assert audited["details"]["role"] == "suspect" and audited["details"]["ended"] == [link["id"]]
    assert audited["details"]["entry"] == logged["id"]


def test_an_eliminated_suspect_no_longer_counts_for_the_outcome_or_a_charge(north, as_user):
    suspect = person(north)
    inv = record(north, [(suspect, "suspect")])
    version = to_investigation(north, as_user, inv)
    assert end(north, inv, suspect).status_code == 200
    charge = north.post(f"/api/v1/investigations/{inv['id']}/entries",
                        json={"kind": "charge", "text": "theft", "person_id": suspect["id"]})
    assert charge.status_code == 422 and "person_id" in charge.get_json()["errors"]
    refused = move(north, inv, "finalise", version + 1, outcome_type=1)
    assert refused.status_code == 409 and refused.get_json()["errors"] == {"outcome_type": ["named suspect required"]}
    # with no suspect left, "no suspect identified" now fits the facts
    done = move(north, inv, "finalise", version + 1, outcome_type=18)
    assert done.status_code == 200, done.get_json()
    # the list's person filter counts only the roles held now
    listed = north.get(f"/api/v1/investigations?person_id={suspect['id']}&role=suspect").get_json()
    assert inv["id"] not in {i["id"] for i in listed["items"]}


def test_a_person_removed_in_error_is_linked_again_and_counts_again(north, as_user):
    suspect = person(north)
    inv = record(north, [(suspect, "suspect")])
    assert end(north, inv, suspect, reason="linked in error").status_code == 200
    again = north.post(f"/api/v1/investigations/{inv['id']}/people",
                       json={"person_id": suspect["id"], "role": "suspect"})
    assert again.status_code == 200, again.get_json()
    shown = detail(north, inv)
    assert [(p["role"], p["person_id"]) for p in shown["people"]] == [("suspect", suspect["id"])]
    assert [f["reason"] for f in shown["former_people"]] == ["linked in error"]
    twice = north.post(f"/api/v1/investigations/{inv['id']}/people", json={"person_id": suspect["id"],
                                                                           "role": "suspect"})
    assert twice.status_code == 409 and twice.get_json()["errors"] == {"person_id": ["already a suspect"]}
    listed = north.get(f"/api/v1/investigations?person_id={suspect['id']}&role=suspect").get_json()
    assert inv["id"] in {i["id"] for i in listed["items"]}
    assert end(north, inv, suspect, reason="eliminated: CCTV").status_code == 200
    assert [f["reason"] for f in detail(north, inv)["former_people"]] == ["eliminated: CCTV", "linked in error"]


def test_a_role_link_ended_through_the_links_api_is_a_former_role_without_a_reason(north):
    witness = person(north)
    inv = record(north, [(witness, "witness")])
    [link] = north.get(f"/api/v1/people/{witness['id']}/links").get_json()["items"]
    ended = north.patch(f"/api/v1/links/{link['id']}", json={"valid_to": "2026-11-30"},
                        headers={"If-Match": f'"{link["version"]}"'})
    assert ended.status_code == 200, ended.get_json()
    shown = detail(north, inv)
    assert shown["people"] == []
    assert [(f["role"], f["ended_on"], f["reason"]) for f in shown["former_people"]] == [
        ("witness", "2026-11-30", None)]


def test_a_victim_removed_has_no_victims_code_duties(north, as_user):
    victim, other = person(north), person(north)
    inv = record(north, [(victim, "victim"), (other, "victim")])
    path = f"/api/v1/investigations/{inv['id']}"
    move(north, inv, "qa", 1)
    move(north, inv, "allocate", 2, officer_in_charge="pc-778")
    first = north.post(f"{path}/victims-code", json={"trigger": "arrest", "at": "2026-01-05T09:00:00+00:00"})
    assert sorted(c["person_id"] for c in first.get_json()["items"]) == sorted([victim["id"], other["id"]])
    assert end(north, inv, victim, role="victim", reason="linked in error: the shop's manager, not the owner"
               ).status_code == 200
    assert [c["person_id"] for c in north.get(f"{path}/victims-code").get_json()["items"]] == [other["id"]]
    oic = as_user("northshire", "investigator", user="pc-778")
    overdue = oic.get("/api/v1/investigations/victims-code/overdue").get_json()["items"]
    assert [o["person_id"] for o in overdue if o["investigation_id"] == inv["id"]] == [other["id"]]
    later = north.post(f"{path}/victims-code", json={"trigger": "interview_under_caution",
                                                     "at": "2026-01-06T09:00:00+00:00"})
    assert [c["person_id"] for c in later.get_json()["items"]] == [other["id"]]
    assert north.put(f"{path}/victims/{victim['id']}/preferences", json={"enhanced": True}).status_code == 404


def test_a_case_file_no_longer_names_a_removed_witness_or_defendant(north):
    suspect, other, witness = person(north), person(north), person(north)
    inv = record(north, [(suspect, "suspect"), (other, "suspect"), (witness, "witness")])
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
    assert {d["person_id"] for d in case["forms"]["MG1"]["defendants"]} == {suspect["id"], other["id"]}
    assert end(north, inv, other).status_code == 200
    assert end(north, inv, witness, role="witness", reason="saw nothing: linked in error").status_code == 200
    forms = north.get(f"/api/v1/cases/{case['id']}").get_json()["forms"]
    assert [d["person_id"] for d in forms["MG1"]["defendants"]] == [suspect["id"]]
    assert forms["MG9"]["witnesses"] == [] and forms["MG11"]["witnesses"] == []


@pytest.mark.parametrize("body, field", [
    ({"role": "suspect"}, "reason"),
    ({"role": "suspect", "reason": "   "}, "reason"),
    ({"role": "suspect", "reason": "x" * 501}, "reason"),
    ({"reason": "eliminated"}, "role"),
    ({"role": "accomplice", "reason": "eliminated"}, "role"),
])
def test_a_bad_request_to_end_a_role_is_refused_naming_the_field(north, body, field):
    suspect = person(north)
    inv = record(north, [(suspect, "suspect")])
    refused = north.post(f"/api/v1/investigations/{inv['id']}/people/{suspect['id']}/end", json=body)
    assert refused.status_code == 422 and field in refused.get_json()["errors"], refused.get_json()
    assert [p["person_id"] for p in detail(north, inv)["people"]] == [suspect["id"]]


def test_a_role_not_held_now_is_404_and_a_finalised_or_charged_one_409(north, as_user):
    suspect, witness, stranger = person(north), person(north), person(north)
    inv = record(north, [(suspect, "suspect"), (witness, "witness")])
    for who, role in ((stranger, "suspect"), (witness, "suspect")):
        missing = end(north, inv, who, role=role)
        assert missing.status_code == 404 and "does not hold the role now" in missing.get_json()["message"]
    assert end(north, inv, witness, role="witness").status_code == 200
    assert end(north, inv, witness, role="witness").status_code == 404  # already ended
    north.post(f"/api/v1/investigations/{inv['id']}/entries",
               json={"kind": "charge", "text": "theft", "person_id": suspect["id"]})
    charged = end(north, inv, suspect)
    assert charged.status_code == 409 and charged.get_json()["errors"] == {"role": ["charged or summonsed"]}
    closed = record(north, [(suspect, "suspect"), (witness, "witness")])
    version = to_investigation(north, as_user, closed)
    assert move(north, closed, "finalise", version, outcome_type=10).status_code == 200
    finalised = end(north, closed, witness, role="witness")
    assert finalised.status_code == 409 and "is finalised" in finalised.get_json()["message"]
    assert [p["person_id"] for p in detail(north, closed)["people"] if p["role"] == "witness"] == [witness["id"]]


def test_another_forces_investigation_is_404_and_its_former_roles_are_never_shown(north, south, north_admin,
                                                                                  as_user):
    suspect, witness = person(north), person(north)
    inv = record(north, [(suspect, "suspect"), (witness, "witness")])
    assert end(south, inv, suspect).status_code == 404
    assert end(north, inv, witness, role="witness", reason="eliminated: abroad that day").status_code == 200
    share(north_admin, record_types=["investigation", "event", "link", "person"])
    reader = as_user("southshire", "investigator")
    shown = reader.get(f"/api/v1/investigations/{inv['id']}", headers={"X-Purpose": "Cross-border missing persons"})
    assert shown.status_code == 200 and shown.get_json()["shared"]["read_only"] is True
    assert [p["person_id"] for p in shown.get_json()["people"]] == [suspect["id"]]
    assert shown.get_json()["former_people"] == []
    refused = end(reader, inv, suspect, **{"X-Purpose": "Cross-border missing persons"})
    assert refused.status_code == 404
    assert [p["person_id"] for p in detail(north, inv)["people"]] == [suspect["id"]]


def test_recording_someone_new_for_a_link_that_is_refused_records_no_one(services, north, as_user):
    inv = record(north)
    version = to_investigation(north, as_user, inv)
    assert move(north, inv, "finalise", version, outcome_type=18).status_code == 200
    surname = unique_name("Gone")
    new = {"surname": surname, "forenames": "Nina", "sex": "female"}
    with acting(services, "northshire") as (session, who):
        with pytest.raises(Conflict, match="is finalised"):
            service.record_person(session, who, investigation_id=inv["id"], person=new, role="witness")
        with pytest.raises(NotFound):
            service.record_person(session, who, investigation_id=record(as_user("southshire", "investigator"))["id"],
                                  person=new, role="witness")
    assert find(north, name=f"Nina {surname}") == []
    with acting(services, "northshire") as (session, who):
        live = record(north)
        linked, created = service.record_person(session, who, investigation_id=live["id"], person=new, role="witness")
    assert (str(linked.id), linked.version) == (live["id"], 2)
    assert [(p["person_id"], p["role"]) for p in detail(north, live)["people"]] == [(str(created.id), "witness")]
