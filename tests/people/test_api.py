"""People end to end through the API: create, read, list, update; ETags, idempotency, errors, isolation."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from tests.conftest import unique


def test_create_then_read(north):
    created = north.create_person(surname="O'Brien", forenames="Siobhan", pnc_id="98/12345j",
                                  other_names=[{"kind": "maiden_name", "surname": "Kelly"}])
    assert created["version"] == 1 and created["force"] == "northshire"
    assert created["pnc_id"] == "98/0012345J"  # normalised
    response = north.get(f"/api/v1/people/{created['id']}")
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    body = response.get_json()
    assert body["surname"] == "O'Brien" and body["other_names"][0]["surname"] == "Kelly"


def test_create_answers_201_with_location_and_etag(north):
    response = north.post("/api/v1/people", json={"surname": "Lee", "forenames": "Ann", "sex": "female"})
    assert response.status_code == 201
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"].endswith(f"/api/v1/people/{response.get_json()['id']}")


def test_list_is_exact_paginated_and_counts_the_total(north):
    surname = unique("List")
    for forenames in ("Amy", "Beth", "Cara"):
        north.create_person(surname=surname, forenames=forenames)
    page = north.get(f"/api/v1/people?surname={surname.lower()}&page_size=2").get_json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert [p["forenames"] for p in page["items"]] == ["Amy", "Beth"]
    page2 = north.get(f"/api/v1/people?surname={surname}&page_size=2&page=2").get_json()
    assert [p["forenames"] for p in page2["items"]] == ["Cara"]
    only = north.get(f"/api/v1/people?surname={surname}&forenames=beth&date_of_birth=1990-01-01").get_json()
    assert only["total"] == 1


def test_another_forces_person_is_404_and_never_listed(north, south):
    surname = unique("Foreign")
    theirs = south.create_person(surname=surname)
    response = north.get(f"/api/v1/people/{theirs['id']}")
    assert response.status_code == 404
    assert north.get(f"/api/v1/people/{uuid.uuid4()}").get_json()["message"] == response.get_json()["message"]
    assert north.get(f"/api/v1/people?surname={surname}").get_json()["total"] == 0
    patch = north.patch(f"/api/v1/people/{theirs['id']}", json={"forenames": "X"}, headers={"If-Match": '"1"'})
    assert patch.status_code == 404
    assert south.get(f"/api/v1/people/{theirs['id']}").get_json()["forenames"] == "Jane"


def test_update_needs_if_match(north):
    person = north.create_person()
    url = f"/api/v1/people/{person['id']}"
    missing = north.patch(url, json={"forenames": "Janet"})
    assert missing.status_code == 428
    stale = north.patch(url, json={"forenames": "Janet"}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    ok = north.patch(url, json={"forenames": "Janet"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    assert ok.get_json()["forenames"] == "Janet" and ok.get_json()["version"] == 2
    again = north.patch(url, json={"forenames": "Joan"}, headers={"If-Match": '"1"'})
    assert again.status_code == 412
    assert north.get(url).get_json()["forenames"] == "Janet"


def test_update_can_clear_an_optional_field(north):
    person = north.create_person(pnc_id="98/0012345J")
    response = north.patch(f"/api/v1/people/{person['id']}", json={"pnc_id": None}, headers={"If-Match": '"1"'})
    assert response.status_code == 200 and response.get_json()["pnc_id"] is None


def test_idempotency_key_replays_the_first_response(north):
    headers = {"Idempotency-Key": unique("key")}
    body = {"surname": unique("Idem"), "forenames": "Once", "sex": "male"}
    first = north.post("/api/v1/people", json=body, headers=headers)
    second = north.post("/api/v1/people", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert north.get(f"/api/v1/people?surname={body['surname']}").get_json()["total"] == 1


def test_idempotency_key_with_another_body_is_refused(north):
    headers = {"Idempotency-Key": unique("key")}
    north.post("/api/v1/people", json={"surname": unique(), "forenames": "A", "sex": "male"}, headers=headers)
    response = north.post("/api/v1/people", json={"surname": unique(), "forenames": "B", "sex": "male"},
                          headers=headers)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["errors"]


def test_an_idempotency_key_older_than_a_day_is_a_new_key(north, services):
    headers = {"Idempotency-Key": unique("key")}
    north.post("/api/v1/people", json={"surname": unique(), "forenames": "A", "sex": "male"}, headers=headers)
    pool = services.databases.overrides["pool"]
    pool.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                 {"t": str(services.registry.by_slug("northshire").id)})
    pool.execute(text("UPDATE idempotency_key SET created_at = now() - interval '25 hours' WHERE key = :k"),
                 {"k": headers["Idempotency-Key"]})
    again = north.post("/api/v1/people", json={"surname": unique(), "forenames": "B", "sex": "male"}, headers=headers)
    assert again.status_code == 201, again.get_json()  # not refused as "used for a different request"
    assert "Idempotent-Replayed" not in again.headers


def test_idempotency_keys_are_scoped_to_force_and_user(as_user):
    key = {"Idempotency-Key": unique("shared")}
    surname = unique("Scoped")
    body = {"surname": surname, "forenames": "A", "sex": "male"}
    a = as_user("northshire", "investigator", user="pc-1").post("/api/v1/people", json=body, headers=key)
    b = as_user("northshire", "investigator", user="pc-2").post("/api/v1/people", json=body, headers=key)
    c = as_user("southshire", "investigator", user="pc-1").post("/api/v1/people", json=body, headers=key)
    assert len({a.get_json()["id"], b.get_json()["id"], c.get_json()["id"]}) == 3
    assert "Idempotent-Replayed" not in b.headers and "Idempotent-Replayed" not in c.headers


def test_a_failed_create_does_not_burn_the_idempotency_key(north):
    key = {"Idempotency-Key": unique("retry")}
    bad = north.post("/api/v1/people", json={"surname": "X", "forenames": "Y"}, headers=key)
    assert bad.status_code == 422
    good = north.post("/api/v1/people", json={"surname": "X", "forenames": "Y", "sex": "male"}, headers=key)
    assert good.status_code == 201


@pytest.mark.parametrize(
    "body, field, reason",
    [
        ({"forenames": "A", "sex": "male"}, "surname", "Missing data"),
        ({"surname": " ", "forenames": "A", "sex": "male"}, "surname", "letter"),
        ({"surname": "A", "forenames": "B", "sex": "x"}, "sex", "Must be one of"),
        ({"surname": "A", "forenames": "B", "sex": "male", "tenant_id": str(uuid.uuid4())},
         "tenant_id", "Unknown field"),
        ({"surname": "A", "forenames": "B", "sex": "male", "pnc_id": "98/0012345A"}, "pnc_id", "expected J"),
        ({"surname": "A", "forenames": "B", "sex": "male", "pnc_id": "1998/1"}, "pnc_id", "YY/NNNNNNND"),
        ({"surname": "A", "forenames": "B", "sex": "male", "date_of_birth": "2999-01-01"}, "date_of_birth", "future"),
        ({"surname": "A", "forenames": "B", "sex": "male", "date_of_birth": "31/01/1990"},
         "date_of_birth", "must be a date"),
        ({"surname": "A", "forenames": "B", "sex": "male", "classification": "SECRET"}, "classification", "SECRET"),
        ({"surname": "A" * 101, "forenames": "B", "sex": "male"}, "surname", "Length"),
        ({"surname": "A", "forenames": "B", "sex": "male", "other_names": [{"kind": "x", "surname": "Y"}]},
         "other_names", "Must be one of"),
    ],
)
def test_bad_input_is_422_naming_the_field(north, body, field, reason):
    response = north.post("/api/v1/people", json=body)
    assert response.status_code == 422
    error = response.get_json()
    assert field in error["errors"], error
    assert reason.lower() in str(error["errors"][field]).lower(), error


def test_malformed_json_is_400(north):
    response = north.post("/api/v1/people", data=b'{"surname": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["code"] == 400


def test_bad_query_parameters_are_422(north):
    response = north.get("/api/v1/people?page_size=1000&date_of_birth=yesterday")
    assert response.status_code == 422
    assert {"page_size", "date_of_birth"} <= set(response.get_json()["errors"])


def test_a_duplicate_pnc_id_in_the_same_force_is_409_but_another_force_may_hold_it(north, south):
    north.create_person(pnc_id="01/0000001Q")
    clash = north.post("/api/v1/people", json={"surname": "B", "forenames": "C", "sex": "male", "pnc_id": "01/1Q"})
    assert clash.status_code == 409 and "pnc_id" in clash.get_json()["errors"]
    assert south.post("/api/v1/people", json={"surname": "B", "forenames": "C", "sex": "male",
                                              "pnc_id": "01/0000001Q"}).status_code == 201


def test_patch_refuses_unknown_fields_and_keeps_the_record(north):
    person = north.create_person()
    response = north.patch(f"/api/v1/people/{person['id']}", json={"tenant_id": str(uuid.uuid4())},
                           headers={"If-Match": '"1"'})
    assert response.status_code == 422
    assert north.get(f"/api/v1/people/{person['id']}").headers["ETag"] == '"1"'


def test_unknown_path_and_bad_id_are_404_in_the_one_error_shape(north):
    for path in ("/api/v1/people/not-a-uuid", "/api/v1/nothing-here"):
        response = north.get(path)
        assert response.status_code == 404
        assert set(response.get_json()) >= {"code", "status", "message", "request_id"}


def test_changing_a_pnc_id_to_one_already_held_is_409_and_changes_nothing(north):
    north.create_person(pnc_id="03/0000003Y")
    other = north.create_person()
    url = f"/api/v1/people/{other['id']}"
    response = north.patch(url, json={"pnc_id": "03/3Y", "forenames": "Changed"}, headers={"If-Match": '"1"'})
    assert response.status_code == 409 and "pnc_id" in response.get_json()["errors"]
    after = north.get(url).get_json()
    assert after["forenames"] == "Jane" and after["pnc_id"] is None and after["version"] == 1
