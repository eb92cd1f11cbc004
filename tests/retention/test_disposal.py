"""A record through review, a disposal list, a second person's approval and execution: nothing of it is left but
its tombstone and its audit events, which are exactly as they were."""
from __future__ import annotations

import uuid

from sqlalchemy import text

from app.documents import service as documents
from app.documents.storage import for_tenant
from app.retention import disposal, service
from tests.conftest import unique_name
from tests.factories import acting, attach, location
from tests.retention.conftest import approve, as_force, dispose_decision, naming, propose


def _audit(conn) -> dict[str, dict]:
    """The force's audit rows by id, every column of each."""
    return {str(r[0]["id"]): r[0] for r in conn.execute(text("SELECT to_jsonb(a) FROM audit_event a"))}


def test_a_disposed_person_leaves_no_row_key_link_or_object_only_its_tombstone_and_audit(
        services, north, reviewer, approver):
    alias, ni_number = unique_name("Alias"), f"JK{uuid.uuid4().int % 10**6:06d}C"
    person = north.create_person(other_names=[{"kind": "alias", "surname": alias, "forenames": "Jo"}],
                                 identifiers=[{"kind": "ni_number", "value": ni_number}])
    home = location(services, "northshire")
    link = north.post("/api/v1/links", json={"from": {"type": "person", "id": person["id"]},
                                            "to": {"type": "location", "id": str(home.id)}, "link_type": "resides_at"})
    assert link.status_code == 201, link.get_json()
    content = f"statement of {uuid.uuid4()}".encode()
    on_person = attach(north, "person", person["id"], content)
    on_link = attach(north, "link", link.get_json()["id"], f"link note {uuid.uuid4()}".encode())
    store = for_tenant(services.registry.by_slug("northshire"), services.settings.var_dir)
    keys = {d["storage_key"] if "storage_key" in d else f"sha256/{d['sha256'][:2]}/{d['sha256']}"
            for d in (on_person, on_link)}
    assert all(store.exists(k) for k in keys)
    conn = as_force(services, "northshire")
    assert naming(conn, person["id"]), "the person is stored before disposal"

    review = dispose_decision(reviewer, "person", person["id"])
    proposed = propose(reviewer, ("person", person["id"]))
    assert proposed.status_code == 201, proposed.get_json()
    listed = proposed.get_json()
    approved = approver.post(f"/api/v1/retention/disposal-lists/{listed['id']}/approval",
                             json={"items_hash": listed["items_hash"]})
    assert approved.status_code == 200, approved.get_json()
    conn = as_force(services, "northshire")
    audit_before = _audit(conn)

    executed = reviewer.post(f"/api/v1/retention/disposal-lists/{listed['id']}/execution")

    assert executed.status_code == 200, executed.get_json()
    body = executed.get_json()
    assert body["outcomes"] == [{"record_type": "person", "record_id": person["id"], "disposed": True, "reason": ""}]
    assert body["list"]["status"] == "executed"
    conn = as_force(services, "northshire")
    for value in (person["id"], link.get_json()["id"], on_person["id"], on_link["id"], person["surname"],
                  ni_number, alias):
        assert naming(conn, value) == {}, value
    assert not any(store.exists(k) for k in keys)
    assert north.get(f"/api/v1/people/{person['id']}").status_code == 404
    assert north.get(f"/api/v1/locations/{home.id}").status_code == 200  # the other end stays
    tombstone = conn.execute(text("SELECT record_type, retention_group, decision, review_id, approved_by, disposed_by "
                                  "FROM retention_tombstone WHERE record_id = :id"), {"id": person["id"]}).one()
    assert tuple(tombstone) == ("person", 3, "dispose", uuid.UUID(review["id"]), "da-1", "rr-1")
    audit_after = _audit(conn)
    assert {i: audit_after[i] for i in audit_before} == audit_before  # not one row changed or went
    erasures = [r for i, r in audit_after.items() if i not in audit_before and r["action"] == "erasure"]
    assert [r["record_id"] for r in erasures] == [person["id"]]
    assert not [r for r in audit_after.values() if person["surname"] in str(r) or ni_number in str(r)]


def test_a_disposed_person_is_no_longer_in_a_stored_response_to_replay(services, north, reviewer, approver):
    key = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    body = {"surname": unique_name("Replay"), "forenames": "Once", "sex": "female"}
    person = north.post("/api/v1/people", json=body, headers=key).get_json()
    assert naming(as_force(services, "northshire"), person["id"])["idempotency_key"] == 1  # the response kept
    dispose_decision(reviewer, "person", person["id"])
    listed = propose(reviewer, ("person", person["id"])).get_json()
    approve(approver, listed)
    executed = reviewer.post(f"/api/v1/retention/disposal-lists/{listed['id']}/execution")
    assert executed.get_json()["outcomes"][0]["disposed"], executed.get_json()
    assert naming(as_force(services, "northshire"), person["id"]) == {}
    again = north.post("/api/v1/people", json=body, headers=key)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.get_json()["id"] != person["id"]


def test_a_record_still_referred_to_is_not_disposed_of_and_says_by_what(services, north, reviewer, approver):
    home = location(services, "northshire")
    north.post("/api/v1/events", json={"event_type": "incident", "occurred_at": "2026-01-01T10:00:00Z",
                                       "summary": "at the address", "location_id": str(home.id)})
    dispose_decision(reviewer, "location", str(home.id))
    listed = propose(reviewer, ("location", str(home.id))).get_json()
    approve(approver, listed)

    body = reviewer.post(f"/api/v1/retention/disposal-lists/{listed['id']}/execution").get_json()

    assert body["outcomes"][0]["disposed"] is False and "pole_event" in body["outcomes"][0]["reason"]
    assert body["list"]["status"] == "approved"
    assert north.get(f"/api/v1/locations/{home.id}").status_code == 200


def test_disposal_removes_every_version_of_an_object_no_other_record_references(services, north, reviewer,
                                                                                approver, versioned_s3):
    doomed, kept = north.create_person(), north.create_person()
    shared_content, own_content = f"shared {uuid.uuid4()}".encode(), f"own {uuid.uuid4()}".encode()
    with acting(services, "northshire") as (session, who):
        data = {"record_type": "person", "filename": "s.txt", "media_type": "text/plain", "classification": "OFFICIAL"}
        own = documents.upload(session, who, versioned_s3, {**data, "record_id": doomed["id"]}, own_content)
        documents.upload(session, who, versioned_s3, {**data, "record_id": doomed["id"]}, shared_content)
        shared = documents.upload(session, who, versioned_s3, {**data, "record_id": kept["id"]}, shared_content)
    client, bucket = versioned_s3.client, versioned_s3.bucket
    client.put_object(Bucket=bucket, Key=f"northshire/{own.storage_key}", Body=own_content)  # a second version
    client.delete_object(Bucket=bucket, Key=f"northshire/{own.storage_key}")  # and a delete marker
    client.put_object(Bucket=bucket, Key=f"northshire/{own.storage_key}", Body=own_content)

    dispose_decision(reviewer, "person", doomed["id"])
    listed = propose(reviewer, ("person", doomed["id"])).get_json()
    approve(approver, listed)
    with acting(services, "northshire", "retention_reviewer") as (session, who):
        outcomes = disposal.execute(session, who, versioned_s3, list_id=uuid.UUID(listed["id"]))

    assert [o.disposed for o in outcomes] == [True]
    versions = client.list_object_versions(Bucket=bucket, Prefix=f"northshire/{own.storage_key}")
    assert versions.get("Versions", []) == [] and versions.get("DeleteMarkers", []) == []
    assert versioned_s3.get(shared.storage_key) == shared_content  # still another record's document
    with acting(services, "northshire") as (session, who):
        assert [d.id for d in documents.find(session, who, "person", uuid.UUID(kept["id"]))] == [shared.id]
        with session.begin():
            assert service.latest_review(session, record_type="person", record_id=uuid.UUID(doomed["id"])) is None
