"""Two dedicated forces share with each other as pooled forces do, each record read through its own database's
policies: Lakeshire and Moorshire each have a database of their own, and with Southshire (pooled) they make the
collaboration lakes-and-moors. A search reaches every database involved at once, one thread per database, and
ranks what they return together."""
from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from sqlalchemy import event

from tests.conftest import unique_name
from tests.sharing.test_agreements import PURPOSE, act, read
from tests.sharing.test_dedicated import STARTED, grants_in, search, share, unreachable

ADMINS = {"northshire": "ns-admin", "southshire": "ss-admin", "lakeshire": "lk-admin", "moorshire": "mr-admin"}
# a provider and a consumer: both pooled (the reference), both dedicated, and one of each either way round
PAIRS = [("northshire", "southshire"), ("lakeshire", "moorshire"), ("moorshire", "lakeshire"),
         ("northshire", "moorshire"), ("moorshire", "southshire")]


@pytest.fixture
def moor(as_user):
    return as_user("moorshire", "investigator")


@pytest.fixture
def admin(as_user):
    return lambda slug: as_user(slug, "force_admin", user=ADMINS[slug])


def access_rows(connection, provider_id, record_id):
    """The access-log rows one database holds for a record, read as its provider through the test's transaction."""
    connection.exec_driver_sql("SELECT set_config('app.tenant_id', %s, true)", (str(provider_id),))
    return connection.exec_driver_sql("SELECT consumer_id FROM sharing_access WHERE record_id = %s",
                                      (record_id,)).scalars().all()


def test_a_dedicated_force_shares_with_another_through_the_providers_own_database(lake, moor, admin, as_user,
                                                                                   services):
    person = lake.create_person(surname=unique_name("Pair"))
    assert read(moor, person).status_code == 404
    agreement = share(admin("lakeshire"), consumer_force="moorshire")
    provider, consumer = services.registry.by_slug("lakeshire"), services.registry.by_slug("moorshire")
    overrides = services.databases.overrides
    # the grant is in the agreements' home and in the provider's database, never in the consumer's
    assert grants_in(overrides["pool"], provider.id, agreement["id"]) == 1
    assert grants_in(overrides["lakeshire"], provider.id, agreement["id"]) == 1
    assert grants_in(overrides["moorshire"], provider.id, agreement["id"]) == 0

    shared = read(moor, person)
    assert shared.status_code == 200, shared.get_json()
    body = shared.get_json()
    assert body["id"] == person["id"] and body["force"] == "lakeshire"
    assert body["shared"] == {"read_only": True, "masked": []}
    assert moor.patch(f"/api/v1/people/{person['id']}", json={"forenames": "X"},
                     headers={"If-Match": shared.headers["ETag"]}).status_code == 404
    # the access log is written in the provider's database only, and its auditor sees the consumer's read
    assert access_rows(overrides["lakeshire"], provider.id, person["id"]) == [consumer.id]
    assert access_rows(overrides["moorshire"], provider.id, person["id"]) == []
    assert access_rows(overrides["pool"], provider.id, person["id"]) == []
    log = as_user("lakeshire", "auditor").get(f"/api/v1/sharing/access-log?record_id={person['id']}").get_json()
    assert [(a["force"], a["purpose"]) for a in log["items"]] == [("moorshire", PURPOSE["X-Purpose"])]
    # the consumer's own audit trail, newest first: the refused change, the consultation, the read refused before
    trail = as_user("moorshire", "auditor").get(f"/api/v1/audit?record_id={person['id']}").get_json()["items"]
    assert [e["action"] for e in trail] == ["refusal", "consultation", "refusal"], trail

    assert act(admin("lakeshire"), agreement, "revoke").get_json()["status"] == "revoked"
    assert read(moor, person).status_code == 404  # the very next request
    assert search(moor, person["surname"])["items"] == []
    assert grants_in(overrides["lakeshire"], provider.id, agreement["id"]) == 0


@pytest.mark.parametrize("provider, consumer", PAIRS)
def test_masking_ceilings_and_do_not_share_hold_for_every_pair_as_for_pooled_forces(provider, consumer, as_user,
                                                                                    admin):
    owner, reader = as_user(provider, "investigator"), as_user(consumer, "investigator")
    surname = unique_name("Rules")
    plain = owner.create_person(surname=surname, forenames="Alice", date_of_birth="1985-05-06")
    sensitive = owner.create_person(surname=surname, forenames="Sen", classification="OFFICIAL-SENSITIVE")
    restricted = owner.create_person(surname=surname, forenames="Res", do_not_share=True)
    share(admin(provider), consumer_force=consumer, field_profile={"person": {"masked": ["date_of_birth"]}})
    assert read(reader, sensitive).status_code == 404 and read(reader, restricted).status_code == 404
    body = read(reader, plain).get_json()
    assert body["force"] == provider and body["date_of_birth"] is None
    assert body["shared"] == {"read_only": True, "masked": ["date_of_birth"]}
    assert [i["id"] for i in search(reader, surname)["items"]] == [plain["id"]]
    # a masked date of birth neither finds, filters nor ranks: any date given, the same answer
    answers = [[(i["id"], i["score"], i["date_of_birth"]) for i in reader.get(
        "/api/v1/people/search", query_string={"name": f"Alice {surname}", "date_of_birth": dob},
        headers=PURPOSE).get_json()["items"]] for dob in ("1985-05-06", "1999-09-09", "1985")]
    assert answers[0] == answers[1] == answers[2] and answers[0][0][0] == plain["id"] and answers[0][0][2] is None
    # a second agreement reaching OFFICIAL-SENSITIVE releases the sensitive person; do-not-share stays unshared
    share(admin(provider), consumer_force=consumer, max_classification="OFFICIAL-SENSITIVE")
    assert read(reader, sensitive).status_code == 200 and read(reader, restricted).status_code == 404
    # Code C material is never shared, whoever the provider and wherever the consumer lives
    refused = admin(provider).post("/api/v1/sharing/agreements", json={
        "consumer_force": consumer, "record_types": ["person"], "max_classification": "OFFICIAL",
        "handling_codes": ["P", "C"], "purpose": "x purpose", "lawful_basis": "basis"})
    assert refused.status_code == 422 and "never shared" in refused.get_json()["errors"]["handling_codes"][0]


def test_a_search_ranks_three_databases_together_and_logs_each_providers_reads_in_its_own(moor, lake, north, admin,
                                                                                          as_user):
    surname = unique_name("Three")
    exact = lake.create_person(surname=surname, forenames="Anna", date_of_birth="1971-03-04")
    near = moor.create_person(surname=surname, forenames="Anna", date_of_birth="1971-04-03")
    other = north.create_person(surname=surname, forenames="Zed", date_of_birth="1971-09-09")
    share(admin("lakeshire"), consumer_force="moorshire")
    share(admin("northshire"), consumer_force="moorshire")
    body = moor.get(f"/api/v1/people/search?name=Anna {surname}&date_of_birth=1971-03-04", headers=PURPOSE).get_json()
    assert [(i["id"], i["force"]) for i in body["items"]] == [
        (exact["id"], "lakeshire"), (near["id"], "moorshire"), (other["id"], "northshire")], body
    assert body["total"] == 3 and "left_out" not in body
    assert body["items"][0]["shared"] == {"read_only": True, "masked": []} and "shared" not in body["items"][1]
    # each provider's auditor sees Moorshire's search of its person: Lakeshire's in its database, Northshire's in
    # the pool
    for provider, person in (("lakeshire", exact), ("northshire", other)):
        log = as_user(provider, "auditor").get(f"/api/v1/sharing/access-log?record_id={person['id']}").get_json()
        assert [a["force"] for a in log["items"]] == ["moorshire"], (provider, log)
    # without a purpose only the force's own records are searched
    assert [i["id"] for i in search(moor, surname, headers={})["items"]] == [near["id"]]


def test_one_database_that_does_not_answer_leaves_out_its_force_only(moor, lake, north, admin, services):
    surname = unique_name("Gone")
    mine = moor.create_person(surname=surname, forenames="Ann")
    lake.create_person(surname=surname)
    theirs = north.create_person(surname=surname, forenames="Bea")
    share(admin("lakeshire"), consumer_force="moorshire")
    share(admin("northshire"), consumer_force="moorshire")
    with unreachable(services, "lakeshire"):
        body = search(moor, surname)
    assert [i["id"] for i in body["items"]] == [mine["id"], theirs["id"]]
    assert [f["force"] for f in body["left_out"]] == ["lakeshire"] and "did not answer" in body["left_out"][0]["reason"]
    assert "left_out" not in search(moor, surname)  # the next search, the database back, has everyone
    assert len(search(moor, surname)["items"]) == 3


def test_each_database_is_searched_on_a_thread_of_its_own_and_one_after_another_gives_the_same_answer(
        moor, lake, north, admin, services):
    surname = unique_name("Threads")
    for api in (moor, lake, north):
        api.create_person(surname=surname, forenames="Ann", date_of_birth="1980-01-02")
    share(admin("lakeshire"), consumer_force="moorshire")
    share(admin("northshire"), consumer_force="moorshire")
    overrides = services.databases.overrides
    threads: dict[str, set[str]] = {name: set() for name in ("pool", "lakeshire", "moorshire")}

    def recorder(seen: set[str]):
        return lambda *_: seen.add(threading.current_thread().name)

    listeners = {name: recorder(seen) for name, seen in threads.items()}
    for name, listener in listeners.items():
        event.listen(overrides[name], "before_cursor_execute", listener)
    databases = services.databases
    settings = databases.settings
    try:
        together = search(moor, surname)
        seen_together = {name: set(names) for name, names in threads.items()}
        for names in threads.values():
            names.clear()
        databases.settings = replace(settings, search_threads=0)
        apart = search(moor, surname)
    finally:
        databases.settings = settings
        for name, listener in listeners.items():
            event.remove(overrides[name], "before_cursor_execute", listener)
    request_thread = threading.current_thread().name  # Flask's test client serves in the test's thread
    assert seen_together["moorshire"] == {request_thread}  # the acting force's own database, in the request's thread
    for provider in ("pool", "lakeshire"):  # each provider searched on a search thread, its access log written here
        assert any(n.startswith("people-search") for n in seen_together[provider]), seen_together
    assert threads == {"pool": {request_thread}, "lakeshire": {request_thread}, "moorshire": {request_thread}}
    assert apart == together and len(together["items"]) == 3


def propose_to_lakes_and_moors(admin, **terms):
    response = admin.post("/api/v1/sharing/agreements", json={
        "consumer_collaboration": "lakes-and-moors", "record_types": ["person"], "max_classification": "OFFICIAL",
        "purpose": "Flooding: missing persons", "lawful_basis": "DPA 2018 s.35", "valid_from": STARTED, **terms})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def moors_admin(as_user):
    return as_user("moorshire", "collaboration_admin", user="collab-admin-moor")  # collaborations/lakes-and-moors


def test_a_dedicated_member_shares_with_its_collaboration_under_one_agreement(moor, lake, south, north, admin,
                                                                              moors_admin, as_user, services):
    person = moor.create_person(surname=unique_name("Moors"))
    agreement = propose_to_lakes_and_moors(admin("moorshire"), field_profile={"person": {"masked": ["date_of_birth"]}})
    assert sorted(agreement["consumers"]) == ["lakeshire", "southshire"]
    assert act(admin("moorshire"), agreement, "approve").get_json()["status"] == "proposed"
    assert read(lake, person).status_code == 404 and read(south, person).status_code == 404
    approved = act(moors_admin, agreement, "approve", reason="agreed by the lakes-and-moors board")
    assert approved.get_json()["status"] == "active", approved.get_json()
    provider = services.registry.by_slug("moorshire")
    assert grants_in(services.databases.overrides["moorshire"], provider.id, agreement["id"]) == 2  # one per consumer
    for member in (lake, south):  # a dedicated and a pooled member, each reading through Moorshire's database
        body = read(member, person).get_json()
        assert body["force"] == "moorshire" and body["date_of_birth"] is None, (member.slug, body)
        assert [i["id"] for i in search(member, person["surname"])["items"]] == [person["id"]]
    assert read(north, person).status_code == 404  # not a member
    log = as_user("moorshire", "auditor").get(f"/api/v1/sharing/access-log?record_id={person['id']}").get_json()
    assert sorted({a["force"] for a in log["items"]}) == ["lakeshire", "southshire"]
    assert act(admin("moorshire"), agreement, "suspend").get_json()["status"] == "suspended"
    assert read(lake, person).status_code == 404 and read(south, person).status_code == 404


def test_a_dedicated_providers_agreement_is_approved_by_an_administrator_of_another_member(lake, moor, admin,
                                                                                           moors_admin):
    person = lake.create_person(surname=unique_name("Lakes"))
    agreement = propose_to_lakes_and_moors(admin("lakeshire"))
    act(admin("lakeshire"), agreement, "approve")
    approved = act(moors_admin, agreement, "approve")
    assert approved.status_code == 200, approved.get_json()
    assert read(moor, person).get_json()["force"] == "lakeshire"


def test_a_pooled_member_shares_with_both_dedicated_members_of_its_collaboration(south, lake, moor, admin, as_user,
                                                                                moors_admin):
    person = south.create_person(surname=unique_name("South"))
    agreement = propose_to_lakes_and_moors(admin("southshire"))
    assert sorted(agreement["consumers"]) == ["lakeshire", "moorshire"]
    act(admin("southshire"), agreement, "approve")
    # tri-shire's administrator (Southshire is a member there too) does not administer lakes-and-moors
    other_admin = as_user("northshire", "collaboration_admin", user="collab-admin-1")
    assert act(other_admin, agreement, "approve").status_code in (403, 404)
    assert read(lake, person).status_code == 404
    assert act(moors_admin, agreement, "approve").get_json()["status"] == "active"
    assert read(lake, person).get_json()["force"] == "southshire"
    assert [i["id"] for i in search(moor, person["surname"])["items"]] == [person["id"]]
    assert act(admin("southshire"), agreement, "revoke").get_json()["status"] == "revoked"
    assert read(lake, person).status_code == 404 and search(moor, person["surname"])["items"] == []
