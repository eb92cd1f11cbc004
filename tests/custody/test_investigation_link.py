"""A custody record names its investigations: booking in their suspect creates the Victims' Code 'suspect
arrested' obligation (Right 6), and the charge in custody becomes the investigation's charge, recorded once."""
from __future__ import annotations

from datetime import timedelta

from tests.conftest import unique_name
from tests.custody.test_records import NOW, H, entry, iso

M = timedelta(minutes=1)


def investigation(north, people):
    body = {"primary_classification": "28/1", "occurred_at": iso(NOW - 2 * 24 * H), "summary": "Burglary",
            "people": [{"person_id": p["id"], "role": role} for p, role in people]}
    response = north.post("/api/v1/investigations", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def book_suspect(sergeant, person, investigation_ids, arrived=NOW - 3 * H):
    return sergeant.post("/api/v1/custody/records", json={
        "suite": "NTH", "person_id": person["id"], "investigation_ids": investigation_ids,
        "arrested_at": iso(arrived - H), "arrest_place": "High Street", "arresting_officer": "PC 101",
        "arrived_at": iso(arrived), "authorised_at": iso(arrived), "authorised_by": "PS 12", "grounds": "evidence",
        "offences": [{"code": "28/1", "wording": "Burglary of a dwelling", "indictable": True}]})


def contacts(north, inv):
    return north.get(f"/api/v1/investigations/{inv['id']}/victims-code").get_json()["items"]


def charges(north, inv):
    return [e for e in north.get(f"/api/v1/investigations/{inv['id']}").get_json()["entries"] if e["kind"] == "charge"]


def test_booking_in_a_suspect_creates_the_arrest_obligation_for_each_victim(north, sergeant):
    suspect, victim = north.create_person(surname=unique_name("Sus")), north.create_person(surname=unique_name("Vic"))
    inv = investigation(north, [(suspect, "suspect"), (victim, "victim")])
    booked = book_suspect(sergeant, suspect, [inv["id"]])
    assert booked.status_code == 201, booked.get_json()
    assert [(c["trigger"], c["person_id"]) for c in contacts(north, inv)] == [("arrest", victim["id"])]
    shown = sergeant.get(f"/api/v1/custody/records/{booked.get_json()['id']}").get_json()
    assert shown["investigation_ids"] == [inv["id"]]


def test_a_detainee_who_is_not_a_suspect_or_another_forces_investigation_is_refused_naming_the_field(
        north, south, sergeant):
    witness = north.create_person(surname=unique_name("Wit"))
    inv = investigation(north, [(witness, "witness")])
    refused = book_suspect(sergeant, witness, [inv["id"]])
    assert refused.status_code == 422 and "investigation_ids" in refused.get_json()["errors"]
    theirs = investigation(south, [(south.create_person(surname=unique_name("S")), "suspect")])
    foreign = book_suspect(sergeant, witness, [theirs["id"]])
    assert foreign.status_code == 422 and "no investigation" in str(foreign.get_json()["errors"])
    bad = book_suspect(sergeant, witness, ["not-a-uuid"])
    assert bad.status_code == 422 and "investigation_ids" in bad.get_json()["errors"]
    # nothing was written: the witness is not in custody, and can be booked in without the investigation
    assert book_suspect(sergeant, witness, []).status_code == 201


def test_a_charge_in_custody_is_the_investigations_charge_recorded_once(north, sergeant):
    suspect, victim = north.create_person(surname=unique_name("Sus")), north.create_person(surname=unique_name("Vic"))
    inv = investigation(north, [(suspect, "suspect"), (victim, "victim")])
    record = book_suspect(sergeant, suspect, [inv["id"]]).get_json()
    charged = entry(sergeant, record, "charge", NOW - H, offences=["Burglary of a dwelling"])
    assert charged.status_code == 201
    found = charges(north, inv)
    assert len(found) == 1 and found[0]["person_id"] == suspect["id"] and record["custody_number"] in found[0]["text"]
    assert sorted(c["trigger"] for c in contacts(north, inv)) == ["arrest", "charge"]
    again = entry(sergeant, record, "charge", NOW - 30 * M, offences=["Burglary of a dwelling"])
    assert again.status_code == 201
    assert len(charges(north, inv)) == 1 and sorted(c["trigger"] for c in contacts(north, inv)) == ["arrest", "charge"]


def test_a_charge_the_investigation_already_holds_is_not_recorded_again(north, sergeant):
    suspect = north.create_person(surname=unique_name("Sus"))
    inv = investigation(north, [(suspect, "suspect")])
    assert north.post(f"/api/v1/investigations/{inv['id']}/entries", json={
        "kind": "charge", "text": "Burglary", "person_id": suspect["id"]}).status_code == 201
    record = book_suspect(sergeant, suspect, [inv["id"]]).get_json()
    assert entry(sergeant, record, "charge", NOW - H, offences=["Burglary of a dwelling"]).status_code == 201
    assert len(charges(north, inv)) == 1


def test_a_charge_in_custody_is_not_the_charge_of_an_investigation_that_eliminated_the_detainee(north, sergeant):
    suspect = north.create_person(surname=unique_name("Sus"))
    kept, cleared = investigation(north, [(suspect, "suspect")]), investigation(north, [(suspect, "suspect")])
    record = book_suspect(sergeant, suspect, [kept["id"], cleared["id"]]).get_json()
    ended = north.post(f"/api/v1/investigations/{cleared['id']}/people/{suspect['id']}/end",
                       json={"role": "suspect", "reason": "eliminated: DNA excludes him"})
    assert ended.status_code == 200, ended.get_json()
    charged = entry(sergeant, record, "charge", NOW - H, offences=["Burglary of a dwelling"])
    assert charged.status_code == 201, charged.get_json()
    assert len(charges(north, kept)) == 1 and charges(north, cleared) == []
