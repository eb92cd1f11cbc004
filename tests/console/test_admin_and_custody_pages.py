"""The collaboration administrators' and custody staff's pages through Flask's test client."""
from __future__ import annotations

import uuid

from tests.conftest import unique_name
from tests.console.conftest import csrf
from tests.custody.test_records import NOW, H, book, iso
from tests.sharing.test_agreements import PURPOSE, share


def text(response) -> str:
    return response.get_data(as_text=True)


def propose_form(admin, **fields):
    page = admin.get("/console/agreements/new")
    assert page.status_code == 200 and "Withhold from person" in text(page)  # the field-profile editor
    data = {"csrf_token": csrf(page), "consumer": "collaboration:tri-shire", "record_types": ["person"],
            "masked-person": ["date_of_birth"], "max_classification": "OFFICIAL",
            "purpose": "Cross-border missing persons", "lawful_basis": "DPA 2018 s.35", **fields}
    return admin.post("/console/agreements/new", data=data)


def test_an_agreement_goes_from_proposal_to_active_then_suspended_reinstated_and_revoked(console):
    admin = console("northshire", "force_admin", "collaboration_admin", user="collab-admin-1")
    proposed = propose_form(admin)
    assert proposed.status_code == 303
    page = admin.get(proposed.headers["Location"])
    assert 'id="agreement-status">proposed<' in text(page) and "person: date_of_birth" in text(page)
    path = proposed.headers["Location"]
    simulated = admin.post(f"{path}/simulate", data={"csrf_token": csrf(page)})
    assert simulated.status_code == 200 and "If approved" in text(simulated)
    refused = admin.post(f"{path}/approve", data={"csrf_token": csrf(page), "reason": ""})
    assert refused.status_code == 422 and 'href="#field-reason"' in text(refused)
    for action, status in (("approve", "active"), ("suspend", "suspended"), ("reinstate", "active"),
                           ("revoke", "revoked")):
        done = admin.post(f"{path}/{action}", data={"csrf_token": csrf(page), "reason": f"board minute: {action}"})
        assert done.status_code == 303, text(done)
        after = text(admin.get(path))
        assert f'id="agreement-status">{status}<' in after and f"board minute: {action}" in after
    listed = text(admin.get("/console/agreements"))
    assert "revoked" in listed and "Northshire Police" in listed


def test_a_proposal_the_api_refuses_names_its_fields(console):
    admin = console("northshire", "force_admin", user="admin-1")
    response = propose_form(admin, purpose="", record_types=[])
    assert response.status_code == 422
    assert 'href="#field-purpose"' in text(response) and 'href="#field-record_types"' in text(response)


def test_another_forces_agreement_is_not_found(console, as_user):
    south_admin = as_user("southshire", "force_admin")
    agreement = south_admin.post("/api/v1/sharing/agreements", json={
        "consumer_force": "westshire", "record_types": ["person"], "max_classification": "OFFICIAL",
        "purpose": "Cross-border", "lawful_basis": "DPA 2018 s.35"}).get_json()
    admin = console("northshire", "force_admin", user="admin-1")
    assert admin.get(f"/console/agreements/{agreement['id']}").status_code == 404
    assert agreement["id"] not in text(admin.get("/console/agreements"))


def test_the_access_log_shows_other_forces_reads_filterable_by_force(console, north, north_admin, south):
    person = north.create_person(surname=unique_name("Logged"))
    share(north_admin)
    assert south.get(f"/api/v1/people/{person['id']}", headers=PURPOSE).status_code == 200
    admin = console("northshire", "force_admin", user="admin-1")
    page = text(admin.get("/console/access-log?force=southshire"))
    assert person["id"] in page and "Southshire Constabulary" in page and "Operation Kestrel" in page
    assert person["id"] not in text(admin.get("/console/access-log?force=westshire"))
    bad = admin.get("/console/access-log?force=nowhere")
    assert 'href="#field-force"' in text(bad)


def test_the_board_lists_the_suite_and_refreshes_itself(console, as_user):
    record = book(as_user("northshire", "custody_officer", user="ps-custody-1"))
    sergeant = console("northshire", "custody_officer", user="ps-custody-1")
    page = text(sergeant.get("/console/custody"))
    assert record["custody_number"] in page and 'hx-trigger="every 30s"' in page
    person = as_user("northshire", "custody_officer", user="ps-custody-1").get(
        f"/api/v1/people/{record['person_id']}", headers=PURPOSE).get_json()
    row = page.split(f'<a href="/console/custody/records/{record["id"]}">', 1)[1].split("</tr>", 1)[0]
    assert row.startswith(f"{person['surname']}, Sam</a> ({record['custody_number']})")
    assert '<td data-label="Next due">' in row and "Overdue" in row  # booked 20 h ago: its first review is late
    partial = text(sergeant.get("/console/custody?suite=NTH", headers={"HX-Request": "true"}))
    assert record["custody_number"] in partial and "<html" not in partial
    south_sergeant = console("southshire", "custody_officer", user="ps-s")
    assert record["custody_number"] not in text(south_sergeant.get("/console/custody"))


def test_the_clocks_refusal_is_a_plain_message_on_the_form(console, as_user):
    arrived = NOW - 20 * H
    record = book(as_user("northshire", "custody_officer", user="ps-custody-1"), arrived=arrived)
    inspector = console("northshire", "custody_inspector", user="insp-1")
    page = inspector.get(f"/console/custody/records/{record['id']}?kind=review")
    assert page.status_code == 200 and "Detention limit" in text(page)
    late = inspector.post(f"/console/custody/records/{record['id']}/entries", data={
        "csrf_token": csrf(page), "kind": "review", "occurred_at": iso(arrived + 7 * H),
        "data-decision": "continue"})
    assert late.status_code == 409 and "There is a problem" in text(late) and "postponed" in text(late)
    ok = inspector.post(f"/console/custody/records/{record['id']}/entries", data={
        "csrf_token": csrf(page), "kind": "review", "occurred_at": iso(arrived + 7 * H),
        "data-decision": "continue", "data-postponed_reason": "detainee at hospital"})
    assert ok.status_code == 303, text(ok)
    assert "review" in text(inspector.get(f"/console/custody/records/{record['id']}"))


def test_another_forces_custody_record_is_not_found(console, as_user):
    record = book(as_user("northshire", "custody_officer", user="ps-custody-1"))
    south = console("southshire", "custody_officer", user="ps-s")
    assert south.get(f"/console/custody/records/{record['id']}").status_code == 404
    assert south.get(f"/console/custody/records/{uuid.uuid4()}").status_code == 404


def test_a_module_the_force_omits_is_not_found_on_the_console_either(console, services, monkeypatch):
    import dataclasses

    registry = services.registry
    tenant = registry.by_slug("northshire")
    changed = dataclasses.replace(tenant, modules=tuple(m for m in tenant.modules if m not in ("custody", "sharing")))
    monkeypatch.setitem(registry._by_slug, "northshire", changed)
    monkeypatch.setitem(registry._by_issuer, tenant.identity.issuer, changed)
    user = console("northshire", "custody_officer", "force_admin", user="ps-x")
    home = text(user.get("/console/"))
    assert "Custody board" not in home and "Agreements" not in home
    for path in ("/console/custody", f"/console/custody/records/{uuid.uuid4()}", "/console/agreements",
                 "/console/access-log"):
        assert user.get(path).status_code == 404, path


def _entry(officer, record, **form):
    page = officer.get(f"/console/custody/records/{record['id']}?kind={form['kind']}")
    return page, officer.post(f"/console/custody/records/{record['id']}/entries",
                              data={"csrf_token": csrf(page), "occurred_at": iso(NOW), **form})


def test_lists_and_risk_answers_are_entered_one_per_line_and_stored_as_such(console, as_user):
    api = as_user("northshire", "custody_officer", user="ps-custody-1")
    record = book(api)
    officer = console("northshire", "custody_officer", user="ps-custody-1")
    page, added = _entry(officer, record, kind="risk_assessment", **{
        "data-answers": "Self harm: no\r\n\r\nMedical conditions: asthma, has inhaler\r\nCalm and cooperative",
        "data-level": "low"})
    assert 'textarea id="field-data-answers" name="data-answers"' in text(page)
    assert 'aria-describedby="hint-data-answers"' in text(page) and "question: answer" in text(page)
    assert added.status_code == 303, text(added)
    _, added = _entry(officer, record, kind="property", **{"data-items": "wallet\nkeys\n", "data-bag_numbers": "B1"})
    assert added.status_code == 303, text(added)
    entries = api.get(f"/api/v1/custody/records/{record['id']}", headers=PURPOSE).get_json()["entries"]
    assert [e["data"] for e in entries] == [
        {"answers": {"Self harm": "no", "Medical conditions": "asthma, has inhaler", "notes": "Calm and cooperative"},
         "level": "low"},
        {"items": ["wallet", "keys"], "bag_numbers": ["B1"]}]


def test_an_entry_detail_refused_is_named_in_the_error_summary_and_at_its_input(console, as_user):
    record = book(as_user("northshire", "custody_officer", user="ps-custody-1"))
    officer = console("northshire", "custody_officer", user="ps-custody-1")
    _, refused = _entry(officer, record, kind="warrant", **{"data-hours": "40", "data-court": "Northtown"})
    assert refused.status_code == 422
    assert '<a href="#field-data-hours">Hours: Must be greater than or equal to 1 and less than or equal to 36.</a>' \
        in text(refused)
    assert 'aria-describedby="error-data-hours" aria-invalid="true"' in text(refused)
    _, twice = _entry(officer, record, kind="risk_assessment",
                      **{"data-answers": "Self harm: no\nSelf harm: yes", "data-level": "high"})
    assert twice.status_code == 422 and "Answers: &#39;Self harm&#39; is answered twice" in text(twice)
    page, missing = _entry(officer, record, kind="appropriate_adult",
                           **{"data-name": "Pat", "data-relationship": "aunt"})
    assert '<select id="field-data-police_officer_or_staff"' in text(page)
    assert missing.status_code == 422 and "Police officer or staff: Missing data for required field." in text(missing)
    _, police = _entry(officer, record, kind="appropriate_adult", **{
        "data-name": "PC Smith", "data-relationship": "officer", "data-police_officer_or_staff": "yes"})
    assert police.status_code == 409 and "Code C 1.7(b)" in text(police)


def test_a_correction_is_chosen_from_the_records_entries(console, as_user):
    api = as_user("northshire", "custody_officer", user="ps-custody-1")
    record = book(api)
    officer = console("northshire", "custody_officer", user="ps-custody-1")
    assert _entry(officer, record, kind="cell", **{"data-cell": "C1"})[1].status_code == 303
    cell = api.get(f"/api/v1/custody/records/{record['id']}", headers=PURPOSE).get_json()["entries"][0]
    page, unnamed = _entry(officer, record, kind="correction", **{"data-reason": "wrong cell"})
    assert '<label for="field-corrects_id">Entry corrected</label>' in text(page)
    assert f'<option value="{cell["id"]}">' in text(page) and ": cell (C1)</option>" in text(page)
    assert unnamed.status_code == 422 and '<a href="#field-corrects_id">Entry corrected:' in text(unnamed)
    _, corrected = _entry(officer, record, kind="correction", corrects_id=cell["id"], **{"data-reason": "wrong cell"})
    assert corrected.status_code == 303, text(corrected)
    shown = api.get(f"/api/v1/custody/records/{record['id']}", headers=PURPOSE).get_json()
    assert shown["entries"][-1]["corrects_id"] == cell["id"] and shown["clock"]["cell"] is None
