"""A dedicated force's custody records, investigations, intelligence reports, documents and case files read by
another force exactly as if pooled: through the provider's own database and its policies (never copied), masked,
within the ceiling, never code C nor do-not-share, gone the request after revocation, each read in the provider's
access log (in its database) and the lists merging every database's records into the list's one order."""
from __future__ import annotations

import pytest

from app.db import record_class, record_types, shareable_types
from tests.conftest import DEDICATED, unique_name
from tests.custody.test_records import NOW, H, book, entry
from tests.factories import attach
from tests.sharing.test_agreements import PURPOSE, act
from tests.sharing.test_dedicated import share, unreachable
from tests.sharing.test_guards import EVERY_ROLE, walk_get_routes
from tests.test_cases import shoplifting
from tests.test_intelligence import ACCEPT, submit


@pytest.fixture
def lake_admin(as_user):
    return as_user("lakeshire", "force_admin", user="lk-admin")


@pytest.fixture
def sergeant(as_user):
    return as_user("lakeshire", "custody_officer", user="lk-ps")


@pytest.fixture
def north_sergeant(as_user):
    return as_user("northshire", "custody_officer", user="ns-ps")


def get(api, path, **query):
    return api.get(path, query_string=query, headers=PURPOSE)


def listed(api, path, **query):
    response = get(api, path, page_size=100, **query)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def accesses(services, record_id, database):
    """The access-log rows of one record in one database, read as its provider (Lakeshire) would."""
    connection = services.databases.overrides[database]
    connection.exec_driver_sql("SELECT set_config('app.tenant_id', %s, true)",
                               (str(services.registry.by_slug("lakeshire").id),))
    try:
        return connection.exec_driver_sql("SELECT count(*) FROM sharing_access WHERE record_id = %s",
                                          (str(record_id),)).scalar_one()
    finally:
        connection.exec_driver_sql("SELECT set_config('app.tenant_id', '', true)")


def live_report(as_user, slug, **accepted):
    officer, analyst = as_user(slug, "officer", user=f"{slug}-author"), as_user(slug, "intelligence_analyst")
    report = submit(officer, handling_conditions="Only to the drugs unit") if accepted else submit(officer)
    assert analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess",
                        json={**ACCEPT, **accepted}).status_code == 200
    assert analyst.post(f"/api/v1/intelligence/reports/{report['id']}/links", json={"go_live": True}).status_code == 200
    return report


# --- custody -------------------------------------------------------------------------------------------------------

def test_a_dedicated_forces_custody_record_reads_with_its_entries_and_clock(north, lake_admin, sergeant,
                                                                              north_sergeant, services):
    record = book(sergeant, suite="LKS")
    assert entry(sergeant, record, "rights_given", NOW - 19 * H, written_notice=True).status_code == 201
    path = f"/api/v1/custody/records/{record['id']}"
    assert get(north, path).status_code == 404
    agreement = share(lake_admin, consumer_force="northshire", record_types=["custody"],
                      field_profile={"custody": {"masked": ["arrest_place", "grounds"]}})
    shared = get(north, path)
    assert shared.status_code == 200, shared.get_json()
    body = shared.get_json()
    assert body["force"] == "lakeshire" and body["record"]["custody_number"] == record["custody_number"]
    assert [e["kind"] for e in body["entries"]] == ["rights_given"]
    assert body["clock"]["relevant_time"] and body["clock"]["detention_limit"]
    assert body["record"]["arrest_place"] is None and body["record"]["grounds"] is None
    assert body["record"]["arresting_officer"] == "PC 101"
    assert body["shared"] == {"read_only": True, "masked": ["arrest_place", "grounds"]}
    # read-only: an entry aimed at it is refused as for an unknown id
    assert entry(north_sergeant, record, "rights_given", NOW - 18 * H, written_notice=True).status_code == 404
    assert accesses(services, record["id"], DEDICATED) == 1 and accesses(services, record["id"], "pool") == 0
    assert act(lake_admin, agreement, "revoke").status_code == 200
    assert get(north, path).status_code == 404


def test_the_custody_list_merges_own_and_dedicated_records_newest_arrival_first(lake, north, lake_admin, sergeant,
                                                                                 north_sergeant):
    oldest = book(sergeant, suite="LKS", arrived=NOW - 30 * H)
    middle = book(north_sergeant, arrived=NOW - 20 * H)
    newest = book(sergeant, suite="LKS", arrived=NOW - 10 * H)
    hidden = book(sergeant, suite="LKS", arrived=NOW - 15 * H, classification="OFFICIAL-SENSITIVE")
    assert not {oldest["id"], newest["id"]} & set(listed(north, "/api/v1/custody/records"))
    agreement = share(lake_admin, consumer_force="northshire", record_types=["custody"])
    full = get(north, "/api/v1/custody/records", page_size=100).get_json()
    everything = [i["id"] for i in full["items"]]
    mine = [i for i in everything if i in {oldest["id"], middle["id"], newest["id"], hidden["id"]}]
    assert mine == [newest["id"], middle["id"], oldest["id"]]  # above the ceiling: absent
    assert get(north, f"/api/v1/custody/records/{hidden['id']}").status_code == 404
    # page by page, the same order as one page, and the total counts every database's records
    paged = [get(north, "/api/v1/custody/records", page=p, page_size=1).get_json() for p in (1, 2, 3)]
    assert [i["id"] for page in paged for i in page["items"]] == everything[:3]
    assert {page["total"] for page in paged} == {full["total"]} and full["total"] >= 3
    # a filter the provider releases narrows its records too
    numbered = listed(north, "/api/v1/custody/records", custody_number=newest["custody_number"])
    assert numbered == [newest["id"]]
    assert act(lake_admin, agreement, "revoke").status_code == 200
    assert not {oldest["id"], newest["id"]} & set(listed(north, "/api/v1/custody/records"))


# --- investigations ------------------------------------------------------------------------------------------------

def test_a_dedicated_forces_investigation_reads_with_its_entries_and_lists(lake, north, lake_admin, services):
    investigation, _, _ = shoplifting(lake)
    path = f"/api/v1/investigations/{investigation['id']}"
    assert get(north, path).status_code == 404
    assert investigation["id"] not in listed(north, "/api/v1/investigations")
    share(lake_admin, consumer_force="northshire", record_types=["investigation"],
          field_profile={"investigation": {"masked": ["summary"]}})
    shared = get(north, path)
    assert shared.status_code == 200, shared.get_json()
    body = shared.get_json()
    assert body["force"] == "lakeshire" and body["investigation"]["reference"] == investigation["reference"]
    assert "charge" in [e["kind"] for e in body["entries"]]
    assert body["investigation"]["summary"] is None and body["shared"]["masked"] == ["summary"]
    assert body["people"] == []  # its people are not shared: not shown
    assert accesses(services, investigation["id"], DEDICATED) == 1
    mine = north.post("/api/v1/investigations", json={
        "primary_classification": "46/1", "occurred_at": NOW.isoformat(), "summary": "Later theft"}).get_json()
    everything = listed(north, "/api/v1/investigations")
    assert everything.index(mine["id"]) < everything.index(investigation["id"])  # newest first across databases
    assert listed(north, "/api/v1/investigations", reference=investigation["reference"]) == [investigation["id"]]


# --- intelligence --------------------------------------------------------------------------------------------------

def test_a_dedicated_forces_live_code_p_report_is_shared_sanitised_and_code_c_never(as_user, north, lake_admin,
                                                                                   services):
    report = live_report(as_user, "lakeshire")
    code_c = live_report(as_user, "lakeshire", sanitised_handling_code="C")
    reader = as_user("northshire", "intelligence_analyst", user="ns-ia")
    share(lake_admin, consumer_force="northshire", record_types=["intelligence"],
          field_profile={"intelligence": {"masked": ["mopi_group"]}})
    shared = get(reader, f"/api/v1/intelligence/reports/{report['id']}")
    assert shared.status_code == 200, shared.get_json()
    body = shared.get_json()
    assert body["force"] == "lakeshire" and body["sanitised_text"] == ACCEPT["sanitised_text"]
    assert body["unsanitised"] == "withheld" and "unsanitised_text" not in body and "handling_code" not in body
    assert body["mopi_group"] is None and body["shared"]["masked"] == ["mopi_group"]
    assert get(reader, f"/api/v1/intelligence/reports/{code_c['id']}").status_code == 404
    everything = listed(reader, "/api/v1/intelligence/reports")
    assert report["id"] in everything and code_c["id"] not in everything
    assert code_c["id"] not in listed(reader, "/api/v1/intelligence/reports", handling_code="C")
    assert report["id"] in listed(reader, "/api/v1/intelligence/reports", handling_code="P", status="live")
    assert accesses(services, report["id"], DEDICATED) == 3  # the read, and two lists
    assert accesses(services, code_c["id"], DEDICATED) == 0


# --- documents -----------------------------------------------------------------------------------------------------

def test_a_dedicated_forces_document_is_listed_and_downloaded_from_its_own_storage(lake, north, lake_admin,
                                                                                    services):
    person = lake.create_person(surname=unique_name("Doc"))
    document = attach(lake, "person", person["id"], b"statement taken at Lakeside")
    listing = f"/api/v1/documents?record_type=person&record_id={person['id']}"
    assert north.get(listing, headers=PURPOSE).status_code == 404
    agreement = share(lake_admin, consumer_force="northshire", record_types=["person", "document"],
                      field_profile={"document": {"masked": ["filename"]}})
    found = north.get(listing, headers=PURPOSE)
    assert found.status_code == 200, found.get_json()
    items = found.get_json()["items"]
    assert [(i["id"], i["force"], i["filename"]) for i in items] == [(document["id"], "lakeshire", None)]
    content = north.get(f"/api/v1/documents/{document['id']}/content", headers=PURPOSE)
    assert content.status_code == 200 and content.data == b"statement taken at Lakeside"
    assert f"document-{document['id']}" in content.headers["Content-Disposition"]  # the masked name is not sent
    assert north.get(f"/api/v1/documents/{document['id']}/download-url", headers=PURPOSE).status_code == 200
    assert accesses(services, document["id"], DEDICATED) == 3 and accesses(services, document["id"], "pool") == 0
    assert act(lake_admin, agreement, "revoke").status_code == 200
    assert north.get(listing, headers=PURPOSE).status_code == 404
    assert north.get(f"/api/v1/documents/{document['id']}/content", headers=PURPOSE).status_code == 404


def test_a_dedicated_forces_document_stays_unread_without_a_document_grant(lake, north, lake_admin):
    person = lake.create_person(surname=unique_name("Nodoc"))
    document = attach(lake, "person", person["id"])
    share(lake_admin, consumer_force="northshire", record_types=["person"])
    found = north.get(f"/api/v1/documents?record_type=person&record_id={person['id']}", headers=PURPOSE)
    assert found.status_code == 200 and found.get_json()["items"] == []
    assert north.get(f"/api/v1/documents/{document['id']}/content", headers=PURPOSE).status_code == 404
    assert north.get(f"/api/v1/documents/{document['id']}/download-url", headers=PURPOSE).status_code == 404


# --- case files ----------------------------------------------------------------------------------------------------

def test_a_dedicated_forces_case_file_reads_masked_and_lists(lake, north, lake_admin, services):
    investigation, _, _ = shoplifting(lake)
    case = lake.post("/api/v1/cases", json={"investigation_id": investigation["id"]})
    assert case.status_code == 201, case.get_json()
    case = case.get_json()
    path = f"/api/v1/cases/{case['id']}"
    assert get(north, path).status_code == 404 and case["id"] not in listed(north, "/api/v1/cases")
    agreement = share(lake_admin, consumer_force="northshire", record_types=["case"],
                      field_profile={"case": {"masked": ["forms"]}})
    shared = get(north, path)
    assert shared.status_code == 200, shared.get_json()
    body = shared.get_json()
    assert body["force"] == "lakeshire" and body["forms"] is None and body["shared"]["masked"] == ["forms"]
    assert get(north, f"{path}/readiness", stage="charging_decision").status_code == 200
    assert case["id"] in listed(north, "/api/v1/cases")
    assert accesses(services, case["id"], DEDICATED) == 3
    assert act(lake_admin, agreement, "revoke").status_code == 200
    assert get(north, path).status_code == 404 and case["id"] not in listed(north, "/api/v1/cases")


# --- every type, the other way round -------------------------------------------------------------------------------

def test_a_dedicated_consumer_reads_a_pooled_providers_records_and_lists_them(lake, north, north_admin, north_sergeant,
                                                                              as_user):
    record = book(north_sergeant)
    investigation, _, _ = shoplifting(north)
    report = live_report(as_user, "northshire")
    share(north_admin, consumer_force="lakeshire", record_types=["custody", "investigation", "intelligence"])
    reader = as_user("lakeshire", "investigator", "intelligence_analyst", user="lk-reader")
    for path, list_path, record_id in (
            ("/api/v1/custody/records/", "/api/v1/custody/records", record["id"]),
            ("/api/v1/investigations/", "/api/v1/investigations", investigation["id"]),
            ("/api/v1/intelligence/reports/", "/api/v1/intelligence/reports", report["id"])):
        shown = get(reader, f"{path}{record_id}")
        assert shown.status_code == 200 and shown.get_json()["force"] == "northshire", (path, shown.get_json())
        assert record_id in listed(reader, list_path)
    # without a stated purpose nothing of another force is listed or read
    assert reader.get(f"/api/v1/custody/records/{record['id']}").status_code == 404
    unstated = reader.get("/api/v1/custody/records", query_string={"page_size": 100})
    assert record["id"] not in [i["id"] for i in unstated.get_json()["items"]]


# --- every read route of these domains, for a dedicated provider ---------------------------------------------------

DOMAINS = ("/api/v1/custody", "/api/v1/investigations", "/api/v1/intelligence", "/api/v1/documents", "/api/v1/cases")


def owned_by_lakeshire(services) -> dict[str, str]:
    """id -> record type of every record (and document) Lakeshire holds, read as Lakeshire in its own database."""
    connection = services.databases.overrides[DEDICATED]
    tables = {record_class(t).__tablename__: t for t in record_types()} | {"document": "document"}
    connection.exec_driver_sql("SELECT set_config('app.tenant_id', %s, true)",
                               (str(services.registry.by_slug("lakeshire").id),))
    try:
        return {str(row.id): record_type for table, record_type in tables.items()
                for row in connection.exec_driver_sql(f"SELECT id FROM {table}")}
    finally:
        connection.exec_driver_sql("SELECT set_config('app.tenant_id', '', true)")


def test_every_read_route_of_these_domains_returns_a_dedicated_forces_records_logged_in_its_database(
        app, services, as_user, lake, lake_admin, sergeant):
    """The pooled walk of test_guards, for a provider with a database of its own: each GET route of these domains
    reaches Lakeshire's shared records, and each one returned has its access-log row in Lakeshire's database."""
    investigation, suspect, _ = shoplifting(lake)
    case = lake.post("/api/v1/cases", json={"investigation_id": investigation["id"]}).get_json()
    made = {"custody": book(sergeant, suite="LKS"), "investigation": investigation, "case": case,
            "intelligence": live_report(as_user, "lakeshire"), "person": suspect}
    made["document:person"] = attach(lake, "person", suspect["id"])
    theirs = owned_by_lakeshire(services)
    share(lake_admin, consumer_force="northshire", record_types=[*shareable_types(), "document"])
    north = as_user("northshire", *EVERY_ROLE, user="ns-walker")
    lake_auditor = as_user("lakeshire", "auditor", user="lk-aud")
    unlogged, refused, seen = walk_get_routes(app, north, lake_auditor, made, theirs,
                                              skip=lambda path: not path.startswith(DOMAINS))
    assert not refused, f"routes that refused a shared record of a dedicated force: {refused}"
    assert not unlogged, f"returned without an access-log row in the provider's database: {unlogged}"
    assert {"custody", "investigation", "intelligence", "case", "document", "person"} <= seen


def test_a_list_reaching_a_providers_database_that_does_not_answer_is_a_503_and_own_reads_go_on(
        north, lake_admin, north_sergeant, services):
    mine = book(north_sergeant)
    share(lake_admin, consumer_force="northshire", record_types=["custody"])
    with unreachable(services, DEDICATED):
        down = get(north, "/api/v1/custody/records")
        own_only = north.get("/api/v1/custody/records", query_string={"page_size": 100})
        by_id = get(north, f"/api/v1/custody/records/{mine['id']}")
    # a page merged from every database cannot be given without one of them: a clear 503, never a silent gap
    assert down.status_code == 503 and down.headers["Retry-After"]
    # the force's own records, and what other databases are not needed for, are unaffected
    assert own_only.status_code == 200 and mine["id"] in [i["id"] for i in own_only.get_json()["items"]]
    assert by_id.status_code == 200
