"""Intelligence through the API: grading, the lifecycle and its tasks, who sees unsanitised material,
dissemination, interest, two-person deletion, legacy gradings, sharing only the sanitised P version."""
from __future__ import annotations

import pytest

from tests.conftest import unique_name

GRADED = {"source_evaluation": 2, "intelligence_assessment": "B", "handling_code": "P"}
ACCEPT = {"decision": "accept", "sanitised_text": "A named male is dealing drugs from a flat on Mill Lane",
          "sanitised_source_evaluation": 2, "sanitised_assessment": "B", "sanitised_handling_code": "P",
          "mopi_group": 3}


@pytest.fixture
def officer(as_user):
    return as_user("northshire", "officer", user="pc-author")


@pytest.fixture
def analyst(as_user):
    return as_user("northshire", "intelligence_analyst", user="ia-1")


def submit(api, **extra):
    body = {"unsanitised_text": "CHIS 4471 says J. Doe deals from 3 Mill Lane at night", **GRADED, **extra}
    body = {k: v for k, v in body.items() if v is not None}
    response = api.post("/api/v1/intelligence/reports", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def tasks(api):
    return api.get("/api/v1/tasks").get_json()["items"]


def test_a_report_goes_from_assessment_to_live_with_a_task_at_each_step(officer, analyst, north):
    report = submit(officer)
    assert report["status"] == "requires_assessment"
    assert any(t["record_id"] == report["id"] and t["kind"] == "assess" for t in tasks(analyst))
    accepted = analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess", json=ACCEPT)
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "requires_linking"
    mine = [t["kind"] for t in tasks(analyst) if t["record_id"] == report["id"]]
    assert mine == ["link"]
    suspect = north.create_person(surname=unique_name("Intel"))
    live = analyst.post(f"/api/v1/intelligence/reports/{report['id']}/links",
                        json={"entities": [{"type": "person", "id": suspect["id"]}], "go_live": True})
    assert live.status_code == 200 and live.get_json()["status"] == "live"
    assert [t for t in tasks(analyst) if t["record_id"] == report["id"]] == []


def test_only_those_with_the_permission_see_unsanitised_material(officer, analyst, as_user):
    report = submit(officer)
    analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess", json=ACCEPT)
    assert "CHIS" in analyst.get(f"/api/v1/intelligence/reports/{report['id']}").get_json()["unsanitised_text"]
    colleague = as_user("northshire", "officer", user="pc-other")
    seen = colleague.get(f"/api/v1/intelligence/reports/{report['id']}").get_json()
    assert "unsanitised_text" not in seen and seen["unsanitised"] == "withheld"
    assert seen["sanitised_text"].startswith("A named male") and "handling_code" not in seen


def test_returned_for_correction_goes_back_to_the_author(officer, analyst):
    report = submit(officer)
    back = analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess",
                        json={"decision": "return_for_correction", "reason": "grade the source"})
    assert back.get_json()["status"] == "returned_for_correction"
    assert [t["kind"] for t in tasks(officer) if t["record_id"] == report["id"]] == ["correct"]
    fixed = officer.post(f"/api/v1/intelligence/reports/{report['id']}/complete", json={"source_evaluation": 1})
    assert fixed.status_code == 200 and fixed.get_json()["status"] == "requires_assessment"


def test_code_c_needs_conditions_a_review_task_and_is_never_shared(officer, analyst):
    missing = officer.post("/api/v1/intelligence/reports", json={
        "unsanitised_text": "x", "source_evaluation": 1, "intelligence_assessment": "A", "handling_code": "C"})
    assert missing.status_code == 422 and "handling_conditions" in missing.get_json()["errors"]
    report = submit(officer, handling_code="C", handling_conditions="Not to be disclosed outside the unit")
    assessed = analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess",
                            json={**ACCEPT, "sanitised_handling_code": "C"}).get_json()
    assert assessed["next_review_on"] and assessed["review_overdue"] is False
    assert any(t["kind"] == "review_code_c" and t["due_on"] == assessed["next_review_on"]
               for t in tasks(analyst) if t["record_id"] == report["id"])


def test_interested_users_get_a_task_when_a_report_about_the_person_goes_live(officer, analyst, north, as_user):
    person = north.create_person(surname=unique_name("Watch"))
    watcher = as_user("northshire", "investigator", user="dc-watch")
    assert watcher.put(f"/api/v1/intelligence/interests/{person['id']}").status_code == 204
    report = submit(officer)
    analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess", json=ACCEPT)
    analyst.post(f"/api/v1/intelligence/reports/{report['id']}/links",
                 json={"entities": [{"type": "person", "id": person["id"]}], "go_live": True})
    assert [t["kind"] for t in tasks(watcher) if t["record_id"] == report["id"]] == ["interest"]


def test_dissemination_records_its_recipients_and_needs_a_live_report(officer, analyst):
    report = submit(officer)
    early = officer.post(f"/api/v1/intelligence/reports/{report['id']}/disseminations", json={"recipients": ["dc-1"]})
    assert early.status_code == 409
    analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess", json=ACCEPT)
    analyst.post(f"/api/v1/intelligence/reports/{report['id']}/links", json={"go_live": True})
    sent = officer.post(f"/api/v1/intelligence/reports/{report['id']}/disseminations",
                        json={"recipients": ["dc-2", "dc-1", "dc-1"], "note": "for Op Kestrel"})
    assert sent.status_code == 201 and sent.get_json()["recipients"] == ["dc-1", "dc-2"]


def test_deletion_needs_a_second_person(officer, analyst, as_user):
    report = submit(officer)
    assert officer.post(f"/api/v1/intelligence/reports/{report['id']}/deletion",
                        json={"reason": "duplicate of another report"}).status_code == 200
    assert any(t["kind"] == "authorise_deletion" for t in tasks(analyst) if t["record_id"] == report["id"])
    other_analyst = as_user("northshire", "intelligence_analyst", user="pc-author")
    assert other_analyst.post(f"/api/v1/intelligence/reports/{report['id']}/deletion/authorise").status_code == 403
    assert analyst.post(f"/api/v1/intelligence/reports/{report['id']}/deletion/authorise").status_code == 200
    assert analyst.get(f"/api/v1/intelligence/reports/{report['id']}").status_code == 404


def test_legacy_5x5x5_gradings_are_kept_and_shown_as_legacy(officer, analyst):
    report = submit(officer, source_evaluation=None, intelligence_assessment=None, handling_code=None,
                    legacy_grading={"source": "B", "intelligence": 2, "handling": 1})
    shown = analyst.get(f"/api/v1/intelligence/reports/{report['id']}").get_json()
    assert shown["legacy_grading"] == {"source": "B", "intelligence": 2, "handling": 1, "legacy": "5x5x5, read-only"}
    mixed = officer.post("/api/v1/intelligence/reports", json={
        "unsanitised_text": "x", **GRADED, "legacy_grading": {"source": "B", "intelligence": 2, "handling": 1}})
    assert mixed.status_code == 422 and "legacy_grading" in mixed.get_json()["errors"]


def test_only_the_sanitised_live_p_version_crosses_to_another_force(officer, analyst, as_user):
    report = submit(officer)
    analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess", json=ACCEPT)
    admin = as_user("northshire", "force_admin", user="ns-admin")
    agreement = admin.post("/api/v1/sharing/agreements", json={
        "consumer_force": "southshire", "record_types": ["intelligence"], "max_classification": "OFFICIAL",
        "purpose": "serious organised crime", "lawful_basis": "DPA 2018 s.35"}).get_json()
    admin.post(f"/api/v1/sharing/agreements/{agreement['id']}/approve", json={"reason": "agreed"})
    south = as_user("southshire", "intelligence_analyst")
    purpose = {"X-Purpose": "Op Kestrel"}
    assert south.get(f"/api/v1/intelligence/reports/{report['id']}", headers=purpose).status_code == 404  # not live
    analyst.post(f"/api/v1/intelligence/reports/{report['id']}/links", json={"go_live": True})
    shown = south.get(f"/api/v1/intelligence/reports/{report['id']}", headers=purpose).get_json()
    assert shown["force"] == "northshire" and "unsanitised_text" not in shown and shown["shared"]["read_only"]
    assert shown["sanitised_text"].startswith("A named male")


def test_another_forces_report_is_404(officer, as_user):
    report = submit(officer)
    assert as_user("southshire", "intelligence_analyst").get(
        f"/api/v1/intelligence/reports/{report['id']}").status_code == 404


def test_code_c_conditions_are_shown_to_every_reader_but_the_unsanitised_material_is_not(officer, analyst, as_user):
    report = submit(officer, handling_code="C", handling_conditions="Not to be disclosed outside the unit")
    analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess", json={**ACCEPT, "sanitised_handling_code": "C"})
    colleague = as_user("northshire", "officer", user="pc-other")
    seen = colleague.get(f"/api/v1/intelligence/reports/{report['id']}").get_json()
    assert seen["handling_conditions"] == "Not to be disclosed outside the unit"
    assert seen["sanitised_handling_code"] == "C" and seen["unsanitised"] == "withheld"
    assert not {"unsanitised_text", "handling_code", "source_evaluation", "intelligence_assessment"} & set(seen)


def test_a_p_reports_conditions_are_not_shown_to_a_reader_without_the_permission(officer, analyst, as_user):
    report = submit(officer, handling_conditions="written by the author for the unit")
    analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess", json=ACCEPT)
    seen = as_user("northshire", "officer", user="pc-other").get(f"/api/v1/intelligence/reports/{report['id']}")
    assert "handling_conditions" not in seen.get_json()


@pytest.mark.parametrize("conditions", [None, "   "])
def test_a_report_accepted_as_code_c_must_carry_its_conditions(officer, analyst, as_user, conditions):
    report = submit(officer)  # code P at submission: no conditions written
    url = f"/api/v1/intelligence/reports/{report['id']}/assess"
    body = {**ACCEPT, "sanitised_handling_code": "C"}
    refused = analyst.post(url, json=body if conditions is None else {**body, "handling_conditions": conditions})
    assert refused.status_code == 422 and "handling_conditions" in refused.get_json()["errors"]
    assert analyst.get(f"/api/v1/intelligence/reports/{report['id']}").get_json()["status"] == "requires_assessment"
    accepted = analyst.post(url, json={**body, "handling_conditions": "Only to the force's drugs unit"})
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "requires_linking"
    seen = as_user("northshire", "officer", user="pc-other").get(f"/api/v1/intelligence/reports/{report['id']}")
    assert seen.get_json()["handling_conditions"] == "Only to the force's drugs unit"
