"""Audit: every create, read and update writes an event in the same transaction; append-only; own force only."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import unique


def _events(api, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api.get(f"/api/v1/audit?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_create_read_update_each_write_an_event_with_request_id_and_purpose(as_user):
    officer = as_user("northshire", "investigator", user="pc-audit")
    auditor = as_user("northshire", "auditor", user="aud-1")
    person = officer.post("/api/v1/people", json={"surname": unique(), "forenames": "A", "sex": "male"},
                          headers={"X-Request-Id": "req-create-1"}).get_json()
    officer.get(f"/api/v1/people/{person['id']}", headers={"X-Purpose": "Incident 123/25: locate suspect"})
    officer.patch(f"/api/v1/people/{person['id']}", json={"forenames": "B"}, headers={"If-Match": '"1"'})
    events = _events(auditor, record_id=person["id"])
    assert events["total"] == 3
    by_action = {e["action"]: e for e in events["items"]}
    assert set(by_action) == {"collection", "consultation", "alteration"}
    assert by_action["collection"]["request_id"] == "req-create-1"
    assert by_action["consultation"]["purpose"] == "Incident 123/25: locate suspect"
    assert by_action["alteration"]["details"] == {"fields": ["forenames"]}
    assert all(e["user"] == "pc-audit" and e["record_type"] == "person" for e in events["items"])


def test_listing_people_audits_each_record_consulted(as_user):
    officer = as_user("northshire", "investigator", user="pc-list")
    surname = unique("Listed")
    ids = {officer.create_person(surname=surname, forenames=f) ["id"] for f in ("A", "B")}
    officer.get(f"/api/v1/people?surname={surname}")
    auditor = as_user("northshire", "auditor")
    consulted = [e for e in _events(auditor, user="pc-list")["items"] if e["action"] == "consultation"]
    assert {e["record_id"] for e in consulted} == ids


def test_a_refused_create_leaves_no_record_and_records_only_what_it_disclosed(as_user):
    officer = as_user("northshire", "investigator", user="pc-refused")
    existing = officer.create_person(pnc_id="02/0000002G")
    before = _events(as_user("northshire", "auditor"), user="pc-refused")["total"]
    clash = officer.post("/api/v1/people", json={"surname": "Z", "forenames": "Z", "sex": "male", "pnc_id": "02/2G"})
    assert clash.status_code == 409
    after = _events(as_user("northshire", "auditor"), user="pc-refused")
    assert after["total"] == before + 1  # no collection: the candidate the 409 showed was consulted
    assert [(e["action"], e["record_id"], e["details"]) for e in after["items"][:1]] == [
        ("consultation", existing["id"], {"via": "people.People"})]


def test_auditors_see_their_own_force_only(as_user):
    south = as_user("southshire", "investigator", user="pc-south")
    person = south.create_person()
    north_auditor = as_user("northshire", "auditor")
    assert _events(north_auditor, record_id=person["id"])["total"] == 0
    assert _events(north_auditor, user="pc-south")["total"] == 0
    assert _events(as_user("southshire", "auditor"), record_id=person["id"])["total"] == 1


def test_time_window_filters(as_user):
    officer = as_user("northshire", "investigator", user="pc-window")
    officer.create_person()
    auditor = as_user("northshire", "auditor")
    assert _events(auditor, user="pc-window", **{"from": "2000-01-01T00:00:00Z"})["total"] == 1
    assert _events(auditor, user="pc-window", to="2000-01-01T00:00:00Z")["total"] == 0
    bad = auditor.get("/api/v1/audit?from=yesterday")
    assert bad.status_code == 422 and "from" in bad.get_json()["errors"]


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET user_id = 'x'", "DELETE FROM audit_event"])
def test_the_runtime_role_can_never_update_or_delete_audit_events(services, north, statement):
    north.create_person()
    conn = services.databases.overrides["pool"]
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                 {"t": str(services.registry.by_slug("northshire").id)})
    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError, match="permission denied"):
        conn.execute(text(statement))
    savepoint.rollback()


def _refusals(api, **params):
    return [e for e in _events(api, **params)["items"] if e["action"] == "refusal"]


def test_a_404_for_another_forces_id_leaves_a_refusal_in_the_askers_trail(as_user):
    theirs = as_user("southshire", "investigator", user="pc-owner").create_person()
    asker = as_user("northshire", "investigator", user="pc-curious")
    response = asker.get(f"/api/v1/people/{theirs['id']}", headers={"X-Purpose": "Incident 9/25"})
    assert response.status_code == 404 and response.get_json()["code"] == 404
    [refusal] = _refusals(as_user("northshire", "auditor"), record_id=theirs["id"])
    assert refusal["user"] == "pc-curious" and refusal["purpose"] == "Incident 9/25"
    assert refusal["details"] == {
        "outcome": "refused", "status": 404, "method": "GET", "endpoint": "people.Person",
        "route": "/api/v1/people/<uuid:person_id>", "ids": {"person_id": theirs["id"]}}
    # The trace is the asker's: the owning force's trail holds only its own collection of the record.
    owners = _events(as_user("southshire", "auditor"), record_id=theirs["id"])["items"]
    assert [e["action"] for e in owners] == ["collection"]


def test_a_403_for_a_missing_permission_leaves_a_refusal(as_user):
    officer = as_user("northshire", "officer", user="pc-no-admin")
    assert officer.post("/api/v1/sharing/agreements", json={}).status_code == 403
    [refusal] = _refusals(as_user("northshire", "auditor"), user="pc-no-admin")
    assert refusal["record_id"] == ""  # no id in the URL
    assert refusal["details"]["status"] == 403 and refusal["details"]["method"] == "POST"
    assert refusal["details"]["endpoint"] == "sharing.Agreements" and refusal["details"]["ids"] == {}


def test_a_refused_write_keeps_its_refusal_but_none_of_its_rows(as_user, services):
    from tests.custody.test_records import NOW, book, iso

    sergeant = as_user("northshire", "custody_officer", user="ps-refused")
    record = book(sergeant)
    key = unique("key-")
    review = {"kind": "review", "occurred_at": iso(NOW), "data": {"decision": "continue"}}
    refused = sergeant.post(f"/api/v1/custody/records/{record['id']}/entries", json=review,
                            headers={"Idempotency-Key": key})
    assert refused.status_code == 403, refused.get_json()  # a review is an inspector's
    [refusal] = _refusals(as_user("northshire", "auditor"), record_id=record["id"])
    assert refusal["details"]["ids"] == {"record_id": record["id"]} and refusal["details"]["status"] == 403
    conn = services.databases.overrides["pool"]  # the test's connection, as the runtime role under RLS
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                 {"t": str(services.registry.by_slug("northshire").id)})
    claimed = conn.execute(text("SELECT count(*) FROM idempotency_key WHERE key = :k"), {"k": key}).scalar()
    conn.execute(text("SELECT set_config('app.tenant_id', '', true)"))
    assert claimed == 0  # the idempotency claim went with the refused request's transaction


def test_a_refusal_that_cannot_be_written_is_logged_and_the_answer_stays_404(as_user, monkeypatch, caplog):
    from app.audit import service as audit_service

    # An action the audit_event CHECK constraint refuses: a real database error on the refusal's insert.
    monkeypatch.setattr(audit_service, "REFUSAL_ACTION", "not-an-action")
    theirs = as_user("southshire", "investigator").create_person()
    asker = as_user("northshire", "investigator", user="pc-unlogged")
    with caplog.at_level("ERROR", logger="app.audit.service"):
        response = asker.get(f"/api/v1/people/{theirs['id']}")
    assert response.status_code == 404 and response.get_json()["code"] == 404
    assert any("refusal" in r.getMessage() for r in caplog.records)
    assert _refusals(as_user("northshire", "auditor"), user="pc-unlogged") == []



def test_a_dedicated_forces_refusal_goes_to_its_own_database(as_user):
    theirs = as_user("northshire", "investigator").create_person()
    lake = as_user("lakeshire", "investigator", user="pc-lake")
    assert lake.get(f"/api/v1/people/{theirs['id']}").status_code == 404
    [refusal] = _refusals(as_user("lakeshire", "auditor"), record_id=theirs["id"])
    assert refusal["user"] == "pc-lake" and refusal["details"]["status"] == 404
    assert _refusals(as_user("northshire", "auditor"), user="pc-lake") == []
