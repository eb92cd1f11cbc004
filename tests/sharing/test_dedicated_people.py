"""People and POLE reads beyond one by id reach a dedicated provider's database as they reach a pooled provider's
rows: the people list, who-can-see-it, a person's links and network, and the duplicate check on create. Each
reads through the other database's own policies, writes the provider's access log there, and answers for a
shared person held elsewhere exactly as for one held in the same database."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import DEDICATED, unique_name
from tests.sharing.test_agreements import PURPOSE, act
from tests.sharing.test_dedicated import share, unreachable


@pytest.fixture
def lake_admin(as_user):
    return as_user("lakeshire", "force_admin", user="lk-admin")


@pytest.fixture
def lake_auditor(as_user):
    return as_user("lakeshire", "auditor")


def listed(api, headers=PURPOSE, **params):
    response = api.get("/api/v1/people", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(body):
    return [item["id"] for item in body["items"]]


def logged(auditor, record_id):
    """The provider's access-log rows for one record, as its auditor reads them (in its own database)."""
    body = auditor.get("/api/v1/sharing/access-log", query_string={"record_id": record_id}).get_json()
    return body["items"]


def access_rows(services, database, provider, record_id):
    """How many access-log rows of a provider one database holds for a record (through the test's transaction)."""
    connection = services.databases.overrides[database]
    connection.exec_driver_sql("SELECT set_config('app.tenant_id', %s, true)",
                               (str(services.registry.by_slug(provider).id),))
    return connection.exec_driver_sql("SELECT count(*) FROM sharing_access WHERE record_id = %s",
                                      (record_id,)).scalar_one()


# --- the people list ----------------------------------------------------------------------------------------------

def test_the_people_list_merges_a_dedicated_providers_shared_people_in_one_order(north, lake, lake_admin,
                                                                                lake_auditor):
    surname = unique_name("List")
    anna = north.create_person(surname=surname, forenames="Anna")
    bea = lake.create_person(surname=surname, forenames="Bea")
    carl = north.create_person(surname=surname, forenames="Carl")
    dora = lake.create_person(surname=surname, forenames="Dora")
    lake.create_person(surname=surname, forenames="Eve", do_not_share=True)
    assert ids(listed(north, surname=surname)) == [anna["id"], carl["id"]]
    agreement = share(lake_admin, consumer_force="northshire")

    body = listed(north, surname=surname)
    assert ids(body) == [anna["id"], bea["id"], carl["id"], dora["id"]] and body["total"] == 4
    assert [i["force"] for i in body["items"]] == ["northshire", "lakeshire", "northshire", "lakeshire"]
    assert body["items"][1]["shared"] == {"read_only": True, "masked": []}
    second = listed(north, surname=surname, page=2, page_size=3)
    assert ids(second) == [dora["id"]] and second["total"] == 4
    # each shown person is in its provider's access log, in its own database; one not shown is not
    assert [r["force"] for r in logged(lake_auditor, bea["id"])] == ["northshire"]
    assert len(logged(lake_auditor, dora["id"])) == 2
    # without a purpose only the force's own people are listed
    assert ids(listed(north, headers={}, surname=surname)) == [anna["id"], carl["id"]]

    assert act(lake_admin, agreement, "revoke").get_json()["status"] == "revoked"
    after = listed(north, surname=surname)
    assert ids(after) == [anna["id"], carl["id"]] and after["total"] == 2


def test_a_masked_date_of_birth_neither_filters_nor_shows_in_the_list(north, lake, lake_admin):
    surname = unique_name("Dob")
    mine = north.create_person(surname=surname, forenames="Anna", date_of_birth="1980-01-02")
    theirs = lake.create_person(surname=surname, forenames="Bea", date_of_birth="1970-03-04")
    share(lake_admin, consumer_force="northshire", field_profile={"person": {"masked": ["date_of_birth"]}})
    wrong = listed(north, surname=surname, date_of_birth="1999-09-09")
    assert ids(wrong) == [theirs["id"]] and wrong["total"] == 1  # own people are filtered; the masked are not
    right = listed(north, surname=surname, date_of_birth="1980-01-02")
    assert ids(right) == [mine["id"], theirs["id"]]
    assert right["items"][1]["date_of_birth"] is None and right["items"][1]["shared"]["masked"] == ["date_of_birth"]


def test_a_dedicated_consumer_lists_a_pooled_providers_shared_people(north, lake, south, north_admin):
    surname = unique_name("Pool")
    own = lake.create_person(surname=surname, forenames="Ann")
    shared = north.create_person(surname=surname, forenames="Bob")
    south.create_person(surname=surname, forenames="Cat")  # Southshire shares nothing with Lakeshire
    assert ids(listed(lake, surname=surname)) == [own["id"]]
    share(north_admin, consumer_force="lakeshire")
    body = listed(lake, surname=surname)
    assert ids(body) == [own["id"], shared["id"]] and body["total"] == 2
    assert body["items"][1]["force"] == "northshire"


def test_an_unshared_dedicated_forces_people_are_absent_from_another_forces_list(north, lake, south, lake_admin):
    surname = unique_name("Apart")
    hidden = lake.create_person(surname=surname)
    share(lake_admin, consumer_force="southshire")  # shared with Southshire, not with Northshire
    assert listed(north, surname=surname)["items"] == []
    assert ids(listed(south, surname=surname)) == [hidden["id"]]


def test_the_list_answers_503_rather_than_a_partial_page_when_a_providers_database_is_unreachable(
        north, lake, lake_admin, services):
    """Unlike a ranked search (which names the forces it left out), an exact list is never silently short."""
    surname = unique_name("Down")
    north.create_person(surname=surname)
    lake.create_person(surname=surname)
    share(lake_admin, consumer_force="northshire")
    with unreachable(services, DEDICATED):
        response = north.get("/api/v1/people", query_string={"surname": surname}, headers=PURPOSE)
        without_purpose = north.get("/api/v1/people", query_string={"surname": surname})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert without_purpose.status_code == 200 and without_purpose.get_json()["total"] == 1


# --- the duplicate check on create --------------------------------------------------------------------------------

def new_person(api, surname, headers=PURPOSE, **fields):
    body = {"surname": surname, "forenames": "Robin", "sex": "female", "date_of_birth": "1979-05-06", **fields}
    return api.post("/api/v1/people", json=body, headers=headers)


def test_a_shared_person_in_a_dedicated_database_is_a_duplicate_candidate(north, south, lake, lake_admin,
                                                                           lake_auditor, services):
    surname = unique_name("Twin")
    theirs = lake.create_person(surname=surname, forenames="Robin", date_of_birth="1979-05-06")
    agreement = share(lake_admin, consumer_force="northshire",
                      field_profile={"person": {"masked": ["pnc_id"]}})
    duplicate = new_person(north, surname)
    assert duplicate.status_code == 409, duplicate.get_json()
    candidates = duplicate.get_json()["candidates"]
    assert [(c["id"], c["force"]) for c in candidates] == [(theirs["id"], "lakeshire")]
    assert candidates[0]["shared"] == {"read_only": True, "masked": ["pnc_id"]}
    # the 409 disclosed the person: logged for Lakeshire in its own database, once
    assert [r["force"] for r in logged(lake_auditor, theirs["id"])] == ["northshire"]
    assert access_rows(services, "pool", "lakeshire", theirs["id"]) == 0
    # Southshire is given nothing by Lakeshire: the same person is new there
    assert new_person(south, surname).status_code == 201
    assert act(lake_admin, agreement, "revoke").get_json()["status"] == "revoked"
    assert new_person(north, surname).status_code == 201  # the next request after revocation


def test_the_duplicate_check_searches_a_dedicated_provider_only_with_a_purpose(north, lake, lake_admin):
    surname = unique_name("Nopurp")
    lake.create_person(surname=surname, forenames="Robin", date_of_birth="1979-05-06")
    share(lake_admin, consumer_force="northshire")
    assert new_person(north, surname, headers={}).status_code == 201


# --- who can see a record -----------------------------------------------------------------------------------------

def test_explain_tells_a_dedicated_owner_who_sees_its_record(lake, lake_admin):
    person = lake.create_person(surname=unique_name("Why"))
    agreement = share(lake_admin, consumer_force="northshire", field_profile={"person": {"masked": ["pnc_id"]}})
    body = lake.get(f"/api/v1/sharing/explain?record_type=person&record_id={person['id']}").get_json()
    assert body["you_own_it"] and body["owner"] == "lakeshire"
    assert body["visible_to"] == [{"force": "northshire", "agreement_id": agreement["id"], "masked": ["pnc_id"]}]
    assert act(lake_admin, agreement, "revoke").get_json()["status"] == "revoked"
    after = lake.get(f"/api/v1/sharing/explain?record_type=person&record_id={person['id']}").get_json()
    assert after["visible_to"] == []


def test_explain_tells_a_consumer_why_it_sees_a_record_held_in_a_dedicated_database(north, lake, lake_admin,
                                                                                   lake_auditor):
    person = lake.create_person(surname=unique_name("Why"))
    hidden = lake.create_person(surname=unique_name("Why"), do_not_share=True)

    def explain_to_north(record):
        return north.get(f"/api/v1/sharing/explain?record_type=person&record_id={record['id']}", headers=PURPOSE)

    assert explain_to_north(person).status_code == 404
    agreement = share(lake_admin, consumer_force="northshire", field_profile={"person": {"masked": ["pnc_id"]}})
    answer = explain_to_north(person)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert explain_to_north(hidden).status_code == 404
    assert body["owner"] == "lakeshire" and not body["you_own_it"] and body["visible_to"] == []
    assert body["why_you_see_it"] == [{"agreement_id": agreement["id"], "masked": ["pnc_id"]}]
    assert [r["force"] for r in logged(lake_auditor, person["id"])] == ["northshire"]
    assert act(lake_admin, agreement, "revoke").get_json()["status"] == "revoked"
    assert explain_to_north(person).status_code == 404


# --- a person's links and network ----------------------------------------------------------------------------------

# (provider, its admin's user, consumer): both pooled, beside a dedicated provider and a dedicated consumer, so that
# each test shows the cases across two databases answering exactly as the one within the pool does.
PROVIDERS = [("northshire", "ns-admin", "southshire"), ("lakeshire", "lk-admin", "northshire"),
             ("northshire", "ns-admin", "lakeshire")]


def made(api, path, body):
    response = api.post(path, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def linked_person(api):
    """A person of the provider resident at a location (link dated), at a second location never shared, and a
    suspect in an event: what its links and network hold."""
    person = api.create_person(surname=unique_name("Net"))
    home = made(api, "/api/v1/locations", {"address_lines": ["1 Net Road"], "postcode": "NT1 1AA"})
    hidden = made(api, "/api/v1/locations", {"address_lines": ["2 Net Road"], "do_not_share": True})
    event = made(api, "/api/v1/events", {"event_type": "incident", "occurred_at": "2024-01-02T03:04:05+00:00"})
    ref = {"type": "person", "id": person["id"]}
    resides = made(api, "/api/v1/links", {"from": ref, "to": {"type": "location", "id": home["id"]},
                                          "link_type": "resides_at", "valid_from": "2020-01-01"})
    made(api, "/api/v1/links", {"from": ref, "to": {"type": "location", "id": hidden["id"]}, "link_type": "frequents"})
    made(api, "/api/v1/links", {"from": ref, "to": {"type": "event", "id": event["id"]}, "link_type": "suspect"})
    return person, home, resides


def person_links(api, person, headers=PURPOSE):
    return api.get(f"/api/v1/people/{person['id']}/links", headers=headers)


@pytest.mark.parametrize("provider, admin_user, consumer", PROVIDERS)
def test_a_shared_persons_links_show_to_the_consumer_wherever_the_provider_lives(as_user, provider, admin_user,
                                                                                 consumer):
    owner, reader = as_user(provider, "investigator"), as_user(consumer, "investigator")
    admin, auditor = as_user(provider, "force_admin", user=admin_user), as_user(provider, "auditor")
    person, home, resides = linked_person(owner)
    assert person_links(reader, person).status_code == 404
    agreement = share(admin, consumer_force=consumer, record_types=["person", "link", "location"],
                      field_profile={"link": {"masked": ["valid_from"]}})
    response = person_links(reader, person)
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    # only the link whose both ends the consumer may see: not the unshared location's, not the event's
    assert [(i["id"], i["to"]["id"], i["force"]) for i in items] == [(resides["id"], home["id"], provider)]
    assert items[0]["valid_from"] is None and items[0]["shared"] == {"read_only": True, "masked": ["valid_from"]}
    assert [r["force"] for r in logged(auditor, resides["id"])] == [consumer]
    assert [r["force"] for r in logged(auditor, person["id"])] == [consumer]
    assert person_links(reader, person, headers={}).status_code == 404  # no purpose, nothing shared
    assert act(admin, agreement, "revoke").get_json()["status"] == "revoked"
    assert person_links(reader, person).status_code == 404


@pytest.mark.parametrize("provider, admin_user, consumer", PROVIDERS)
def test_an_agreement_for_people_only_shows_the_person_without_its_links(as_user, provider, admin_user, consumer):
    owner, reader = as_user(provider, "investigator"), as_user(consumer, "investigator")
    person, _, _ = linked_person(owner)
    share(as_user(provider, "force_admin", user=admin_user), consumer_force=consumer, record_types=["person"])
    response = person_links(reader, person)
    assert response.status_code == 200 and response.get_json()["items"] == []


def walk(api, person, headers=PURPOSE):
    return api.get("/api/v1/network", query_string={"entity_type": "person", "entity_id": person["id"], "hops": 2},
                   headers=headers)


@pytest.mark.parametrize("provider, admin_user, consumer", PROVIDERS)
def test_a_consumers_network_walk_starts_at_a_shared_person_wherever_it_lives(as_user, provider, admin_user,
                                                                              consumer):
    """A walk follows the acting force's own links, which join only its own records: from another force's shared
    person it reaches nothing, in one database as across two; the start is checked and logged where it lives."""
    owner, reader = as_user(provider, "investigator"), as_user(consumer, "investigator")
    admin, auditor = as_user(provider, "force_admin", user=admin_user), as_user(provider, "auditor")
    person, _, _ = linked_person(owner)
    assert {e["type"] for e in walk(owner, person).get_json()["entities"]} == {"location", "event"}
    assert walk(reader, person).status_code == 404
    agreement = share(admin, consumer_force=consumer, record_types=["person", "link", "location"])
    response = walk(reader, person)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["entities"] == [] and response.get_json()["start"]["id"] == person["id"]
    assert [r["force"] for r in logged(auditor, person["id"])] == [consumer]
    assert act(admin, agreement, "revoke").get_json()["status"] == "revoked"
    assert walk(reader, person).status_code == 404


def test_another_forces_unshared_ids_answer_404_for_links_and_network(lake, north, south, lake_admin):
    mine, _, _ = linked_person(lake)
    share(lake_admin, consumer_force="southshire", record_types=["person", "link", "location"])
    assert person_links(north, mine).status_code == 404 and walk(north, mine).status_code == 404
    theirs = north.create_person(surname=unique_name("Own"))
    assert person_links(lake, theirs).status_code == 404 and walk(lake, theirs).status_code == 404
    assert person_links(south, mine).status_code == 200


# --- objects and locations lists ------------------------------------------------------------------------------------

def test_object_and_location_lists_merge_a_dedicated_providers_shared_records_in_one_order(
        north, lake, lake_admin, lake_auditor, services):
    stem = unique_name("V")[-4:].upper()
    mine = made(north, "/api/v1/objects", {"kind": "vehicle", "vrm": f"{stem}B"})
    theirs = made(lake, "/api/v1/objects", {"kind": "vehicle", "vrm": f"{stem}A"})
    kept = made(lake, "/api/v1/objects", {"kind": "vehicle", "vrm": f"{stem}C", "do_not_share": True})
    number = int(uuid.uuid4().int % 9000)
    postcode = f"LK{number // 100 + 10} {number % 10}ZZ"
    here = made(north, "/api/v1/locations", {"address_lines": ["2 Merge Street"], "postcode": postcode})
    there = made(lake, "/api/v1/locations", {"address_lines": ["1 Merge Street"], "postcode": postcode})

    def listing(path, **params):
        response = north.get(path, query_string=params, headers=PURPOSE)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    assert ids(listing("/api/v1/objects", vrm=stem)) == [mine["id"]]
    share(lake_admin, consumer_force="northshire", record_types=["object", "location"])
    objects = listing("/api/v1/objects", vrm=stem)
    assert ids(objects) == [theirs["id"], mine["id"]] and objects["total"] == 2  # by VRM, across both databases
    assert kept["id"] not in ids(objects)
    assert [i["force"] for i in objects["items"]] == ["lakeshire", "northshire"]
    places = listing("/api/v1/locations", postcode=postcode)
    assert ids(places) == [there["id"], here["id"]]  # by address: "1 Merge Street" first
    assert ids(listing("/api/v1/objects", vrm=stem, page_size=1, page=2)) == [mine["id"]]
    assert access_rows(services, DEDICATED, "lakeshire", theirs["id"]) >= 1  # logged in Lakeshire's database
    assert access_rows(services, "pool", "lakeshire", theirs["id"]) == 0
