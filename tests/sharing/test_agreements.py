"""Sharing between forces: agreements that the database enforces, masked, audited, revocable at once."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from tests.conftest import unique_name

PURPOSE = {"X-Purpose": "Operation Kestrel: locating a missing person"}


@pytest.fixture
def collab_admin(as_user):
    return as_user("northshire", "collaboration_admin", user="collab-admin-1")  # tenants/collaborations/tri-shire


def propose(admin, **terms):
    body = {"consumer_force": "southshire", "record_types": ["person"], "max_classification": "OFFICIAL",
            "purpose": "Cross-border missing persons", "lawful_basis": "DPA 2018 s.35", **terms}
    response = admin.post("/api/v1/sharing/agreements", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def act(admin, agreement, action, reason="as agreed at the tri-force board"):
    return admin.post(f"/api/v1/sharing/agreements/{agreement['id']}/{action}", json={"reason": reason})


def share(admin, **terms):
    agreement = propose(admin, **terms)
    approved = act(admin, agreement, "approve")
    assert approved.status_code == 200 and approved.get_json()["status"] == "active", approved.get_json()
    return approved.get_json()


def read(api, person, headers=PURPOSE):
    return api.get(f"/api/v1/people/{person['id']}", headers=headers)


def test_a_shared_record_is_readable_with_a_purpose_and_gone_the_request_after_revocation(north, south,
                                                                                           north_admin):
    person = north.create_person(surname=unique_name("Shared"))
    assert read(south, person).status_code == 404
    agreement = share(north_admin)
    shared = read(south, person)
    assert shared.status_code == 200, shared.get_json()
    body = shared.get_json()
    assert body["force"] == "northshire" and body["shared"] == {"read_only": True, "masked": []}
    without_purpose = read(south, person, headers={})
    assert without_purpose.status_code == 404 and "X-Purpose" in without_purpose.get_json()["message"]
    assert act(north_admin, agreement, "revoke").get_json()["status"] == "revoked"
    assert read(south, person).status_code == 404


def test_suspension_stops_sharing_until_reinstated(north, south, north_admin):
    person = north.create_person(surname=unique_name("Susp"))
    agreement = share(north_admin)
    assert act(north_admin, agreement, "suspend").get_json()["status"] == "suspended"
    assert read(south, person).status_code == 404
    assert act(north_admin, agreement, "reinstate").get_json()["status"] == "active"
    assert read(south, person).status_code == 200
    assert act(north_admin, agreement, "reinstate").status_code == 409


def test_the_consumer_cannot_change_a_shared_record_through_the_api(north, south, north_admin):
    person = north.create_person(surname=unique_name("Ro"))
    share(north_admin)
    path = f"/api/v1/people/{person['id']}"
    assert south.patch(path, json={"forenames": "X"}, headers={**PURPOSE, "If-Match": '"1"'}).status_code == 404
    assert south.post(f"{path}/research", json={"surname": "X", "forenames": "Y", "sex": "male"},
                      headers=PURPOSE).status_code == 404


@pytest.mark.parametrize("statement", [
    "UPDATE person SET forenames = 'Changed' WHERE id = %(id)s",
    "DELETE FROM person WHERE id = %(id)s",
])
def test_the_database_refuses_a_consumer_update_or_delete_of_a_provider_row(services, north, north_admin,
                                                                             statement):
    person = north.create_person(surname=unique_name("Db"))
    share(north_admin)
    south = services.registry.by_slug("southshire")
    conn = services.databases.overrides["pool"]  # the test's connection, as the runtime role
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true), set_config('app.purpose', 'x', true)"),
                 {"t": str(south.id)})
    assert conn.execute(text("SELECT count(*) FROM person WHERE id = :id"), {"id": person["id"]}).scalar() == 1
    changed = conn.exec_driver_sql(statement, {"id": person["id"]}).rowcount
    assert changed == 0
    conn.execute(text("SELECT set_config('app.tenant_id', '', true)"))


def test_the_database_refuses_a_consumer_insert_into_a_provider_force(services, north_admin):
    share(north_admin)
    north, south = services.registry.by_slug("northshire"), services.registry.by_slug("southshire")
    conn = services.databases.overrides["pool"]
    savepoint = conn.begin_nested()
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true), set_config('app.purpose', 'x', true)"),
                 {"t": str(south.id)})
    with pytest.raises(Exception, match="row-level security"):
        conn.execute(text("INSERT INTO person (tenant_id, id, surname, forenames, surname_key, forenames_key, sex, "
                          "created_by, updated_by) VALUES (:t, :id, 'A', 'B', 'A', 'B', 'male', 'x', 'x')"),
                     {"t": str(north.id), "id": str(uuid.uuid4())})
    savepoint.rollback()


def test_masked_fields_are_withheld_and_cannot_be_searched_by(north, south, north_admin):
    surname = unique_name("Mask")
    person = north.create_person(surname=surname, forenames="Alice", date_of_birth="1980-04-03",
                                 warning_markers=[{"code": "VI", "from_date": "2020-01-01"}])
    share(north_admin, field_profile={"person": {"masked": ["date_of_birth", "warning_markers"]}})
    body = read(south, person).get_json()
    assert body["date_of_birth"] is None and body["warning_markers"] == []
    assert body["shared"]["masked"] == ["date_of_birth", "warning_markers"]
    assert body["surname"] == surname

    def ids(**params):
        found = south.get("/api/v1/people/search", query_string=params, headers=PURPOSE).get_json()["items"]
        return [(r["id"], r["score"], r["date_of_birth"]) for r in found]

    without = ids(name=f"Alice {surname}")
    assert without and without[0][0] == person["id"] and without[0][2] is None
    for dob in ("1980-04-03", "1955-01-01", "1980"):
        assert ids(name=f"Alice {surname}", date_of_birth=dob) == without


def test_a_do_not_share_record_is_never_shared(north, south, north_admin):
    restricted = north.create_person(surname=unique_name("Dns"), do_not_share=True)
    share(north_admin)
    assert read(south, restricted).status_code == 404
    explain = north.get(f"/api/v1/sharing/explain?record_type=person&record_id={restricted['id']}").get_json()
    assert explain["do_not_share"] is True and explain["visible_to"] == []


def test_sensitive_records_need_an_agreement_that_reaches_their_classification(north, south, north_admin):
    sensitive = north.create_person(surname=unique_name("Sens"), classification="OFFICIAL-SENSITIVE")
    share(north_admin)  # OFFICIAL only
    assert read(south, sensitive).status_code == 404
    share(north_admin, max_classification="OFFICIAL-SENSITIVE")
    assert read(south, sensitive).status_code == 200


def test_search_covers_own_and_shared_records_each_attributed_never_merged(north, south, north_admin):
    surname = unique_name("Both")
    theirs = north.create_person(surname=surname, forenames="Sam", date_of_birth="1990-02-02")
    ours = south.create_person(surname=surname, forenames="Sam", date_of_birth="1990-02-02")
    share(north_admin)
    found = south.get("/api/v1/people/search", query_string={"name": f"Sam {surname}"}, headers=PURPOSE).get_json()
    by_id = {r["id"]: r for r in found["items"]}
    assert set(by_id) == {theirs["id"], ours["id"]}
    assert by_id[theirs["id"]]["force"] == "northshire" and by_id[theirs["id"]]["shared"]["read_only"] is True
    assert by_id[ours["id"]]["force"] == "southshire" and "shared" not in by_id[ours["id"]]
    own_only = south.get("/api/v1/people/search", query_string={"name": f"Sam {surname}"}).get_json()
    assert [r["id"] for r in own_only["items"]] == [ours["id"]] and "X-Purpose" in own_only["notice"]


def test_a_collaboration_wide_agreement_needs_both_approvals(north, south, as_user, north_admin, collab_admin):
    west = as_user("westshire", "investigator")
    person = north.create_person(surname=unique_name("Collab"))
    agreement = propose(north_admin, consumer_force=None, consumer_collaboration="tri-shire")
    assert sorted(agreement["consumers"]) == ["southshire", "westshire"]
    assert act(collab_admin, agreement, "approve").get_json()["status"] == "proposed"
    assert read(west, person).status_code == 404
    assert act(north_admin, agreement, "approve").get_json()["status"] == "active"
    assert read(west, person).status_code == 200 and read(south, person).status_code == 200
    detail = north_admin.get(f"/api/v1/sharing/agreements/{agreement['id']}").get_json()
    assert [(e["action"], e["user"]) for e in detail["history"]] == [
        ("proposed", "ns-admin"), ("approve", "collab-admin-1"), ("approve", "ns-admin")]


def test_only_the_providers_force_admin_runs_its_agreements(north_admin, south_admin, as_user):
    agreement = propose(north_admin)
    assert act(south_admin, agreement, "approve").status_code == 403
    officer = as_user("northshire", "officer")
    assert officer.post("/api/v1/sharing/agreements", json={}).status_code == 403
    west_admin = as_user("westshire", "force_admin", user="ws-admin")
    assert west_admin.get(f"/api/v1/sharing/agreements/{agreement['id']}").status_code == 404
    assert all(a["id"] != agreement["id"] for a in west_admin.get("/api/v1/sharing/agreements").get_json()["items"])
    assert south_admin.get(f"/api/v1/sharing/agreements/{agreement['id']}").status_code == 200


def test_code_c_is_refused_with_its_reason(north_admin):
    code_c = north_admin.post("/api/v1/sharing/agreements", json={
        "consumer_force": "southshire", "record_types": ["person"], "max_classification": "OFFICIAL",
        "handling_codes": ["P", "C"], "purpose": "x purpose", "lawful_basis": "basis"})
    assert code_c.status_code == 422 and "never shared" in code_c.get_json()["errors"]["handling_codes"][0]


@pytest.mark.committing
def test_an_agreement_past_its_end_shares_nothing_without_any_job(as_user, superuser):
    # Committed: inside one test transaction PostgreSQL's now() would stand still and nothing would expire.
    user = "expiry-test"
    north, south = as_user("northshire", user=user), as_user("southshire", user=user)
    admin = as_user("northshire", "force_admin", user=user)
    person = north.create_person(surname=unique_name("Exp"))
    agreement = None
    try:
        ends = datetime.now(timezone.utc) + timedelta(seconds=1)
        agreement = share(admin, valid_to=ends.isoformat())
        assert read(south, person).status_code == 200
        time.sleep(max(0.0, (ends - datetime.now(timezone.utc)).total_seconds()) + 0.05)
        assert admin.get(f"/api/v1/sharing/agreements/{agreement['id']}").get_json()["status"] == "expired"
        assert read(south, person).status_code == 404
    finally:
        if agreement is not None:
            for table in ("sharing_grant", "sharing_agreement_event"):
                superuser.execute(f"DELETE FROM {table} WHERE agreement_id = %s", (agreement["id"],))
            superuser.execute("DELETE FROM sharing_agreement WHERE id = %s", (agreement["id"],))
        superuser.execute("DELETE FROM sharing_access WHERE user_id = %s", (user,))
        superuser.execute("DELETE FROM audit_event WHERE user_id = %s", (user,))
        superuser.execute("DELETE FROM person WHERE id = %s", (person["id"],))


@pytest.mark.parametrize("valid_to", [timedelta(seconds=-1), timedelta(days=-400)])
def test_an_agreement_cannot_be_proposed_already_ended(north_admin, valid_to):
    body = {"consumer_force": "southshire", "record_types": ["person"], "max_classification": "OFFICIAL",
            "purpose": "Cross-border missing persons", "lawful_basis": "DPA 2018 s.35",
            "valid_to": (datetime.now(timezone.utc) + valid_to).isoformat()}
    response = north_admin.post("/api/v1/sharing/agreements", json=body)
    assert response.status_code == 422, response.get_json()
    assert "in the future" in response.get_json()["errors"]["valid_to"][0]


def test_new_terms_cannot_end_in_the_past_nor_before_the_agreement_starts(north_admin):
    starts = datetime.now(timezone.utc) + timedelta(days=30)
    agreement = propose(north_admin, valid_from=starts.isoformat())
    terms = {"record_types": ["person"], "max_classification": "OFFICIAL", "purpose": "Narrower purpose",
             "lawful_basis": "DPA 2018 s.35"}
    url = f"/api/v1/sharing/agreements/{agreement['id']}/terms"
    past = north_admin.put(url, json={**terms, "valid_to": (starts - timedelta(days=60)).isoformat()})
    assert past.status_code == 422 and "in the future" in past.get_json()["errors"]["valid_to"][0]
    early = north_admin.put(url, json={**terms, "valid_to": (starts - timedelta(days=1)).isoformat()})
    assert early.status_code == 422, early.get_json()
    assert "after valid_from" in early.get_json()["errors"]["valid_to"][0]
    fine = north_admin.put(url, json={**terms, "valid_to": (starts + timedelta(days=1)).isoformat()})
    assert fine.status_code == 200 and fine.get_json()["version"] == 2


def test_new_terms_are_a_new_version_that_must_be_approved_again(north, south, north_admin):
    person = north.create_person(surname=unique_name("Terms"))
    agreement = share(north_admin)
    changed = north_admin.put(f"/api/v1/sharing/agreements/{agreement['id']}/terms", json={
        "record_types": ["person"], "max_classification": "OFFICIAL", "purpose": "Narrower purpose",
        "lawful_basis": "DPA 2018 s.35", "field_profile": {"person": {"masked": ["date_of_birth"]}}})
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    assert changed.get_json()["status"] == "proposed"
    assert read(south, person).status_code == 404
    act(north_admin, agreement, "approve")
    assert read(south, person).get_json()["date_of_birth"] is None
    history = north_admin.get(f"/api/v1/sharing/agreements/{agreement['id']}").get_json()["history"]
    assert [(e["version"], e["action"]) for e in history] == [(1, "proposed"), (1, "approve"), (2, "terms_changed"),
                                                              (2, "approve")]


def test_simulate_counts_what_the_consumer_would_gain(north, north_admin):
    before = propose(north_admin, record_types=["person", "object"])
    counts = north_admin.post(f"/api/v1/sharing/agreements/{before['id']}/simulate").get_json()["would_gain"]
    north.create_person(surname=unique_name("Sim"))
    north.create_person(surname=unique_name("Sim"), do_not_share=True)
    after = north_admin.post(f"/api/v1/sharing/agreements/{before['id']}/simulate").get_json()["would_gain"]
    assert after["person"] == counts["person"] + 1 and set(after) == {"person", "object"}


def test_explain_tells_the_owner_who_sees_a_record_and_the_consumer_why(north, south, north_admin):
    person = north.create_person(surname=unique_name("Why"))
    agreement = share(north_admin, field_profile={"person": {"masked": ["pnc_id"]}})
    owner = north.get(f"/api/v1/sharing/explain?record_type=person&record_id={person['id']}").get_json()
    assert owner["you_own_it"] and {(v["force"], v["agreement_id"]) for v in owner["visible_to"]} == {
        ("southshire", agreement["id"])}
    consumer = south.get(f"/api/v1/sharing/explain?record_type=person&record_id={person['id']}",
                         headers=PURPOSE).get_json()
    assert consumer["why_you_see_it"] == [{"agreement_id": agreement["id"], "masked": ["pnc_id"]}]


def test_the_provider_sees_every_access_by_other_forces(north, as_user, north_admin):
    person = north.create_person(surname=unique_name("Log"))
    share(north_admin)
    reader = as_user("southshire", "investigator", user="ss-det-9")
    assert read(reader, person).status_code == 200
    auditor = as_user("northshire", "auditor", user="ns-aud")
    log = auditor.get(f"/api/v1/sharing/access-log?record_id={person['id']}").get_json()
    assert [(e["force"], e["user"], e["purpose"]) for e in log["items"]] == [
        ("southshire", "ss-det-9", PURPOSE["X-Purpose"])]
    assert auditor.get("/api/v1/sharing/access-log?force=southshire&user=nobody").get_json()["items"] == []
    south_auditor = as_user("southshire", "auditor")
    assert south_auditor.get(f"/api/v1/sharing/access-log?record_id={person['id']}").get_json()["items"] == []


def test_collaborations_are_listed(north):
    items = north.get("/api/v1/sharing/collaborations").get_json()["items"]
    assert [(c["slug"], sorted(c["members"])) for c in items] == [
        ("lakes-and-moors", ["lakeshire", "moorshire", "southshire"]),
        ("tri-shire", ["northshire", "southshire", "westshire"])]


def test_without_agreements_nothing_crosses_even_with_a_purpose(north, south):
    person = north.create_person(surname=unique_name("None"))
    assert read(south, person).status_code == 404
    found = south.get("/api/v1/people/search", query_string={"name": person["surname"]}, headers=PURPOSE).get_json()
    assert found["items"] == [] and "notice" not in found


def test_filtering_by_a_masked_field_does_not_reveal_it(north, south, north_admin):
    car = north.post("/api/v1/objects", json={"kind": "vehicle", "vrm": "MK99MSK", "make": "Audi"}).get_json()
    share(north_admin, record_types=["object"], field_profile={"object": {"masked": ["vrm"]}})
    shown = south.get(f"/api/v1/objects/{car['id']}", headers=PURPOSE).get_json()
    assert shown["vrm"] is None and shown["make"] == "Audi"
    assert south.get("/api/v1/objects?vrm=MK99MSK", headers=PURPOSE).get_json()["items"] == []
    assert north.get("/api/v1/objects?vrm=MK99MSK").get_json()["items"][0]["id"] == car["id"]
