"""GET /api/v1/custody/records: by custody number, person, suite, open or closed; paged; shared where agreed."""
from __future__ import annotations

from datetime import datetime

import pytest

from tests.custody.test_records import NOW, H, book, iso

LIST = "/api/v1/custody/records"


def ids(response):
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_records_are_found_by_custody_number_person_suite_and_open_or_closed(sergeant):
    first, second = book(sergeant, arrived=NOW - 3 * H), book(sergeant, arrived=NOW - 2 * H)
    assert ids(sergeant.get(LIST, query_string={"custody_number": first["custody_number"]})) == [first["id"]]
    assert ids(sergeant.get(LIST, query_string={"person_id": second["person_id"]})) == [second["id"]]
    released = sergeant.post(f"{LIST}/{first['id']}/release", headers={"If-Match": '"1"'},
                             json={"released_at": iso(NOW - H), "outcome": "no_further_action"})
    assert released.status_code == 200
    open_now = ids(sergeant.get(LIST, query_string={"suite": "NTH", "status": "open", "page_size": 100}))
    closed = ids(sergeant.get(LIST, query_string={"suite": "NTH", "status": "closed", "page_size": 100}))
    assert second["id"] in open_now and first["id"] not in open_now
    assert first["id"] in closed and second["id"] not in closed
    assert ids(sergeant.get(LIST, query_string={"suite": "STH"})) == []


def test_the_list_is_paged_newest_arrival_first(sergeant):
    book(sergeant, arrived=NOW - 5 * H), book(sergeant, arrived=NOW - 4 * H)
    first = sergeant.get(LIST, query_string={"suite": "NTH", "page_size": 1, "page": 1}).get_json()
    second = sergeant.get(LIST, query_string={"suite": "NTH", "page_size": 1, "page": 2}).get_json()
    assert first["page"] == 1 and first["page_size"] == 1 and first["total"] >= 2 and len(first["items"]) == 1
    assert second["total"] == first["total"] and second["items"][0]["id"] != first["items"][0]["id"]
    assert datetime.fromisoformat(first["items"][0]["arrived_at"]) >= datetime.fromisoformat(
        second["items"][0]["arrived_at"])


@pytest.mark.parametrize("query, field", [({"status": "ajar"}, "status"), ({"page": 0}, "page"),
                                          ({"person_id": "nobody"}, "person_id"), ({"page_size": 1000}, "page_size"),
                                          ({"colour": "blue"}, "colour")])
def test_bad_queries_are_refused_naming_the_field(sergeant, query, field):
    response = sergeant.get(LIST, query_string=query)
    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()


def test_another_forces_records_appear_only_where_an_agreement_shares_them(sergeant, as_user):
    record = book(sergeant, arrived=NOW - 2 * H)
    south = as_user("southshire", "custody_officer", user="ss-ps-1")
    purpose = {"X-Purpose": "transfer planning"}
    number = {"custody_number": record["custody_number"]}
    assert ids(south.get(LIST, query_string=number, headers=purpose)) == []
    admin = as_user("northshire", "force_admin", user="ns-admin")
    agreement = admin.post("/api/v1/sharing/agreements", json={
        "consumer_force": "southshire", "record_types": ["custody"], "max_classification": "OFFICIAL",
        "purpose": "detainee welfare across the border", "lawful_basis": "DPA 2018 s.35",
        "field_profile": {"custody": {"masked": ["offences"]}}}).get_json()
    assert admin.post(f"/api/v1/sharing/agreements/{agreement['id']}/approve",
                      json={"reason": "agreed"}).status_code == 200
    assert ids(south.get(LIST, query_string=number)) == []  # no purpose stated: nothing crosses
    shared = south.get(LIST, query_string=number, headers=purpose).get_json()["items"]
    assert [s["id"] for s in shared] == [record["id"]]
    assert shared[0]["force"] == "northshire" and shared[0]["offences"] == [] and shared[0]["shared"]["read_only"]
    auditor = as_user("northshire", "auditor", user="ns-aud")
    log = auditor.get("/api/v1/sharing/access-log", query_string={"record_id": record["id"]}).get_json()["items"]
    assert [(a["force"], a["record_type"], a["purpose"]) for a in log] == [("southshire", "custody",
                                                                           "transfer planning")]
