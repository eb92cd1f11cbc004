"""Each record's PIRM group and review date follow its facts; the review queue; review decisions; two-person
disposal lists frozen once approved; another force's ids answer 404."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from app.db import record_class
from app.retention.policy import REVIEWED_TYPES
from tests.investigations.test_records import move, record, to_investigation
from tests.retention.conftest import as_force, dispose_decision, propose

WHEN = "2026-03-01T10:00:00Z"


def _stored(services, table: str, record_id: str) -> tuple[int, date]:
    row = as_force(services, "northshire").execute(
        text(f"SELECT retention_group, review_on FROM {table} WHERE id = :id"), {"id": record_id}).one()
    return row.retention_group, row.review_on


def _investigation(north, code: str) -> dict:
    response = north.post("/api/v1/investigations", json={"primary_classification": code, "occurred_at": WHEN,
                                                           "summary": "retention test"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _in_years(years: int, start: date | None = None) -> date:
    start = start or date.today()
    return start.replace(year=start.year + years)


def test_the_group_and_review_date_follow_the_offence_the_outcome_and_the_markers(services, north):
    rape, theft = _investigation(north, "19/5"), _investigation(north, "46/1")
    assert _stored(services, "investigation", rape["id"]) == (1, _in_years(10))
    assert _stored(services, "investigation", theft["id"]) == (3, _in_years(6))

    person = north.create_person()
    assert _stored(services, "person", person["id"]) == (3, _in_years(6))
    marked = north.patch(f"/api/v1/people/{person['id']}", headers={"If-Match": '"1"'}, json={
        "warning_markers": [{"code": "VI", "from_date": "2026-01-05"}]})
    assert marked.status_code == 200, marked.get_json()
    assert _stored(services, "person", person["id"]) == (2, _in_years(10, max(date(2026, 1, 5), date.today())))


def test_an_undetected_outcome_puts_an_other_offence_in_group_4(services, north, as_user):
    theft = record(north)
    finalised = move(north, theft, "finalise", to_investigation(north, as_user, theft), outcome_type=18)
    assert finalised.status_code == 200, finalised.get_json()
    assert _stored(services, "investigation", theft["id"]) == (4, _in_years(6))


def test_the_review_queue_lists_due_and_overdue_records_by_group_of_this_force_only(services, north, south,
                                                                                     reviewer, as_user):
    due, later = north.create_person(), north.create_person()
    southern = south.create_person()
    conn = as_force(services, "northshire")
    conn.execute(text("UPDATE person SET review_on = current_date - 3 WHERE id = :id"), {"id": due["id"]})
    as_force(services, "southshire").execute(text("UPDATE person SET review_on = current_date - 3 WHERE id = :id"),
                                             {"id": southern["id"]})

    listed = reviewer.get("/api/v1/retention/reviews?group=3&page_size=100")

    assert listed.status_code == 200, listed.get_json()
    items = {i["record_id"]: i for i in listed.get_json()["items"]}
    assert items[due["id"]]["overdue"] is True and items[due["id"]]["retention_group"] == 3
    assert later["id"] not in items and southern["id"] not in items
    assert reviewer.get("/api/v1/retention/reviews?group=1").get_json()["items"] == [] or all(
        i["retention_group"] == 1 for i in reviewer.get("/api/v1/retention/reviews?group=1").get_json()["items"])
    assert north.get("/api/v1/retention/reviews").status_code == 403
    assert reviewer.get("/api/v1/retention/reviews?group=5").status_code == 422


def test_a_decision_to_retain_names_the_criteria_and_moves_the_next_review(services, north, reviewer):
    person = north.create_person()
    body = {"record_type": "person", "record_id": person["id"], "decision": "retain",
            "rationale": "Continuing concerns for a child in the household"}
    refused = reviewer.post("/api/v1/retention/reviews", json=body)
    assert refused.status_code == 422 and "criteria" in refused.get_json()["errors"]
    no_date = reviewer.post("/api/v1/retention/reviews", json={**body, "criteria": ["children_or_vulnerable"]})
    assert no_date.status_code == 422 and "next_review_on" in no_date.get_json()["errors"]
    unknown = reviewer.post("/api/v1/retention/reviews", json={**body, "criteria": ["hunch"]})
    assert unknown.status_code == 422

    next_review = _in_years(12)
    kept = reviewer.post("/api/v1/retention/reviews", json={**body, "criteria": ["children_or_vulnerable"],
                                                            "next_review_on": next_review.isoformat()})

    assert kept.status_code == 201, kept.get_json()
    assert kept.get_json()["decided_by"] == "rr-1" and kept.get_json()["policy_version"] == "national-pirm-2023"
    assert _stored(services, "person", person["id"]) == (3, next_review)


def test_group_1_is_kept_until_the_subject_is_deemed_100_and_an_open_investigation_is_not_disposed_of(
        north, reviewer):
    rape, theft = _investigation(north, "19/5"), _investigation(north, "46/1")
    refused = reviewer.post("/api/v1/retention/reviews", json={
        "record_type": "investigation", "record_id": rape["id"], "decision": "dispose", "rationale": "x"})
    assert refused.status_code == 409 and "deemed 100 years old" in refused.get_json()["message"]
    open_one = reviewer.post("/api/v1/retention/reviews", json={
        "record_type": "investigation", "record_id": theft["id"], "decision": "dispose", "rationale": "x"})
    assert open_one.status_code == 409 and "only once finalised" in open_one.get_json()["message"]


def test_the_proposer_cannot_approve_their_own_list_and_approval_needs_the_permission(north, reviewer, as_user):
    person = north.create_person()
    dispose_decision(reviewer, "person", person["id"])
    listed = propose(reviewer, ("person", person["id"])).get_json()
    both = as_user("northshire", "disposal_approver", user="rr-1")  # the proposer, holding the approver role too

    own = both.post(f"/api/v1/retention/disposal-lists/{listed['id']}/approval",
                    json={"items_hash": listed["items_hash"]})
    assert own.status_code == 409 and "who proposed a disposal list cannot approve" in own.get_json()["message"]
    assert reviewer.post(f"/api/v1/retention/disposal-lists/{listed['id']}/approval",
                         json={"items_hash": listed["items_hash"]}).status_code == 403
    assert reviewer.post(f"/api/v1/retention/disposal-lists/{listed['id']}/execution").status_code == 409


def test_a_list_cannot_change_after_approval(services, north, reviewer, approver):
    first, second = north.create_person(), north.create_person()
    for person in (first, second):
        dispose_decision(reviewer, "person", person["id"])
    listed = propose(reviewer, ("person", first["id"])).get_json()
    stale = approver.post(f"/api/v1/retention/disposal-lists/{listed['id']}/approval", json={"items_hash": "0" * 64})
    assert stale.status_code == 409 and "items_hash" in stale.get_json()["message"]
    approved = approver.post(f"/api/v1/retention/disposal-lists/{listed['id']}/approval",
                             json={"items_hash": listed["items_hash"]})
    assert approved.status_code == 200 and approved.get_json()["approved_by"] == "da-1"
    conn = as_force(services, "northshire")
    conn.execute(text("SAVEPOINT adding"))
    with pytest.raises(Exception, match="row-level security"):
        conn.execute(text("INSERT INTO disposal_item (tenant_id, list_id, record_type, record_id, retention_group, "
                          "review_id) VALUES (app_current_tenant(), :list, 'person', :id, 3, :id)"),
                     {"list": listed["id"], "id": second["id"]})
    conn.execute(text("ROLLBACK TO SAVEPOINT adding"))
    with pytest.raises(Exception, match="permission denied"):
        conn.execute(text("UPDATE disposal_item SET record_id = :id WHERE list_id = :list"),
                     {"list": listed["id"], "id": second["id"]})
    conn.execute(text("ROLLBACK TO SAVEPOINT adding"))

    again = approver.post(f"/api/v1/retention/disposal-lists/{listed['id']}/approval",
                          json={"items_hash": listed["items_hash"]})
    assert again.status_code == 409
    body = reviewer.post(f"/api/v1/retention/disposal-lists/{listed['id']}/execution").get_json()
    assert [o["record_id"] for o in body["outcomes"]] == [first["id"]]
    assert north.get(f"/api/v1/people/{second['id']}").status_code == 200


def test_a_record_needs_a_decision_to_dispose_before_it_joins_a_list(north, reviewer):
    person = north.create_person()
    refused = propose(reviewer, ("person", person["id"]))
    assert refused.status_code == 422 and "items.0" in refused.get_json()["errors"]
    twice = propose(reviewer, ("person", person["id"]), ("person", person["id"]))
    assert twice.status_code == 422 and "items" in twice.get_json()["errors"]


def test_another_forces_records_reviews_and_lists_answer_404(north, reviewer, as_user):
    person = north.create_person()
    dispose_decision(reviewer, "person", person["id"])
    listed = propose(reviewer, ("person", person["id"])).get_json()
    south_reviewer = as_user("southshire", "retention_reviewer", user="rr-9")
    south_approver = as_user("southshire", "disposal_approver", user="da-9")

    assert south_reviewer.get(f"/api/v1/retention/disposal-lists/{listed['id']}").status_code == 404
    assert south_approver.post(f"/api/v1/retention/disposal-lists/{listed['id']}/approval",
                               json={"items_hash": listed["items_hash"]}).status_code == 404
    assert south_reviewer.post(f"/api/v1/retention/disposal-lists/{listed['id']}/execution").status_code == 404
    assert south_reviewer.post("/api/v1/retention/reviews", json={
        "record_type": "person", "record_id": person["id"], "decision": "dispose",
        "rationale": "not ours"}).status_code == 404
    foreign = propose(south_reviewer, ("person", person["id"]))
    assert foreign.status_code == 404 and "items.0" in foreign.get_json()["errors"]
    assert person["id"] not in str(south_reviewer.get("/api/v1/retention/reviews?page_size=100").get_json())
    assert reviewer.get(f"/api/v1/retention/disposal-lists/{uuid.uuid4()}").status_code == 404


def test_every_record_table_carries_retention_and_hides_restricted_rows(services):
    conn = as_force(services, "northshire")
    for record_type in {*REVIEWED_TYPES, "link", "case"}:
        table = record_class(record_type).__tablename__
        columns = {r[0] for r in conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = :t"), {"t": table})}
        assert {"retention_group", "review_on", "retained_to", "restricted"} <= columns, table
        policy = conn.execute(text("SELECT permissive FROM pg_policies WHERE tablename = :t AND policyname = :p"),
                              {"t": table, "p": f"{table}_restricted"}).scalar_one_or_none()
        assert policy == "RESTRICTIVE", table
    from app.db import record_types
    assert set(record_types()) == {*REVIEWED_TYPES, "link", "case"}, "a new record type: add it to migration 0016"


def test_queue_dates_are_review_dates_in_the_past_or_today(services, north, reviewer):
    person = north.create_person()
    as_force(services, "northshire").execute(text("UPDATE person SET review_on = current_date WHERE id = :id"),
                                             {"id": person["id"]})
    items = {i["record_id"]: i for i in reviewer.get("/api/v1/retention/reviews?page_size=100").get_json()["items"]}
    assert items[person["id"]]["overdue"] is False
    assert date.fromisoformat(items[person["id"]]["review_on"]) <= date.today() + timedelta(days=1)
