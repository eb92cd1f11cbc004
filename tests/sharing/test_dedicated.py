"""A dedicated force shares like a pooled one: its records are read through its own database's policies, its
agreements' grants live in its database as well as the pool (the agreements' home), its access log is written
there, and a search merges every database's people into one ranking, naming any force it could not reach."""
from __future__ import annotations

from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import create_engine

from app.sharing import agreements
from tests.conftest import DEDICATED, POOL_DB, superuser_url, unique_name
from tests.sharing import test_agreements
from tests.sharing.test_agreements import PURPOSE, act, read

LAKE_DB = f"{POOL_DB}_{DEDICATED}"
# Each test holds one transaction per database, so each database's now() is when the test first touched it: an
# agreement starting at the pool's now() could be "not yet in force" by the clock of a dedicated database touched
# earlier. Starting in the past keeps the test about sharing, not about two frozen clocks.
STARTED = "2020-01-01T00:00:00+00:00"


@contextmanager
def unreachable(services, database: str):
    """Within: the test's connection to one database replaced by one to where nothing listens (port 1)."""
    overrides = services.databases.overrides
    reachable = overrides[database]
    overrides[database] = create_engine("postgresql+psycopg://concord@127.0.0.1:1/concord?connect_timeout=1")
    try:
        yield
    finally:
        overrides[database] = reachable


def share(admin, **terms):
    return test_agreements.share(admin, valid_from=STARTED, **terms)


@pytest.fixture
def lake_admin(as_user):
    return as_user("lakeshire", "force_admin", user="lk-admin")


def grants_in(connection, provider_id, agreement_id):
    """The grant rows one database holds for an agreement, read as the provider through the test's transaction."""
    connection.exec_driver_sql("SELECT set_config('app.tenant_id', %s, true)", (str(provider_id),))
    return connection.exec_driver_sql(
        "SELECT count(*) FROM sharing_grant WHERE agreement_id = %s", (agreement_id,)).scalar_one()


def search(api, surname, headers=PURPOSE):
    response = api.get(f"/api/v1/people/search?name={surname}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_dedicated_force_shares_with_a_pooled_one_through_its_own_database(lake, north, lake_admin, as_user):
    person = lake.create_person(surname=unique_name("Lake"))
    assert read(north, person).status_code == 404
    agreement = share(lake_admin, consumer_force="northshire")
    shared = read(north, person)
    assert shared.status_code == 200, shared.get_json()
    body = shared.get_json()
    assert body["force"] == "lakeshire" and body["shared"] == {"read_only": True, "masked": []}
    assert north.patch(f"/api/v1/people/{person['id']}", json={"forenames": "X"},
                       headers={"If-Match": shared.headers["ETag"]}).status_code == 404
    # the provider's access log is in its own database: Lakeshire's auditor sees Northshire's read
    log = as_user("lakeshire", "auditor").get("/api/v1/sharing/access-log").get_json()["items"]
    assert any(a["record_id"] == person["id"] and a["force"] == "northshire" for a in log), log
    assert act(lake_admin, agreement, "revoke").get_json()["status"] == "revoked"
    assert read(north, person).status_code == 404


def test_the_grants_are_in_the_providers_database_and_revocation_removes_them(lake, north, lake_admin, services):
    agreement = share(lake_admin, consumer_force="northshire")
    pool, lake_db = services.databases.overrides["pool"], services.databases.overrides[DEDICATED]
    provider = services.registry.by_slug("lakeshire").id
    assert grants_in(pool, provider, agreement["id"]) == grants_in(lake_db, provider, agreement["id"]) == 1
    assert act(lake_admin, agreement, "suspend").status_code == 200
    assert grants_in(pool, provider, agreement["id"]) == grants_in(lake_db, provider, agreement["id"]) == 0
    assert act(lake_admin, agreement, "reinstate").status_code == 200
    assert grants_in(lake_db, provider, agreement["id"]) == 1


def test_a_pooled_force_shares_with_a_dedicated_one(north, lake, north_admin):
    person = north.create_person(surname=unique_name("North"))
    assert read(lake, person).status_code == 404
    share(north_admin, consumer_force="lakeshire", field_profile={"person": {"masked": ["date_of_birth"]}})
    shared = read(lake, person)
    assert shared.status_code == 200, shared.get_json()
    assert shared.get_json()["date_of_birth"] is None and shared.get_json()["force"] == "northshire"
    found = search(lake, person["surname"])
    assert [(i["id"], i["force"]) for i in found["items"]] == [(person["id"], "northshire")]


def test_search_merges_own_and_dedicated_records_into_one_ranking(north, lake, lake_admin):
    surname = unique_name("Merge")
    exact = lake.create_person(surname=surname, forenames="Anna", date_of_birth="1971-03-04")
    near = north.create_person(surname=surname, forenames="Anna", date_of_birth="1971-04-03")
    other = north.create_person(surname=surname, forenames="Zed", date_of_birth="1971-09-09")
    share(lake_admin, consumer_force="northshire")
    found = north.get(f"/api/v1/people/search?name=Anna {surname}&date_of_birth=1971-03-04", headers=PURPOSE)
    body = found.get_json()
    assert [i["id"] for i in body["items"]] == [exact["id"], near["id"], other["id"]], body
    assert body["items"][0]["force"] == "lakeshire" and body["total"] == 3 and "left_out" not in body
    # without a purpose only the force's own records are searched
    assert {i["id"] for i in search(north, surname, headers={})["items"]} == {near["id"], other["id"]}


def test_masking_ceilings_and_do_not_share_hold_for_a_dedicated_provider(lake, north, lake_admin):
    surname = unique_name("Rules")
    plain = lake.create_person(surname=surname, date_of_birth="1985-05-06")
    sensitive = lake.create_person(surname=surname, forenames="Sen", classification="OFFICIAL-SENSITIVE")
    restricted = lake.create_person(surname=surname, forenames="Res", do_not_share=True)
    share(lake_admin, consumer_force="northshire", field_profile={"person": {"masked": ["date_of_birth"]}})
    assert read(north, sensitive).status_code == 404 and read(north, restricted).status_code == 404
    body = read(north, plain).get_json()
    assert body["date_of_birth"] is None and body["shared"]["masked"] == ["date_of_birth"]
    assert [i["id"] for i in search(north, surname)["items"]] == [plain["id"]]
    # the masked date of birth neither finds nor confirms: a search by a wrong one still lists the person
    wrong = north.get(f"/api/v1/people/search?name={surname}&date_of_birth=1999-09-09", headers=PURPOSE).get_json()
    assert [i["id"] for i in wrong["items"]] == [plain["id"]]


def test_code_c_is_refused_for_a_dedicated_provider_too(lake_admin):
    response = lake_admin.post("/api/v1/sharing/agreements", json={
        "consumer_force": "northshire", "record_types": ["person"], "max_classification": "OFFICIAL",
        "handling_codes": ["P", "C"], "purpose": "x purpose", "lawful_basis": "basis"})
    assert response.status_code == 422 and "never shared" in response.get_json()["errors"]["handling_codes"][0]


def test_an_unreachable_providers_database_is_left_out_and_named(north, lake, lake_admin, services):
    surname = unique_name("Gone")
    mine = north.create_person(surname=surname)
    lake.create_person(surname=surname)
    share(lake_admin, consumer_force="northshire")
    with unreachable(services, DEDICATED):
        body = search(north, surname)
    assert [i["id"] for i in body["items"]] == [mine["id"]]
    assert body["left_out"] == [{"force": "lakeshire", "reason": body["left_out"][0]["reason"]}]
    assert "did not answer" in body["left_out"][0]["reason"]


@pytest.mark.committing
def test_no_record_is_copied_into_the_consumers_database(services, as_user):
    """Committed for real: after Northshire reads Lakeshire's person, the pool holds no row of it."""
    lake, north = as_user("lakeshire", "investigator"), as_user("northshire", "investigator")
    admin = as_user("lakeshire", "force_admin", user="lk-admin")
    person = lake.create_person(surname=unique_name("Copy"))
    agreement = share(admin, consumer_force="northshire")
    try:
        assert read(north, person).status_code == 200
        with psycopg.connect(superuser_url(), autocommit=True) as pool, \
                psycopg.connect(superuser_url(LAKE_DB), autocommit=True) as lake_db:
            assert pool.execute("SELECT count(*) FROM person WHERE id = %s", (person["id"],)).fetchone()[0] == 0
            assert lake_db.execute("SELECT count(*) FROM sharing_access WHERE record_id = %s",
                                   (person["id"],)).fetchone()[0] == 1
            assert pool.execute("SELECT count(*) FROM sharing_access WHERE record_id = %s",
                                (person["id"],)).fetchone()[0] == 0
    finally:
        act(admin, agreement, "revoke")


def test_repair_restores_a_mirror_that_lost_its_grants(lake, north, lake_admin, services):
    person = lake.create_person(surname=unique_name("Mend"))
    agreement = share(lake_admin, consumer_force="northshire")
    lake_db = services.databases.overrides[DEDICATED]
    provider = services.registry.by_slug("lakeshire")
    # a failure between the two commits: the home says active, the provider's database holds no grant
    lake_db.exec_driver_sql("SELECT set_config('app.tenant_id', %s, true)", (str(provider.id),))
    lake_db.exec_driver_sql("DELETE FROM sharing_grant WHERE agreement_id = %s", (agreement["id"],))
    assert read(north, person).status_code == 404  # fails closed: less shared, never more
    assert agreements.repair(databases=services.databases, tenant=provider) == 1
    assert grants_in(lake_db, provider.id, agreement["id"]) == 1
    assert read(north, person).status_code == 200
    assert agreements.repair(databases=services.databases, tenant=provider) == 0


def read_location(api, location, headers=PURPOSE):
    return api.get(f"/api/v1/locations/{location['id']}", headers=headers)


def test_a_dedicated_providers_shared_location_is_read_by_id_through_its_own_database(lake, north, lake_admin):
    location = lake.post("/api/v1/locations", json={"address_lines": ["1 Lake Road"], "postcode": "LK1 1AA"})
    assert location.status_code == 201, location.get_json()
    location = location.get_json()
    assert read_location(north, location).status_code == 404
    agreement = share(lake_admin, consumer_force="northshire", record_types=["location"],
                      field_profile={"location": {"masked": ["postcode"]}})
    shared = read_location(north, location)
    assert shared.status_code == 200, shared.get_json()
    body = shared.get_json()
    assert body["id"] == location["id"] and body["address_lines"] == ["1 Lake Road"] and body["postcode"] is None
    assert body["shared"] == {"read_only": True, "masked": ["postcode"]}
    assert north.patch(f"/api/v1/locations/{location['id']}", json={"town": "X"},
                       headers={"If-Match": shared.headers["ETag"]}).status_code == 404
    assert act(lake_admin, agreement, "revoke").get_json()["status"] == "revoked"
    assert read_location(north, location).status_code == 404


def test_a_dedicated_providers_location_stays_unread_by_an_agreement_not_naming_locations(lake, north, lake_admin):
    location = lake.post("/api/v1/locations", json={"address_lines": ["2 Lake Road"], "postcode": "LK1 2AA"})
    assert location.status_code == 201, location.get_json()
    person = lake.create_person(surname=unique_name("Only"))
    share(lake_admin, consumer_force="northshire", record_types=["person"])
    assert read(north, person).status_code == 200  # the agreement is in force, for people only
    assert read_location(north, location.get_json()).status_code == 404
