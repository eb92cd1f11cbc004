"""Recording a crime in the console and taking it to an outcome through its pages: the same schemas, service,
versions and outcome rules as the API, refusals shown on the form, CSRF on every form, another force's not found."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from tests.console.conftest import csrf
from tests.investigations.test_records import record

WHEN = (datetime.now(timezone.utc) - timedelta(hours=3)).replace(microsecond=0).isoformat()
VERSION = re.compile(r'name="version" value="(\d+)"')


def text(response) -> str:
    return response.get_data(as_text=True)


def step(client, page, action: str, **data: str):
    """Post the step's form as the page shows it: its CSRF token and the version it was read at."""
    version = VERSION.search(text(page))
    assert version, f"the page offers no {action} form"
    return client.post(f"{page.request.path}/{action}", data={"csrf_token": csrf(page), "version": version[1],
                                                               **data})


def record_crime(officer) -> str:
    form = officer.get("/console/investigations/new")
    assert form.status_code == 200 and 'href="/console/investigations/new"' in text(form)  # in the navigation
    response = officer.post("/console/investigations/new", data={
        "primary_classification": "46/1", "occurred_at": WHEN, "summary": "Shoplifting at Northtown Co-op",
        "csrf_token": csrf(form)})
    assert response.status_code == 303, text(response)
    return response.headers["Location"]


def test_a_crime_is_recorded_and_taken_to_an_outcome_through_the_pages(console, north):
    officer = console("northshire", "officer", user="pc-2020")
    path = record_crime(officer)
    page = officer.get(path)
    assert page.status_code == 200
    assert "Shoplifting at Northtown Co-op" in text(page) and "Next step: qa" in text(page)
    for action, data, then in (("qa", {}, "Next step: allocate"),
                               ("allocate", {"officer_in_charge": "pc-2020"}, "Next step: acknowledge"),
                               ("acknowledge", {}, "Next step: finalise")):
        response = step(officer, page, action, **data)
        assert response.status_code == 303, text(response)
        page = officer.get(path)
        assert then in text(page), action
    refused = step(officer, page, "finalise", outcome_type="1")
    assert refused.status_code == 409
    assert "needs a suspect linked to the investigation" in text(refused) and "There is a problem" in text(refused)
    done = step(officer, officer.get(path), "finalise", outcome_type="18", reason="No lines of enquiry")
    assert done.status_code == 303, text(done)
    final = text(officer.get(path))
    assert "finalised" in final and "18 (investigation complete – no suspect identified)" in final
    assert "under_investigation -&gt; finalised: No lines of enquiry" in final
    investigation = north.get(f"/api/v1{path.removeprefix('/console')}").get_json()["investigation"]
    assert investigation["status"] == "finalised" and investigation["outcome_type"] == 18


def test_a_stale_version_and_the_wrong_officer_are_plain_messages_on_the_form(console):
    officer = console("northshire", "officer", user="pc-2021")
    path = record_crime(officer)
    page = officer.get(path)
    assert step(officer, page, "qa").status_code == 303
    stale = officer.post(f"{path}/allocate", data={"csrf_token": csrf(page), "version": "1",
                                                    "officer_in_charge": "pc-2021"})
    assert stale.status_code == 412 and "The record has changed since you read it" in text(stale)
    assert step(officer, officer.get(path), "allocate", officer_in_charge="dc-9").status_code == 303
    wrong = step(officer, officer.get(path), "acknowledge")
    assert wrong.status_code == 403 and "Only the officer in charge (dc-9) acknowledges it" in text(wrong)


def test_a_missing_required_field_is_named_in_the_error_summary(console):
    officer = console("northshire", "officer")
    form = officer.get("/console/investigations/new")
    response = officer.post("/console/investigations/new", data={"primary_classification": "46/1",
                                                                  "occurred_at": WHEN, "csrf_token": csrf(form)})
    assert response.status_code == 422
    assert 'href="#field-summary"' in text(response) and "What happened: Missing data" in text(response)
    assert 'id="field-summary"' in text(response)


def test_another_forces_investigation_is_not_found(console, south):
    theirs = record(south)
    officer = console("northshire", "officer")
    assert officer.get(f"/console/investigations/{theirs['id']}").status_code == 404
    home = officer.get("/console/")
    moved = officer.post(f"/console/investigations/{theirs['id']}/qa", data={"csrf_token": csrf(home),
                                                                               "version": "1"})
    assert moved.status_code == 404 and "Not found" in text(moved)
    logged = officer.post(f"/console/investigations/{theirs['id']}/entries",
                          data={"csrf_token": csrf(home), "kind": "log", "text": "x"})
    assert logged.status_code == 404


def test_the_investigation_forms_need_their_csrf_token(console):
    officer = console("northshire", "officer")
    path = record_crime(officer)
    for target, data in (("/console/investigations/new", {"primary_classification": "46/1"}),
                         (f"{path}/qa", {"version": "1"}), (f"{path}/entries", {"kind": "log", "text": "x"})):
        response = officer.post(target, data=data)
        assert response.status_code == 400 and "did not come from Concord" in text(response), target
    assert "Next step: qa" in text(officer.get(path))  # nothing moved


def test_a_log_entry_is_added_from_the_page(console):
    officer = console("northshire", "officer")
    path = record_crime(officer)
    page = officer.get(path)
    response = officer.post(f"{path}/entries", data={"csrf_token": csrf(page), "kind": "log",
                                                      "text": "CCTV requested from the store"})
    assert response.status_code == 303
    assert "CCTV requested from the store" in text(officer.get(path))
    empty = officer.post(f"{path}/entries", data={"csrf_token": csrf(page), "kind": "log"})
    assert empty.status_code == 422 and 'href="#field-text"' in text(empty)
