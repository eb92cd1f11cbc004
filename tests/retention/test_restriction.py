"""Restriction instead of erasure (DPA 2018 s.47(2)): a restricted record exists only for the restricted-access
role, whichever way it is reached, and every read of it is audited."""
from __future__ import annotations

from sqlalchemy import text

from tests.factories import attach, location
from tests.retention.conftest import dispose_decision


def _restrict(api, record_type: str, record_id: str, restricted: bool = True):
    return api.put(f"/api/v1/retention/restrictions/{record_type}/{record_id}", json={"restricted": restricted})


def test_a_restricted_person_answers_404_to_an_investigator_and_is_visible_to_restricted_access(
        services, north, as_user, reviewer):
    holder = as_user("northshire", "restricted_access", user="dpo-1")
    person = north.create_person()
    attach(north, "person", person["id"])
    assert _restrict(reviewer, "person", person["id"]).status_code == 403
    restricted = _restrict(holder, "person", person["id"])
    assert restricted.status_code == 200, restricted.get_json()
    assert restricted.get_json() == {"record_type": "person", "id": person["id"], "restricted": True}

    assert north.get(f"/api/v1/people/{person['id']}").status_code == 404
    found = north.get(f"/api/v1/people?surname={person['surname']}").get_json()
    assert person["id"] not in str(found)
    assert reviewer.post("/api/v1/retention/reviews", json={
        "record_type": "person", "record_id": person["id"], "decision": "dispose",
        "rationale": "x"}).status_code == 404
    seen = holder.get(f"/api/v1/people/{person['id']}")
    assert seen.status_code == 200 and seen.get_json()["surname"] == person["surname"]
    audit = as_user("northshire", "auditor", user="aud-1").get(f"/api/v1/audit?record_id={person['id']}")
    actions = [(e["action"], e["user"]) for e in audit.get_json()["items"]]
    assert ("consultation", "dpo-1") in actions and ("alteration", "dpo-1") in actions

    assert _restrict(holder, "person", person["id"], False).status_code == 200
    assert north.get(f"/api/v1/people/{person['id']}").status_code == 200


def test_restriction_is_enforced_by_the_database_not_the_routes(services, north, as_user):
    holder = as_user("northshire", "restricted_access", user="dpo-1")
    person = north.create_person()
    _restrict(holder, "person", person["id"])
    conn = services.databases.overrides["pool"]
    tenant = services.registry.by_slug("northshire")
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true), set_config('app.restricted_access', '', true)"),
                 {"t": str(tenant.id)})
    assert conn.execute(text("SELECT count(*) FROM person WHERE id = :id"), {"id": person["id"]}).scalar_one() == 0
    conn.execute(text("SELECT set_config('app.restricted_access', 'on', true)"))
    assert conn.execute(text("SELECT count(*) FROM person WHERE id = :id"), {"id": person["id"]}).scalar_one() == 1


def test_a_restricted_record_is_not_disposed_of(north, as_user, reviewer):
    holder = as_user("northshire", "restricted_access", user="dpo-1")
    person = north.create_person()
    dispose_decision(reviewer, "person", person["id"])
    _restrict(holder, "person", person["id"])
    listed = reviewer.post("/api/v1/retention/disposal-lists",
                           json={"items": [{"record_type": "person", "record_id": person["id"]}]})
    assert listed.status_code == 201  # the decision stands; execution checks the record again
    approver = as_user("northshire", "disposal_approver", user="da-1")
    approver.post(f"/api/v1/retention/disposal-lists/{listed.get_json()['id']}/approval",
                  json={"items_hash": listed.get_json()["items_hash"]})
    body = reviewer.post(f"/api/v1/retention/disposal-lists/{listed.get_json()['id']}/execution").get_json()
    assert body["outcomes"][0]["disposed"] is False
    assert holder.get(f"/api/v1/people/{person['id']}").status_code == 200


def test_another_forces_record_cannot_be_restricted(north, as_user):
    person = north.create_person()
    south_holder = as_user("southshire", "restricted_access", user="dpo-9")
    assert _restrict(south_holder, "person", person["id"]).status_code == 404


def test_a_restricted_records_documents_and_links_are_hidden_with_it(services, north, as_user):
    holder = as_user("northshire", "restricted_access", user="dpo-1")
    person = north.create_person()
    home = location(services, "northshire")
    link = north.post("/api/v1/links", json={"from": {"type": "person", "id": person["id"]},
                                            "to": {"type": "location", "id": str(home.id)}, "link_type": "resides_at"})
    document = attach(north, "person", person["id"])
    _restrict(holder, "person", person["id"])

    network = f"/api/v1/network?entity_type=location&entity_id={home.id}&hops=1"
    assert north.get(f"/api/v1/documents/{document['id']}/content").status_code == 404
    walked = north.get(network)
    assert walked.status_code == 200 and person["id"] not in str(walked.get_json())
    assert north.get(f"/api/v1/links/{link.get_json()['id']}").status_code == 404
    assert holder.get(f"/api/v1/documents/{document['id']}/content").status_code == 200
    assert person["id"] in str(holder.get(network).get_json())
