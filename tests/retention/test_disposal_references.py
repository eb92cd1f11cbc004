"""What still names a record stops its disposal, and only its: a list whose records are referred to by others goes
on with the rest, each in its own transaction. The check reads the catalog once per list and asks each column with
an index (app/retention/disposal.py References; migration 0023)."""
from __future__ import annotations

import uuid

from sqlalchemy import text

from app.custody.models import CustodyRecord
from app.retention import cascade, disposal
from tests.conftest import unique_name
from tests.custody.test_investigation_link import book_suspect
from tests.factories import acting
from tests.investigations.test_records import record
from tests.retention.conftest import approve, as_force, dispose_decision, naming, propose
from tests.retention.test_disposal_cascades import _crime, _finalise


def test_in_a_list_the_records_still_referred_to_are_refused_by_name_and_the_others_disposed_of(
        services, north, as_user, reviewer, approver):
    charged, detained, free = (north.create_person(surname=unique_name(s)) for s in ("Charged", "Detained", "Free"))
    crime = record(north, [(charged, "suspect")])  # open: kept, and its charge names the person (no foreign key)
    assert north.post(f"/api/v1/investigations/{crime['id']}/entries", json={
        "kind": "charge", "text": "Theft from a shop", "person_id": charged["id"]}).status_code == 201
    sergeant = as_user("northshire", "custody_officer", user="ps-custody-1")
    assert book_suspect(sergeant, detained, []).status_code == 201  # the custody record's detainee (a foreign key)
    for person in (charged, detained, free):
        dispose_decision(reviewer, "person", person["id"])
    listed = propose(reviewer, *(("person", p["id"]) for p in (charged, detained, free))).get_json()
    approve(approver, listed)
    conn = as_force(services, "northshire")
    kept = {p["id"]: naming(conn, p["id"]) for p in (charged, detained)}

    body = reviewer.post(f"/api/v1/retention/disposal-lists/{listed['id']}/execution").get_json()

    outcomes = {o["record_id"]: (o["disposed"], o["reason"]) for o in body["outcomes"]}
    assert outcomes == {
        charged["id"]: (False, "person_id in investigation_entry still refers to this record: dispose of or retain "
                               "that first"),
        detained["id"]: (False, "a record in custody_record still refers to this record: dispose of or retain that "
                                "first"),
        free["id"]: (True, "")}
    assert body["list"]["status"] == "approved"  # not every record went: the list can be executed again
    conn = as_force(services, "northshire")
    assert {i: naming(conn, i) for i in kept} == kept  # nothing of the refused ones went, their links neither
    assert naming(conn, free["id"]) == {}
    assert north.get(f"/api/v1/people/{free['id']}").status_code == 404
    assert [r[0] for r in conn.execute(text("SELECT record_id::text FROM retention_tombstone WHERE list_id = :l"),
                                       {"l": listed["id"]})] == [free["id"]]

    again = reviewer.post(f"/api/v1/retention/disposal-lists/{listed['id']}/execution").get_json()
    assert {o["record_id"]: (o["disposed"], o["reason"]) for o in again["outcomes"]} == {
        **{i: outcomes[i] for i in kept}, free["id"]: (True, "already disposed of")}


def test_a_record_going_with_another_and_still_named_stops_that_other(services, north, reviewer, approver,
                                                                      versioned_s3):
    """An investigation goes with its event: a warning marker resting on that event stops the investigation."""
    inv, suspect, _ = _crime(north)
    _finalise(north, inv)
    marked = north.patch(f"/api/v1/people/{suspect['id']}", headers={"If-Match": '"1"'}, json={
        "warning_markers": [{"code": "VI", "from_date": "2026-01-05",
                             "source": {"type": "event", "id": inv["event_id"]}}]})
    assert marked.status_code == 200, marked.get_json()
    dispose_decision(reviewer, "investigation", inv["id"])
    listed = propose(reviewer, ("investigation", inv["id"])).get_json()
    approve(approver, listed)

    with acting(services, "northshire", "retention_reviewer") as (session, who):
        [outcome] = disposal.execute(session, who, versioned_s3, list_id=uuid.UUID(listed["id"]))

    assert (outcome.disposed, outcome.reason) == (
        False, "source_id in person_warning_marker still refers to this record: dispose of or retain that first")
    assert north.get(f"/api/v1/investigations/{inv['id']}").status_code == 200
    assert north.get(f"/api/v1/events/{inv['event_id']}").status_code == 200


# An index of the table leading with (tenant_id, the column).
INDEXED = """
    SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
                   JOIN pg_attribute a0 ON a0.attrelid = t.oid AND a0.attnum = i.indkey[0]
                   JOIN pg_attribute a1 ON a1.attrelid = t.oid AND a1.attnum = i.indkey[1]
                   WHERE t.relname = :table AND t.relnamespace = 'public'::regnamespace
                     AND a0.attname = 'tenant_id' AND a1.attname = :column)
"""


def test_every_column_the_check_reads_has_an_index_after_the_tenant(services):
    """Else each record disposed of reads that table whole (migration 0023)."""
    with acting(services, "northshire", "retention_reviewer") as (session, _):
        with session.begin():
            references = disposal.References(session)
            assert {c.table for c in references.columns} >= {"person", "pole_link", "investigation_entry", "document"}
            assert not {c.table for c in references.columns} & set(disposal.KEPT)
            unindexed = [f"{c.table}.{c.name}" for c in references.columns
                         if not session.scalar(text(INDEXED), {"table": c.table, "column": c.name})]
    assert unindexed == []


def test_a_case_file_cites_a_custody_number_only_as_written(services, north):
    """The citing case files are found by the custody number as text: its % and _ are themselves, no wildcards."""
    inv, _, _ = _crime(north)
    _finalise(north, inv)
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
    assert north.patch(f"/api/v1/cases/{case['id']}", headers={"If-Match": '"1"'}, json={
        "forms": {"MG5": {"summary": "Detained under NTH/7%5x1 overnight"}}}).status_code == 200
    urn = case["forms"]["MG1"]["urn"]
    with acting(services, "northshire") as (session, _):
        with session.begin():
            def citing(number: str) -> list[str]:
                return cascade._citing_case_files(session, CustodyRecord(id=uuid.uuid4(), custody_number=number))

            assert urn in citing("NTH/7%5x1")
            assert urn not in citing("NTH/7_5x1") and urn not in citing("NTH/%x1") and urn not in citing("NTH/7%5_1")
