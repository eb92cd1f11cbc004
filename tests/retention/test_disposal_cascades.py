"""Investigations, intelligence reports and custody records through review, a second person's approval and
execution: each goes with everything hanging off it (and an investigation with its event and case file, a report
with its event), leaving tombstones and audit events only; what must stay stops it with a 409 naming why."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from app.cases import service as cases
from app.documents import service as documents
from app.retention import disposal
from tests.conftest import unique_name
from tests.custody.test_investigation_link import book_suspect
from tests.custody.test_records import NOW, H, entry, iso
from tests.factories import acting
from tests.investigations.test_records import record
from tests.retention.conftest import approve, as_force, dispose_decision, naming, propose, versions
from tests.test_intelligence import ACCEPT, submit

TEXT = {"filename": "note.txt", "media_type": "text/plain", "classification": "OFFICIAL"}


@pytest.fixture
def analyst(as_user):
    return as_user("northshire", "intelligence_analyst", user="ia-1")


@pytest.fixture
def sergeant(as_user):
    return as_user("northshire", "custody_officer", user="ps-custody-1")


def _etag(api, path: str) -> str:
    return api.get(path).headers["ETag"]


def _finalise(north, inv: dict, outcome: int = 1) -> None:
    path = f"/api/v1/investigations/{inv['id']}"
    for action, body in (("qa", {}), ("allocate", {"officer_in_charge": "pc-101"}), ("acknowledge", {}),
                         ("finalise", {"outcome_type": outcome})):
        moved = north.post(f"{path}/{action}", json=body, headers={"If-Match": _etag(north, path)})
        assert moved.status_code == 200, moved.get_json()


def _crime(north) -> tuple[dict, dict, dict]:
    """A shoplifting with a suspect charged and a victim, under investigation (not yet finalised)."""
    suspect = north.create_person(surname=unique_name("Def"), date_of_birth="1990-02-03")
    victim = north.create_person(surname=unique_name("Vic"))
    inv = record(north, [(suspect, "suspect"), (victim, "victim")], summary=f"Gin taken {uuid.uuid4()}")
    charged = north.post(f"/api/v1/investigations/{inv['id']}/entries", json={
        "kind": "charge", "text": "Theft from a shop, contrary to s.1 Theft Act 1968", "person_id": suspect["id"]})
    assert charged.status_code == 201, charged.get_json()
    return inv, suspect, victim


def _execute(services, store, listed: dict) -> list[disposal.Outcome]:
    with acting(services, "northshire", "retention_reviewer") as (session, who):
        return disposal.execute(session, who, store, list_id=uuid.UUID(listed["id"]))


def _listed(reviewer, approver, *items: tuple[str, str]) -> dict:
    """A disposal list of records already decided for disposal, proposed and approved by two people."""
    proposed = propose(reviewer, *items)
    assert proposed.status_code == 201, proposed.get_json()
    approve(approver, proposed.get_json())
    return proposed.get_json()


def _tombstones(conn, list_id: str) -> set[tuple]:
    return {tuple(r) for r in conn.execute(text(
        "SELECT record_type, record_id::text, with_type, with_id::text FROM retention_tombstone WHERE list_id = :l"),
        {"l": list_id})}


def _erasures(conn, *ids: str) -> list[str]:
    return sorted(r[0] for r in conn.execute(text(
        "SELECT record_id::text FROM audit_event WHERE action = 'erasure' AND record_id::text = ANY(:ids)"),
        {"ids": list(ids)}))


def test_an_investigation_goes_with_its_entries_event_case_file_and_bundles_leaving_only_tombstones(
        services, north, reviewer, approver, versioned_s3):
    inv, suspect, victim = _crime(north)
    secret = f"log {uuid.uuid4()}"
    assert north.post(f"/api/v1/investigations/{inv['id']}/entries",
                      json={"kind": "log", "text": secret}).status_code == 201
    with acting(services, "northshire") as (session, who):
        on_crime, on_event = (documents.upload(session, who, versioned_s3, {**TEXT, "record_type": t, "record_id": i},
                                               f"{t} {uuid.uuid4()}".encode())
                              for t, i in (("investigation", inv["id"]), ("event", inv["event_id"])))
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
    assert north.patch(f"/api/v1/cases/{case['id']}", headers={"If-Match": '"1"'}, json={
        "anticipated_plea": "GAP", "forms": {"MG5": {"summary": "Admitted"}}}).status_code == 200
    with acting(services, "northshire") as (session, who):
        bundle = cases.submit(session, who, versioned_s3, uuid.UUID(case["id"]), "first_hearing")
    [charge] = case["forms"]["MG4"]["charges"]
    assert north.post(f"/api/v1/cases/{case['id']}/results", json={
        "person_id": suspect["id"], "charge_id": charge["charge_id"], "result": "not_guilty",
        "decided_on": "2026-11-20"}).status_code == 201
    _finalise(north, inv)
    entries = [e["id"] for e in north.get(f"/api/v1/investigations/{inv['id']}").get_json()["entries"]]
    keys = [on_crime.storage_key, on_event.storage_key, bundle.bundle_key]
    assert all(versions(versioned_s3, k) for k in keys)
    conn = as_force(services, "northshire")
    assert naming(conn, inv["id"]) and naming(conn, case["id"]) and naming(conn, secret)

    review = dispose_decision(reviewer, "investigation", inv["id"])
    listed = _listed(reviewer, approver, ("investigation", inv["id"]))
    outcomes = _execute(services, versioned_s3, listed)

    assert [(o.record_id, o.disposed, o.reason) for o in outcomes] == [(uuid.UUID(inv["id"]), True, "")]
    conn = as_force(services, "northshire")
    urn = case["forms"]["MG1"]["urn"]
    for value in (inv["id"], inv["event_id"], inv["reference"], inv["summary"], case["id"], urn, str(bundle.id),
                  str(on_crime.id), str(on_event.id), secret, *entries):
        assert naming(conn, value) == {}, value
    assert all(versions(versioned_s3, k) == [] for k in keys)
    assert north.get(f"/api/v1/investigations/{inv['id']}").status_code == 404
    assert north.get(f"/api/v1/cases/{case['id']}").status_code == 404
    for person in (suspect, victim):  # the people stay, reviewed in their own right
        assert north.get(f"/api/v1/people/{person['id']}").status_code == 200
    assert _tombstones(conn, listed["id"]) == {
        ("investigation", inv["id"], None, None), ("event", inv["event_id"], "investigation", inv["id"]),
        ("case", case["id"], "investigation", inv["id"])}
    stone = conn.execute(text("SELECT to_jsonb(t)::text FROM retention_tombstone t WHERE record_id = :id"),
                         {"id": inv["id"]}).scalar_one()
    assert review["id"] in stone and not any(v in stone for v in (suspect["surname"], inv["summary"], secret, urn))
    assert _erasures(conn, inv["id"], inv["event_id"], case["id"]) == sorted([inv["id"], inv["event_id"], case["id"]])


def test_an_intelligence_report_goes_with_its_event_links_disseminations_and_tasks(
        services, north, analyst, as_user, reviewer, approver, versioned_s3):
    officer = as_user("northshire", "officer", user="pc-author")
    secret = f"CHIS {uuid.uuid4()} says J. Doe deals from 3 Mill Lane"
    report = submit(officer, unsanitised_text=secret)
    assert analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess", json=ACCEPT).status_code == 200
    subject = north.create_person(surname=unique_name("Intel"))
    live = analyst.post(f"/api/v1/intelligence/reports/{report['id']}/links",
                        json={"entities": [{"type": "person", "id": subject["id"]}], "go_live": True})
    assert live.status_code == 200, live.get_json()
    sent = officer.post(f"/api/v1/intelligence/reports/{report['id']}/disseminations",
                        json={"recipients": ["dc-1"], "note": "for the briefing"})
    assert sent.status_code == 201, sent.get_json()
    with acting(services, "northshire") as (session, who):
        note = documents.upload(session, who, versioned_s3, {**TEXT, "record_type": "intelligence",
                                                             "record_id": report["id"]}, f"{secret} note".encode())
    conn = as_force(services, "northshire")
    event_id = str(conn.execute(text("SELECT event_id FROM intelligence_report WHERE id = :id"),
                                {"id": report["id"]}).scalar_one())
    link_ids = [str(i) for i in conn.execute(text("SELECT id FROM pole_link WHERE to_id = :e"), {"e": event_id})
                .scalars()]
    task_ids = [str(i) for i in conn.execute(text("SELECT id FROM task WHERE record_id = :r"), {"r": report["id"]})
                .scalars()]
    assert link_ids and task_ids and naming(conn, secret)

    dispose_decision(reviewer, "intelligence", report["id"])
    listed = _listed(reviewer, approver, ("intelligence", report["id"]))
    outcomes = _execute(services, versioned_s3, listed)

    assert [o.disposed for o in outcomes] == [True]
    conn = as_force(services, "northshire")
    for value in (report["id"], event_id, secret, str(note.id), sent.get_json()["id"], *link_ids, *task_ids):
        assert naming(conn, value) == {}, value
    assert versions(versioned_s3, note.storage_key) == []
    assert analyst.get(f"/api/v1/intelligence/reports/{report['id']}").status_code == 404
    assert north.get(f"/api/v1/people/{subject['id']}").status_code == 200
    assert _tombstones(conn, listed["id"]) == {("intelligence", report["id"], None, None),
                                               ("event", event_id, "intelligence", report["id"])}


def test_a_custody_record_waits_for_its_investigation_and_case_file_then_goes_with_its_entries(
        services, north, sergeant, reviewer, approver, versioned_s3):
    inv, suspect, victim = _crime(north)
    booked = book_suspect(sergeant, suspect, [inv["id"]])
    assert booked.status_code == 201, booked.get_json()
    custody = booked.get_json()
    path = f"/api/v1/custody/records/{custody['id']}"
    assert entry(sergeant, custody, "rights_given", NOW - 2 * H, written_notice=True).status_code == 201
    assert entry(sergeant, custody, "charge", NOW - H, offences=["Burglary of a dwelling"]).status_code == 201
    released = sergeant.post(f"{path}/release", headers={"If-Match": _etag(sergeant, path)},
                             json={"released_at": iso(NOW - H / 2), "outcome": "charged_bailed"})
    assert released.status_code == 200, released.get_json()
    open_crime = reviewer.post("/api/v1/retention/reviews", json={
        "record_type": "custody", "record_id": custody["id"], "decision": "dispose", "rationale": "x"})
    assert open_crime.status_code == 409 and inv["reference"] in open_crime.get_json()["message"]
    assert "not yet finalised" in open_crime.get_json()["message"]

    _finalise(north, inv)
    dispose_decision(reviewer, "custody", custody["id"])
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()  # it cites the custody
    alone = _listed(reviewer, approver, ("custody", custody["id"]))
    [refused] = _execute(services, versioned_s3, alone)

    assert not refused.disposed and f"cited by case file {case['forms']['MG1']['urn']}" in refused.reason
    assert sergeant.get(path).status_code == 200
    entry_ids = [e["id"] for e in sergeant.get(path).get_json()["entries"]]

    dispose_decision(reviewer, "investigation", inv["id"])
    both = _listed(reviewer, approver, ("custody", custody["id"]), ("investigation", inv["id"]))
    outcomes = _execute(services, versioned_s3, both)

    assert [(o.record_type, o.disposed) for o in outcomes] == [("investigation", True), ("custody", True)]
    conn = as_force(services, "northshire")
    for value in (custody["id"], custody["custody_number"], inv["id"], case["id"], *entry_ids):
        assert naming(conn, value) == {}, value
    assert sergeant.get(path).status_code == 404
    assert north.get(f"/api/v1/people/{suspect['id']}").status_code == 200  # the detainee stays
    again = _execute(services, versioned_s3, alone)  # the first list now finds it gone
    assert [(o.disposed, o.reason) for o in again] == [(True, "already disposed of")]
    assert reviewer.get(f"/api/v1/retention/disposal-lists/{alone['id']}").get_json()["status"] == "executed"


def test_an_investigation_whose_case_file_is_still_before_the_court_is_not_disposed_of(
        services, north, reviewer, approver, versioned_s3):
    inv, suspect, _ = _crime(north)
    _finalise(north, inv)
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
    dispose_decision(reviewer, "investigation", inv["id"])  # a file never sent to court does not hold it
    listed = _listed(reviewer, approver, ("investigation", inv["id"]))
    [charge] = case["forms"]["MG4"]["charges"]
    assert north.post(f"/api/v1/cases/{case['id']}/results", json={
        "person_id": suspect["id"], "charge_id": charge["charge_id"], "result": "adjourned",
        "decided_on": "2026-11-20", "next_hearing": "2027-01-15"}).status_code == 201

    [outcome] = _execute(services, versioned_s3, listed)

    assert not outcome.disposed and "still before the court" in outcome.reason
    assert charge["charge_id"] in outcome.reason
    assert north.get(f"/api/v1/investigations/{inv['id']}").status_code == 200
    assert north.get(f"/api/v1/cases/{case['id']}").status_code == 200
    assert reviewer.get(f"/api/v1/retention/disposal-lists/{listed['id']}").get_json()["status"] == "approved"
    guilty = reviewer.post("/api/v1/retention/reviews", json={
        "record_type": "investigation", "record_id": inv["id"], "decision": "dispose", "rationale": "x"})
    assert guilty.status_code == 409 and "still before the court" in guilty.get_json()["message"]


def test_two_people_and_the_own_force_only(north, officer_report, reviewer, approver, as_user):
    dispose_decision(reviewer, "intelligence", officer_report["id"])
    listed = propose(reviewer, ("intelligence", officer_report["id"])).get_json()
    both = as_user("northshire", "disposal_approver", user="rr-1")  # the proposer, holding the approver role too
    own = both.post(f"/api/v1/retention/disposal-lists/{listed['id']}/approval",
                    json={"items_hash": listed["items_hash"]})
    assert own.status_code == 409 and "Two-person rule" in own.get_json()["message"]
    assert reviewer.post(f"/api/v1/retention/disposal-lists/{listed['id']}/execution").status_code == 409

    south_reviewer = as_user("southshire", "retention_reviewer", user="rr-9")
    south_approver = as_user("southshire", "disposal_approver", user="da-9")
    inv = record(north)
    for record_type, record_id in (("intelligence", officer_report["id"]), ("investigation", inv["id"])):
        foreign = propose(south_reviewer, (record_type, record_id))
        assert foreign.status_code == 404 and "items.0" in foreign.get_json()["errors"]
        assert south_reviewer.post("/api/v1/retention/reviews", json={
            "record_type": record_type, "record_id": record_id, "decision": "dispose",
            "rationale": "not ours"}).status_code == 404
    assert south_approver.post(f"/api/v1/retention/disposal-lists/{listed['id']}/approval",
                               json={"items_hash": listed["items_hash"]}).status_code == 404
    assert south_reviewer.post(f"/api/v1/retention/disposal-lists/{listed['id']}/execution").status_code == 404
    assert approver.post(f"/api/v1/retention/disposal-lists/{listed['id']}/approval",
                         json={"items_hash": listed["items_hash"]}).status_code == 200
    assert analyst_sees(as_user, officer_report) == 200  # nothing was disposed of yet


def analyst_sees(as_user, report: dict) -> int:
    return as_user("northshire", "intelligence_analyst", user="ia-1").get(
        f"/api/v1/intelligence/reports/{report['id']}").status_code


@pytest.fixture
def officer_report(as_user) -> dict:
    return submit(as_user("northshire", "officer", user="pc-author"), unsanitised_text=f"CHIS {uuid.uuid4()}")


def test_nothing_is_half_done_when_a_step_fails(services, officer_report, reviewer, approver, as_user, versioned_s3,
                                                monkeypatch):
    report, content = officer_report, f"n {uuid.uuid4()}".encode()
    with acting(services, "northshire") as (session, who):
        note = documents.upload(session, who, versioned_s3, {**TEXT, "record_type": "intelligence",
                                                             "record_id": report["id"]}, content)
    dispose_decision(reviewer, "intelligence", report["id"])
    listed = _listed(reviewer, approver, ("intelligence", report["id"]))
    conn = as_force(services, "northshire")
    before = naming(conn, report["id"])

    def fail() -> None:
        raise RuntimeError("storage went away")

    monkeypatch.setattr(disposal, "_after_erasure", fail)
    with pytest.raises(RuntimeError, match="storage went away"):
        _execute(services, versioned_s3, listed)

    conn = as_force(services, "northshire")
    assert naming(conn, report["id"]) == before  # every row is where it was
    assert _tombstones(conn, listed["id"]) == set() and _erasures(conn, report["id"]) == []
    assert versioned_s3.get(note.storage_key) == content  # the object is kept until its row is gone
    assert analyst_sees(as_user, report) == 200
    monkeypatch.undo()
    assert [o.disposed for o in _execute(services, versioned_s3, listed)] == [True]
    assert analyst_sees(as_user, report) == 404 and versions(versioned_s3, note.storage_key) == []


def test_a_restricted_event_stops_its_report_from_going(services, officer_report, reviewer, approver, as_user,
                                                         versioned_s3):
    holder = as_user("northshire", "restricted_access", user="dpo-1")
    dispose_decision(reviewer, "intelligence", officer_report["id"])
    listed = _listed(reviewer, approver, ("intelligence", officer_report["id"]))
    event_id = as_force(services, "northshire").execute(text("SELECT event_id FROM intelligence_report WHERE id = :id"),
                                                        {"id": officer_report["id"]}).scalar_one()
    assert holder.put(f"/api/v1/retention/restrictions/event/{event_id}",
                      json={"restricted": True}).status_code == 200

    [outcome] = _execute(services, versioned_s3, listed)

    assert not outcome.disposed and "restricted" in outcome.reason
    assert analyst_sees(as_user, officer_report) == 200


def test_a_shared_investigation_is_gone_for_the_other_force_and_only_its_access_log_names_it(
        services, north, as_user, reviewer, approver, versioned_s3):
    inv, _, _ = _crime(north)
    _finalise(north, inv)
    admin = as_user("northshire", "force_admin", user="ns-admin")
    agreement = admin.post("/api/v1/sharing/agreements", json={
        "consumer_force": "southshire", "record_types": ["investigation"], "max_classification": "OFFICIAL",
        "purpose": "linked series", "lawful_basis": "DPA 2018 s.35", "field_profile": {}}).get_json()
    assert admin.post(f"/api/v1/sharing/agreements/{agreement['id']}/approve",
                      json={"reason": "agreed"}).status_code == 200
    south = as_user("southshire", "investigator")
    purpose = {"X-Purpose": "linked series"}
    assert south.get(f"/api/v1/investigations/{inv['id']}", headers=purpose).status_code == 200

    dispose_decision(reviewer, "investigation", inv["id"])
    [outcome] = _execute(services, versioned_s3, _listed(reviewer, approver, ("investigation", inv["id"])))

    assert outcome.disposed
    assert south.get(f"/api/v1/investigations/{inv['id']}", headers=purpose).status_code == 404
    found = south.get(f"/api/v1/investigations?reference={inv['reference']}", headers=purpose).get_json()
    assert found["items"] == []
    logged = as_force(services, "northshire").execute(text(
        "SELECT to_jsonb(a) - 'id' - 'occurred_at' FROM sharing_access a WHERE record_id = :id"),
        {"id": inv["id"]}).scalars().all()
    assert logged and not any(inv["summary"] in str(row) for row in logged)  # ids, purpose and who: no content


def test_an_investigation_a_warning_marker_rests_on_is_not_disposed_of_and_nothing_of_it_goes(
        services, north, reviewer, approver, versioned_s3):
    inv, suspect, _ = _crime(north)
    _finalise(north, inv)
    marked = north.patch(f"/api/v1/people/{suspect['id']}", headers={"If-Match": '"1"'}, json={
        "warning_markers": [{"code": "VI", "from_date": "2026-01-05",
                             "source": {"type": "investigation", "id": inv["id"]}}]})
    assert marked.status_code == 200, marked.get_json()
    dispose_decision(reviewer, "investigation", inv["id"])
    conn = as_force(services, "northshire")
    before = {value: naming(conn, value) for value in (inv["id"], inv["event_id"])}

    [outcome] = _execute(services, versioned_s3, _listed(reviewer, approver, ("investigation", inv["id"])))

    assert not outcome.disposed and "warning_marker" in outcome.reason
    conn = as_force(services, "northshire")
    assert {value: naming(conn, value) for value in before} == before
    assert north.get(f"/api/v1/investigations/{inv['id']}").status_code == 200
