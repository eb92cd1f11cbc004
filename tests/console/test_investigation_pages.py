"""Recording a crime in the console, linking its people and taking it to an outcome through its pages: the same
schemas, services, versions and outcome rules as the API, refusals shown on the form, CSRF on every form, another
force's not found."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

from tests.conftest import unique_name
from tests.console.conftest import csrf
from tests.investigations.test_records import record
from tests.people.test_search import find
from tests.sharing.test_agreements import share

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
    suspect = south.create_person(surname=unique_name("Theirs"))
    south.post(f"/api/v1/investigations/{theirs['id']}/people", json={"person_id": suspect["id"], "role": "suspect"})
    removed = officer.post(f"/console/investigations/{theirs['id']}/people/{suspect['id']}/end",
                           data={"csrf_token": csrf(home), "role": "suspect", "reason": "linked in error"})
    assert removed.status_code == 404 and "Not found" in text(removed)
    assert [p["role"] for p in south.get(f"/api/v1/investigations/{theirs['id']}").get_json()["people"]] == ["suspect"]


def test_the_investigation_forms_need_their_csrf_token(console):
    officer = console("northshire", "officer")
    path = record_crime(officer)
    for target, data in (("/console/investigations/new", {"primary_classification": "46/1"}),
                         (f"{path}/qa", {"version": "1"}), (f"{path}/entries", {"kind": "log", "text": "x"}),
                         (f"{path}/people", {"role": "suspect", "person_id": str(uuid.uuid4())}),
                         (f"{path}/people/new", {"role": "victim", "new-surname": "Carter", "new-forenames": "Ann",
                                                 "new-sex": "female"}),
                         (f"{path}/people/{uuid.uuid4()}/end", {"role": "suspect", "reason": "linked in error"})):
        response = officer.post(target, data=data)
        assert response.status_code == 400 and "did not come from Concord" in text(response), target
    page = text(officer.get(path))
    assert "Next step: qa" in page and "No one is linked yet" in page  # nothing moved, no one linked


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



def to_finalise(officer, path: str, user: str):
    """QA, allocate to the officer, acknowledge: the page then offers the finalise form."""
    for action, data in (("qa", {}), ("allocate", {"officer_in_charge": user}), ("acknowledge", {})):
        assert step(officer, officer.get(path), action, **data).status_code == 303, action
    return officer.get(path)


def link(officer, path: str, **data: str):
    return officer.post(f"{path}/people", data={"csrf_token": csrf(officer.get(path)), **data})


def test_a_suspect_found_as_you_type_is_linked_then_charged_and_the_crime_closed_with_outcome_1(console, north):
    surname = unique_name("Leon")
    suspect = north.create_person(surname=surname, forenames="Leon", date_of_birth="1985-05-05")
    officer = console("northshire", "officer", user="pc-2030")
    path = record_crime(officer)
    assert "No one is linked yet" in text(officer.get(path))
    found = officer.get(f"/console/investigations/candidates?name=Leon+{surname}")  # what htmx swaps in
    assert found.status_code == 200 and f"{surname}, Leon" in text(found)
    assert f'name="person_id" value="{suspect["id"]}"' in text(found)
    linked = link(officer, path, role="suspect", person_id=suspect["id"])
    assert linked.status_code == 303 and linked.headers["Location"].endswith(f"{path}#people")
    page = to_finalise(officer, path, "pc-2030")
    people = text(page)[text(page).index('id="people-table"'):]
    assert f'<a href="/console/people/{suspect["id"]}">{surname}, Leon</a></td><td data-label="Role">suspect' in people
    uncharged = step(officer, page, "finalise", outcome_type="1")
    assert uncharged.status_code == 409 and "needs a charge or summons on record" in text(uncharged)
    charged = officer.post(f"{path}/entries", data={"csrf_token": csrf(page), "kind": "charge",
                                                     "person_id": suspect["id"], "text": "Theft from a shop"})
    assert charged.status_code == 303, text(charged)
    done = step(officer, officer.get(path), "finalise", outcome_type="1", reason="Charged at Northtown")
    assert done.status_code == 303, text(done)
    final = text(officer.get(path))
    assert "1 (charged/summonsed): Charged at Northtown" in final
    assert "Link someone already recorded" not in final and "Record and link" not in final  # finalised
    api = north.get(f"/api/v1{path.removeprefix('/console')}").get_json()
    assert api["investigation"]["outcome_type"] == 1
    assert [(p["person_id"], p["role"]) for p in api["people"]] == [(suspect["id"], "suspect")]
    late = link(officer, path, role="witness", person_id=suspect["id"])
    assert late.status_code == 409 and "is finalised (outcome 1)" in text(late)


def test_an_adult_caution_needs_the_suspect_linked_and_follows_once_they_are(console, north):
    adult = north.create_person(surname=unique_name("Ada"), forenames="Ada", date_of_birth="1970-02-02")
    officer = console("northshire", "officer", user="pc-2031")
    path = record_crime(officer)
    page = to_finalise(officer, path, "pc-2031")
    refused = step(officer, page, "finalise", outcome_type="3")
    assert refused.status_code == 409 and "needs a suspect linked to the investigation" in text(refused)
    assert link(officer, path, role="suspect", person_id=adult["id"]).status_code == 303
    assert step(officer, officer.get(path), "finalise", outcome_type="3").status_code == 303
    assert "3 (caution – adult)" in text(officer.get(path))


def test_the_search_works_without_javascript_on_the_page_itself(console, north):
    surname = unique_name("Nojs")
    person = north.create_person(surname=surname, forenames="Petra")
    officer = console("northshire", "officer")
    path = record_crime(officer)
    page = text(officer.get(f"{path}?name=Petra+{surname}"))  # the Search button's GET form
    assert f'value="Petra {surname}"' in page and f'name="person_id" value="{person["id"]}"' in page
    bad = text(officer.get("/console/investigations/candidates?date_of_birth=yesterday"))
    assert 'href="#field-link-dob"' in bad and "Date of birth:" in bad


def test_linking_refusals_are_in_the_error_summary_linked_to_the_field(console, north, south):
    officer = console("northshire", "officer")
    path = record_crime(officer)
    nothing = link(officer, path)
    assert nothing.status_code == 422 and "There is a problem" in text(nothing)
    assert 'href="#field-link-role"' in text(nothing) and 'href="#field-link-name"' in text(nothing)
    assert 'id="field-link-role"' in text(nothing) and 'id="field-link-name"' in text(nothing)
    theirs = south.create_person(surname=unique_name("South"))
    foreign = link(officer, path, role="victim", person_id=theirs["id"])
    assert foreign.status_code == 422
    assert '<a href="#field-link-name">Person: no such person in this force</a>' in text(foreign)
    odd = link(officer, path, role="accomplice", person_id=theirs["id"])
    assert odd.status_code == 422 and '<a href="#field-link-role">Role: Must be one of' in text(odd)
    assert "No one is linked yet" in text(officer.get(path))


def test_someone_new_is_recorded_and_linked_in_one_step(console, north):
    surname = unique_name("Vic")
    officer = console("northshire", "officer")
    path = record_crime(officer)
    page = officer.get(path)
    empty = officer.post(f"{path}/people/new", data={"csrf_token": csrf(page)})
    assert empty.status_code == 422
    for name in ("new-role", "new-surname", "new-forenames", "new-sex"):  # every reason at once
        assert f'href="#field-{name}"' in text(empty) and f'id="field-{name}"' in text(empty), name
    created = officer.post(f"{path}/people/new", data={
        "csrf_token": csrf(page), "role": "victim", "new-surname": surname, "new-forenames": "Vera",
        "new-date_of_birth": "1990-09-09", "new-sex": "female"})
    assert created.status_code == 303, text(created)
    people = north.get(f"/api/v1{path.removeprefix('/console')}").get_json()["people"]
    assert [(p["surname"], p["role"]) for p in people] == [(surname, "victim")]
    person = north.get(f"/api/v1/people/{people[0]['person_id']}").get_json()
    assert person["date_of_birth"] == "1990-09-09" and person["sex"] == "female"
    assert f"{surname}, Vera</a></td><td data-label=\"Role\">victim" in text(officer.get(path))


def test_a_new_person_who_is_probably_recorded_already_is_offered_to_link_instead(console, north):
    surname = unique_name("Dupe")
    existing = north.create_person(surname=surname, forenames="Katherine", date_of_birth="1988-03-14")
    officer = console("northshire", "officer")
    path = record_crime(officer)
    form = {"csrf_token": csrf(officer.get(path)), "role": "witness", "new-surname": surname,
            "new-forenames": "Katherine", "new-date_of_birth": "1988-03-14", "new-sex": "female"}
    warned = officer.post(f"{path}/people/new", data=form)
    assert warned.status_code == 409 and "This person is probably recorded already" in text(warned)
    warning = text(warned)[text(warned).index('id="duplicate-warning"'):]
    assert f'name="person_id" value="{existing["id"]}"' in warning and 'name="role" value="witness"' in warning
    assert f'value="{surname}"' in text(warned) and "None of these: record as new and link" in text(warned)
    assert "No one is linked yet" in text(warned)  # nothing recorded
    assert link(officer, path, role="witness", person_id=existing["id"]).status_code == 303  # the candidate
    anyway = officer.post(f"{path}/people/new", data={**form, "confirm": "1"})
    assert anyway.status_code == 303
    people = north.get(f"/api/v1{path.removeprefix('/console')}").get_json()["people"]
    assert len(people) == 2 and existing["id"] in {p["person_id"] for p in people}
    assert {p["role"] for p in people} == {"witness"}


def test_another_forces_investigation_cannot_have_people_linked(console, north, south):
    theirs = record(south)
    person = north.create_person(surname=unique_name("Own"))
    surname = unique_name("New")
    officer = console("northshire", "officer")
    home = officer.get("/console/")
    for target, data in (("people", {"role": "suspect", "person_id": person["id"]}),
                         ("people/new", {"role": "suspect", "new-surname": surname, "new-forenames": "Al",
                                         "new-sex": "male"})):
        response = officer.post(f"/console/investigations/{theirs['id']}/{target}",
                                data={"csrf_token": csrf(home), **data})
        assert response.status_code == 404 and "Not found" in text(response), target
    assert south.get(f"/api/v1/investigations/{theirs['id']}").get_json()["people"] == []
    # the new person and the link are one transaction: refused together
    assert find(north, name=f"Al {surname}") == [] and find(north, name=f"Jane {person['surname']}")


def test_a_shared_investigation_shows_its_people_withheld_and_offers_no_linking(console, north, north_admin):
    suspect = north.create_person(surname=unique_name("Held"))
    inv = record(north, [(suspect, "suspect")])
    share(north_admin, record_types=["investigation"], field_profile={"investigation": {"masked": ["people"]}})
    officer = console("southshire", "officer")
    page = officer.get(f"/console/investigations/{inv['id']}")
    assert page.status_code == 200 and "read-only" in text(page)
    assert 'id="people-withheld"' in text(page) and suspect["surname"] not in text(page)
    assert "Link someone already recorded" not in text(page) and "Record and link" not in text(page)
    assert "Remove from this crime" not in text(page)
    linked = officer.post(f"/console/investigations/{inv['id']}/people",
                          data={"csrf_token": csrf(page), "role": "witness", "person_id": suspect["id"]})
    assert linked.status_code == 404
    assert [p["role"] for p in north.get(f"/api/v1/investigations/{inv['id']}").get_json()["people"]] == ["suspect"]


def test_a_suspect_is_removed_from_the_crime_with_the_reason_and_listed_as_a_former_role(console, north):
    surname = unique_name("Elim")
    suspect = north.create_person(surname=surname, forenames="Eli", date_of_birth="1984-04-04")
    officer = console("northshire", "officer", user="pc-2040")
    path = record_crime(officer)
    assert link(officer, path, role="suspect", person_id=suspect["id"]).status_code == 303
    page = officer.get(path)
    field = f"end-{suspect['id']}-suspect"
    row = text(page)[text(page).index('id="people-table"'):text(page).index("</table>")]
    assert "Remove from this crime" in row and f'<label for="field-{field}">Why they are no longer a suspect' in row
    assert f'action="{path}/people/{suspect["id"]}/end"' in row and 'name="role" value="suspect"' in row
    empty = officer.post(f"{path}/people/{suspect['id']}/end", data={"csrf_token": csrf(page), "role": "suspect",
                                                                      "reason": "  "})
    assert empty.status_code == 422 and "There is a problem" in text(empty)
    assert f'<a href="#field-{field}">Reason {surname}, Eli is removed as suspect: Missing data' in text(empty)
    assert f'id="field-{field}"' in text(empty) and 'class="remove-person" open' in text(empty)
    assert f'aria-describedby="hint-{field} error-{field}" aria-invalid="true"' in text(empty)
    removed = officer.post(f"{path}/people/{suspect['id']}/end", data={
        "csrf_token": csrf(page), "role": "suspect", "reason": "Eliminated: alibi confirmed by CCTV"})
    assert removed.status_code == 303 and removed.headers["Location"].endswith(f"{path}#people")
    after = text(officer.get(path))
    assert 'id="people-table"' not in after and "No one is linked yet" in after
    former = after[after.index('id="former-people-table"'):]
    assert f"{surname}, Eli</a></td><td data-label=\"Former role\">suspect" in former
    assert '<td data-label="Why">Eliminated: alibi confirmed by CCTV</td><td data-label="By">pc-2040' in former
    assert "No longer a suspect: Eliminated: alibi confirmed by CCTV" in after  # in the log
    assert 'value="charge"' not in after  # no suspect left to charge
    api = north.get(f"/api/v1{path.removeprefix('/console')}").get_json()
    assert api["people"] == [] and [f["person_id"] for f in api["former_people"]] == [suspect["id"]]
    page = to_finalise(officer, path, "pc-2040")
    refused = step(officer, page, "finalise", outcome_type="8")
    assert refused.status_code == 409 and "needs a suspect linked to the investigation" in text(refused)
    again = officer.post(f"{path}/people/{suspect['id']}/end", data={"csrf_token": csrf(page), "role": "suspect",
                                                                      "reason": "twice"})
    assert again.status_code == 404
