"""Objects, locations, events and links: normal forms, rules, ETags, links of a person, the network, isolation."""
from __future__ import annotations

import uuid

import pytest

from app.pole import normalise
from tests.conftest import unique
from tests.sharing.test_agreements import PURPOSE, share


def created(response):
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def vehicle(api, vrm="ab12 cde", **extra):
    return created(api.post("/api/v1/objects", json={"kind": "vehicle", "vrm": vrm, "make": "Ford", **extra}))


def location(api, **fields):
    body = {"address_lines": ["1 High Street"], "town": "Northtown", "postcode": "nt1 1aa", **fields}
    return created(api.post("/api/v1/locations", json=body))


def event(api, **fields):
    body = {"event_type": "burglary", "occurred_at": "2026-11-20T22:15:00+00:00", "summary": "Shed broken into",
            **fields}
    return created(api.post("/api/v1/events", json=body))


def link(api, a, a_type, b, b_type, link_type, **fields):
    body = {"from": {"type": a_type, "id": a["id"]}, "to": {"type": b_type, "id": b["id"]}, "link_type": link_type,
            **fields}
    return api.post("/api/v1/links", json=body)


def test_objects_are_stored_in_normal_form_and_found_by_full_or_partial_vrm_and_number(north):
    car = vehicle(north, vrm=f"k{uuid.uuid4().hex[:2]} 1xy")
    assert car["vrm"] == car["vrm"].upper() and " " not in car["vrm"] and car["force"] == "northshire"
    phone = created(north.post("/api/v1/objects", json={"kind": "telephone", "phone_number": "07400 123456"}))
    assert phone["phone_number"] == "+447400123456"

    full = north.get(f"/api/v1/objects?vrm={car['vrm'].lower()}").get_json()
    assert [o["id"] for o in full["items"]][:1] == [car["id"]]
    partial = north.get(f"/api/v1/objects?vrm={car['vrm'][1:3]}?XY").get_json()
    assert car["id"] in [o["id"] for o in partial["items"]]
    by_number = north.get("/api/v1/objects?phone_number=%2B44 7400 123456").get_json()
    assert phone["id"] in [o["id"] for o in by_number["items"]]


@pytest.mark.parametrize(
    "body, field, reason",
    [
        ({"kind": "vehicle"}, "vrm", "required for a vehicle"),
        ({"kind": "vehicle", "vrm": "AB12CDE", "phone_number": "07400123456"}, "phone_number", "does not apply"),
        ({"kind": "telephone", "phone_number": "12345"}, "phone_number", "must start with 0"),
        ({"kind": "vehicle", "vrm": "AB12CDE", "vin": "123"}, "vin", "17 letters"),
        ({"kind": "boat", "vrm": "X"}, "kind", "Must be one of"),
    ],
)
def test_bad_objects_are_422_naming_the_field(north, body, field, reason):
    response = north.post("/api/v1/objects", json=body)
    assert response.status_code == 422
    assert reason.lower() in str(response.get_json()["errors"][field]).lower()


@pytest.mark.parametrize("typed, stored", [
    ("07400 123456", "+447400123456"),  # a UK mobile, national form
    ("+44 (0)7400 123456", "+447400123456"),  # the (0) some people write after +44
    ("0044 7400-123-456", "+447400123456"),
    ("020 7946 0000", "+442079460000"),  # a London landline
    ("+33 6 12 34 56 78", "+33612345678"),  # a French mobile keeps its own country code
])
def test_telephone_numbers_are_parsed_by_libphonenumber_and_stored_in_e164(typed, stored):
    assert normalise.phone_number(typed) == stored


@pytest.mark.parametrize("typed", [
    "07400 12345",  # a UK mobile one digit short
    "07400 1234567",  # one digit too many
    "07700 900123",  # Ofcom's drama range: never a working number
    "+33 6 12 34 56",  # a French mobile two digits short
])
def test_an_invalid_telephone_number_is_refused_naming_the_field(north, typed):
    with pytest.raises(ValueError, match="not a valid telephone number"):
        normalise.phone_number(typed)
    response = north.post("/api/v1/objects", json={"kind": "telephone", "phone_number": typed})
    assert response.status_code == 422 and "not a valid" in str(response.get_json()["errors"]["phone_number"])


def test_a_location_has_a_normal_postcode_and_one_uprn_is_one_location(north, south):
    uprn = int(uuid.uuid4().int % 10**11) + 1
    home = location(north, uprn=uprn)
    assert home["postcode"] == "NT1 1AA"
    again = north.post("/api/v1/locations", json={"address_lines": ["Flat 1"], "uprn": uprn})
    assert again.status_code == 409 and home["id"] in again.get_json()["message"]
    location(south, uprn=uprn)  # another force holds its own location for the same UPRN
    found = north.get(f"/api/v1/locations?uprn={uprn}").get_json()["items"]
    assert [x["id"] for x in found] == [home["id"]]
    bad = north.post("/api/v1/locations", json={"address_lines": ["x"], "postcode": "NOT A CODE"})
    assert bad.status_code == 422 and "postcode" in bad.get_json()["errors"]


def test_an_event_needs_an_aware_past_time_and_an_existing_location(north, south):
    theirs = location(south)
    response = north.post("/api/v1/events", json={"event_type": "theft", "occurred_at": "2026-01-01T10:00:00+00:00",
                                                  "location_id": theirs["id"]})
    assert response.status_code == 422 and "location_id" in response.get_json()["errors"]
    naive = north.post("/api/v1/events", json={"event_type": "theft", "occurred_at": "2026-01-01T10:00:00"})
    assert naive.status_code == 422 and "occurred_at" in naive.get_json()["errors"]
    future = north.post("/api/v1/events", json={"event_type": "theft", "occurred_at": "2999-01-01T10:00:00+00:00"})
    assert future.status_code == 422 and "future" in str(future.get_json()["errors"]["occurred_at"])


def test_updates_need_the_current_etag(north):
    car = vehicle(north)
    path = f"/api/v1/objects/{car['id']}"
    assert north.patch(path, json={"colour": "Red"}).status_code == 428
    changed = north.patch(path, json={"colour": "Red"}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"' and changed.get_json()["colour"] == "Red"
    assert north.patch(path, json={"colour": "Blue"}, headers={"If-Match": '"1"'}).status_code == 412
    # a change that would leave the object invalid is refused
    blank = north.patch(path, json={"vrm": None}, headers={"If-Match": '"2"'})
    assert blank.status_code == 422 and "vrm" in blank.get_json()["errors"]


def test_links_need_a_type_that_fits_the_pair_and_records_of_the_same_force(north, south):
    person = north.create_person(surname=unique())
    place = location(north)
    assert link(north, person, "person", place, "location", "suspect").status_code == 422
    assert "link_type" in link(north, person, "person", place, "location", "suspect").get_json()["errors"]
    theirs = location(south)
    foreign = link(north, person, "person", theirs, "location", "resides_at")
    assert foreign.status_code == 422 and "to" in foreign.get_json()["errors"]
    ok = created(link(north, person, "person", place, "location", "resides_at", valid_from="2020-01-01",
                      source={"type": "custody_record", "id": str(uuid.uuid4())}))
    assert ok["from"] == {"type": "person", "id": person["id"]} and ok["source"]["type"] == "custody_record"
    backwards = link(north, person, "person", place, "location", "resides_at", valid_from="2020-01-02",
                     valid_to="2020-01-01")
    assert backwards.status_code == 422 and "valid_to" in backwards.get_json()["errors"]


def test_the_same_link_recorded_twice_is_409_naming_the_first_and_another_source_or_date_is_a_link_of_its_own(north):
    person, place = north.create_person(surname=unique()), location(north)
    first = created(link(north, person, "person", place, "location", "resides_at", valid_from="2021-03-01"))
    again = link(north, person, "person", place, "location", "resides_at", valid_from="2021-03-01")
    assert again.status_code == 409 and first["id"] in again.get_json()["message"]
    assert "link_type" in again.get_json()["errors"]
    for other in ({"valid_from": "2023-05-01"}, {"valid_from": "2021-03-01",
                                                "source": {"type": "custody_record", "id": str(uuid.uuid4())}}):
        assert link(north, person, "person", place, "location", "resides_at", **other).status_code == 201


def test_person_links_list_addresses_over_time_and_events(north):
    person = north.create_person(surname=unique())
    old, new = location(north, address_lines=["1 Old Road"]), location(north, address_lines=["2 New Road"])
    crime = event(north)
    created(link(north, person, "person", old, "location", "resides_at", valid_from="2015-01-01",
                 valid_to="2020-12-31"))
    created(link(north, person, "person", new, "location", "resides_at", valid_from="2021-01-01"))
    created(link(north, crime, "event", person, "person", "suspect"))
    items = north.get(f"/api/v1/people/{person['id']}/links").get_json()["items"]
    assert [(i["link_type"], i["valid_from"]) for i in items] == [
        ("resides_at", "2021-01-01"), ("resides_at", "2015-01-01"), ("suspect", None)]


def test_the_network_returns_entities_within_n_hops_with_their_paths(north):
    a, b, c = (north.create_person(surname=unique()) for _ in range(3))
    car = vehicle(north)
    created(link(north, a, "person", b, "person", "associate"))
    created(link(north, b, "person", car, "object", "driver"))
    created(link(north, car, "object", c, "person", "owner"))
    one = north.get(f"/api/v1/network?entity_type=person&entity_id={a['id']}&hops=1").get_json()
    assert [(e["type"], e["id"]) for e in one["entities"]] == [("person", b["id"])]
    three = north.get(f"/api/v1/network?entity_type=person&entity_id={a['id']}&hops=3").get_json()
    reached = {e["id"]: e for e in three["entities"]}
    assert set(reached) == {b["id"], car["id"], c["id"]}
    assert reached[c["id"]]["hops"] == 3
    assert [step["link_type"] for step in reached[c["id"]]["path"]] == ["associate", "driver", "owner"]
    assert north.get(f"/api/v1/network?entity_type=person&entity_id={a['id']}&hops=4").status_code == 422


def test_another_forces_pole_records_are_404_and_never_listed(north, south):
    car, place, crime = vehicle(south, vrm="ZZ99ZZZ"), location(south, postcode="ZZ1 1ZZ"), event(south)
    person = south.create_person(surname=unique())
    lnk = created(link(south, person, "person", place, "location", "resides_at"))
    for path in (f"/api/v1/objects/{car['id']}", f"/api/v1/locations/{place['id']}", f"/api/v1/events/{crime['id']}",
                 f"/api/v1/links/{lnk['id']}", f"/api/v1/people/{person['id']}/links",
                 f"/api/v1/network?entity_type=person&entity_id={person['id']}"):
        assert north.get(path).status_code == 404, path
        assert south.get(path).status_code == 200, path
    assert north.get("/api/v1/objects?vrm=ZZ99ZZZ").get_json()["items"] == []
    assert north.get("/api/v1/locations?postcode=ZZ1 1ZZ").get_json()["items"] == []
    assert north.patch(f"/api/v1/objects/{car['id']}", json={"colour": "Red"},
                       headers={"If-Match": '"1"'}).status_code == 404


def test_a_retried_create_with_the_same_idempotency_key_returns_the_first_object(north):
    headers = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    body = {"kind": "property", "category": "bicycle", "description": "Red mountain bike", "serial_number": "SN1"}
    first = north.post("/api/v1/objects", json=body, headers=headers)
    again = north.post("/api/v1/objects", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"] and again.headers["Idempotent-Replayed"] == "true"


OBJECTS = {"vehicle": {"vrm": "ab12 cde"}, "telephone": {"phone_number": "07400 123457"},
           "property": {"category": "bicycle", "description": "Red Raleigh"}}


@pytest.mark.parametrize("kind", sorted(OBJECTS))
def test_an_object_created_do_not_share_is_never_shared(north, south, as_user, kind):
    body = {"kind": kind, **OBJECTS[kind]}
    restricted = created(north.post("/api/v1/objects", json={**body, "do_not_share": True}))
    shareable = created(north.post("/api/v1/objects", json=body))
    assert (restricted["do_not_share"], shareable["do_not_share"]) == (True, False)
    share(as_user("northshire", "force_admin", user="ns-admin"), record_types=["object"])
    assert south.get(f"/api/v1/objects/{shareable['id']}", headers=PURPOSE).status_code == 200
    assert south.get(f"/api/v1/objects/{restricted['id']}", headers=PURPOSE).status_code == 404


def test_locations_and_events_take_restriction_and_classification_at_creation(north, south, as_user):
    higher = {"classification": "OFFICIAL-SENSITIVE"}
    made = {"locations": [location(north, do_not_share=True), location(north, **higher)],
            "events": [event(north, do_not_share=True), event(north, **higher)]}
    for restricted, sensitive in made.values():
        assert (restricted["do_not_share"], restricted["classification"]) == (True, "OFFICIAL")
        assert (sensitive["do_not_share"], sensitive["classification"]) == (False, "OFFICIAL-SENSITIVE")
    controls = {"locations": location(north), "events": event(north)}
    # An OFFICIAL agreement: the sensitive records stay home like the restricted ones.
    share(as_user("northshire", "force_admin", user="ns-admin"), record_types=["location", "event"])
    for path, records in made.items():
        assert south.get(f"/api/v1/{path}/{controls[path]['id']}", headers=PURPOSE).status_code == 200
        answers = [south.get(f"/api/v1/{path}/{r['id']}", headers=PURPOSE).status_code for r in records]
        assert answers == [404, 404]


@pytest.mark.parametrize("path, body", [
    ("/api/v1/objects", {"kind": "vehicle", "vrm": "AB12CDE"}),
    ("/api/v1/locations", {"postcode": "NT1 1AA"}),
    ("/api/v1/events", {"event_type": "burglary", "occurred_at": "2026-01-20T22:15:00+00:00"}),
])
def test_a_bad_restriction_or_classification_at_creation_is_422_naming_the_field(north, path, body):
    for field, value in (("do_not_share", "perhaps"), ("classification", "SECRET")):
        response = north.post(path, json={**body, field: value})
        assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()
