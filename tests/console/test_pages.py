"""The console's pages through Flask's test client: signed in through the real OIDC flow, the same services,
permissions, masking and audit as the API, CSRF on every form, another force's record not found."""
from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest

from app.config import ConfigError, Settings
from tests.conftest import unique_name
from tests.console.conftest import csrf, sign_in
from tests.sharing.test_agreements import PURPOSE, share


def text(response) -> str:
    return response.get_data(as_text=True)


def test_every_page_needs_a_session(app):
    client = app.test_client()
    for path in ("/console/", "/console/people/search", f"/console/people/{uuid.uuid4()}", "/console/people/new",
                 "/console/agreements", "/console/access-log", "/console/custody", "/console/investigations/new",
                 f"/console/investigations/{uuid.uuid4()}"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"].startswith("/console/sign-in"), path
    assert client.get("/console/sign-in").status_code == 200
    partial = client.get("/console/people/search/results?name=x", headers={"HX-Request": "true"})
    assert partial.status_code == 204 and partial.headers["HX-Redirect"] == "/console/sign-in"


def test_sign_in_opens_a_server_side_session_with_safe_cookies_and_sign_out_ends_it(app):
    client = sign_in(app.test_client(), "northshire", "officer", user="pc-4411")
    cookie = client.get_cookie("concord_console", path="/console")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert cookie.value.startswith("northshire.")
    home = client.get("/console/")
    assert home.status_code == 200 and "pc-4411" in text(home) and "Northshire Police" in text(home)
    assert "form-action 'self'" in home.headers["Content-Security-Policy"]
    out = client.post("/console/sign-out", data={"csrf_token": csrf(home)})
    assert out.status_code == 303
    stolen = app.test_client()
    stolen.set_cookie("concord_console", cookie.value, path="/console")
    assert stolen.get("/console/").status_code == 303  # the row is gone: the old cookie opens nothing


def test_the_callback_refuses_a_state_it_did_not_start(app):
    client = app.test_client()
    client.get("/console/sign-in/northshire")
    response = client.get("/console/callback?code=forged&state=not-the-one")
    assert response.status_code == 400 and "could not be completed" in text(response)


def test_the_development_provider_refuses_a_code_without_its_verifier(app, services):
    from app.auth import dev_idp

    tenant = services.registry.by_slug("northshire")
    code = dev_idp.issue_code(services.dev_keys, tenant, user="pc-1", roles=["officer"],
                              redirect_uri="http://localhost/console/callback", code_challenge="abc")
    response = app.test_client().post("/dev-idp/northshire/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": "wrong",
        "redirect_uri": "http://localhost/console/callback"})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_every_form_needs_its_csrf_token(console):
    officer = console("northshire", "officer")
    for path, data in (("/console/purpose", {"purpose": "x"}), ("/console/people/new", {"surname": "A"}),
                       ("/console/sign-out", {})):
        response = officer.post(path, data=data)
        assert response.status_code == 400, path
        assert "did not come from Concord" in text(response) or path == "/console/sign-out"


def test_search_results_show_score_reasons_and_force_and_the_page_view_is_audited(console, north):
    surname = unique_name("Kestrel")
    north.create_person(surname=surname, forenames="Anna", date_of_birth="1990-01-02")
    officer = console("northshire", "officer")
    results = officer.get(f"/console/people/search/results?name=Anna+{surname}")
    assert results.status_code == 200
    body = text(results)
    assert f"{surname}, Anna" in body and "Northshire Police" in body and "exact surname" in body
    assert "<html" not in body  # the part htmx swaps in
    page = officer.get(f"/console/people/search?name={surname}")
    assert "<html" in text(page) and f"{surname}, Anna" in text(page)


def test_search_errors_name_the_field(console):
    officer = console("northshire", "officer")
    response = officer.get("/console/people/search/results?date_of_birth=31-31-1990")
    assert 'href="#field-date_of_birth"' in text(response)


def test_a_record_asks_for_a_purpose_first(console, north):
    person = north.create_person(surname=unique_name("Purp"))
    officer = console("northshire", "officer", purpose=False)
    asked = officer.get(f"/console/people/{person['id']}")
    assert asked.status_code == 200 and "Why do you need these records?" in text(asked)


def test_a_purpose_that_would_read_as_other_text_is_asked_again(console):
    officer = console("northshire", "officer", purpose=False)
    page = officer.get("/console/purpose")
    refused = officer.post("/console/purpose", data={"purpose": "Incident 9/25 \u202efdp", "next": "/console/",
                                                     "csrf_token": csrf(page)})
    assert refused.status_code == 422 and "in plain text" in text(refused)


def test_a_shared_person_is_read_only_with_its_masked_field_withheld(console, north, north_admin, south):
    surname = unique_name("Shared")
    person = north.create_person(surname=surname, forenames="Ruth", date_of_birth="1971-07-07")
    share(north_admin, field_profile={"person": {"masked": ["date_of_birth"]}})
    officer = console("southshire", "officer")
    found = text(officer.get(f"/console/people/search/results?name={surname}"))
    assert "shared, read-only" in found and "withheld" in found and "1971" not in found
    page = text(officer.get(f"/console/people/{person['id']}"))
    assert "Shared with your force: read-only" in page and "1971" not in page
    assert '<dd id="detail-date_of_birth"><span class="withheld">withheld</span></dd>' in page
    assert "Your force sees it under 1 agreement of Northshire Police" in page
    owner = text(console("northshire", "officer").get(f"/console/people/{person['id']}"))
    assert '<ul class="plain" id="visible-to"><li>Southshire Constabulary, without date of birth</li>' in owner
    log = north_admin.get("/api/v1/sharing/access-log", headers=PURPOSE).get_json()["items"]
    assert any(entry["record_id"] == person["id"] and entry["purpose"].startswith("Operation Kestrel")
               for entry in log)


def _consultations(auditor, record_id, user):
    events = auditor.get(f"/api/v1/audit?record_id={record_id}&user={user}").get_json()["items"]
    return [e for e in events if e["action"] == "consultation"]


def _linked(api, a, b, link_type, **fields):
    response = api.post("/api/v1/links", json={"from": {"type": "person", "id": a["id"]},
                                               "to": {"type": "person", "id": b["id"]}, "link_type": link_type,
                                               **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_person_page_view_is_one_consultation_of_each_record_it_shows_and_the_network_is_asked_for(
        console, north, as_user):
    anna, ben, cara = (north.create_person(surname=unique_name(n), forenames=n) for n in ("Anna", "Ben", "Cara"))
    known = _linked(north, anna, ben, "associate", valid_from="2025-01-01")
    _linked(north, ben, cara, "family")
    officer = console("northshire", "officer", user="pc-page-1")
    page = text(officer.get(f"/console/people/{anna['id']}"))
    assert f'<a href="/console/people/{ben["id"]}">person {ben["id"][:8]}</a>' in page and "2025-01-01" in page
    assert "Only your force: no agreement in force shares it." in page
    assert f'hx-get="/console/people/{anna["id"]}/network"' in page and cara["id"][:8] not in page
    auditor = as_user("northshire", "auditor", user="aud-page")
    viewed = _consultations(auditor, anna["id"], "pc-page-1")
    assert len(viewed) == 1 and viewed[0]["purpose"].startswith("Operation Kestrel")  # explain folded in
    assert len(_consultations(auditor, known["id"], "pc-page-1")) == 1

    part = text(officer.get(f"/console/people/{anna['id']}/network", headers={"HX-Request": "true"}))
    assert "<html" not in part and "2 linked within 2 links" in part
    rows = part.split("<tr>")[2:]
    assert ben["id"][:8] in rows[0] and "direct" in rows[0] and "associate" in rows[0]
    assert cara["id"][:8] in rows[1] and "second degree" in rows[1] and "associate → family" in rows[1]
    assert [e["details"].get("via") for e in _consultations(auditor, anna["id"], "pc-page-1")].count("network") == 1
    whole = text(officer.get(f"/console/people/{anna['id']}/network"))
    assert "<html" in whole and "Back to the person" in whole and "second degree" in whole
    other = console("southshire", "officer")
    assert other.get(f"/console/people/{anna['id']}/network").status_code == 404


def test_a_shared_persons_links_are_read_only_with_masked_dates_withheld(console, north, north_admin):
    anna, ben = (north.create_person(surname=unique_name(n), forenames=n) for n in ("Anna", "Ben"))
    _linked(north, anna, ben, "associate", valid_from="2024-02-03")
    share(north_admin, record_types=["person", "link"], field_profile={"link": {"masked": ["valid_from"]}})
    page = text(console("southshire", "officer").get(f"/console/people/{anna['id']}"))
    row = page.split('<table class="responsive" id="links">')[1].split("</table>")[0]
    assert 'class="shared"' in row and "Northshire Police's, read-only" in row and "associate" in row
    assert '<td data-label="From"><span class="withheld">withheld</span></td>' in row and "2024-02-03" not in page


def test_a_person_held_in_another_forces_own_database_opens_read_only(console, as_user):
    from tests.sharing.test_dedicated import share as share_from_dedicated

    lake = as_user("lakeshire", "investigator")
    person = lake.create_person(surname=unique_name("Lake"), forenames="Isla", date_of_birth="1980-04-04")
    friend = lake.create_person(surname=unique_name("Lake"), forenames="Finn")
    _linked(lake, person, friend, "associate", valid_from="2024-02-03")
    share_from_dedicated(as_user("lakeshire", "force_admin", user="lk-admin"), consumer_force="northshire",
                         record_types=["person", "link"], field_profile={"person": {"masked": ["date_of_birth"]}})
    page = console("northshire", "officer").get(f"/console/people/{person['id']}")
    assert page.status_code == 200, text(page)
    body = text(page)
    assert "Held by <strong>Lakeshire" in body and "Shared with your force: read-only" in body
    assert '<dd id="detail-date_of_birth"><span class="withheld">withheld</span></dd>' in body and "1980" not in body
    row = body.split('<table class="responsive" id="links">')[1].split("</table>")[0]
    assert "associate" in row and "Lakeshire Constabulary's, read-only" in row and friend["id"][:8] in row
    assert "Your force sees it under 1 agreement of Lakeshire" in body and "Show the network" not in body


def test_another_forces_person_is_not_found(console, south):
    person = south.create_person(surname=unique_name("Other"))
    officer = console("northshire", "officer")
    response = officer.get(f"/console/people/{person['id']}")
    assert response.status_code == 404 and "Not found" in text(response)
    results = text(officer.get(f"/console/people/search/results?name={person['surname']}"))
    assert person["id"] not in results


def test_recording_a_person_warns_of_the_probable_duplicate(console, north):
    surname = unique_name("Dup")
    existing = north.create_person(surname=surname, forenames="Katherine", date_of_birth="1988-03-14")
    officer = console("northshire", "officer")
    form = officer.get("/console/people/new")
    data = {"surname": surname, "forenames": "Katherine", "date_of_birth": "1988-03-14", "sex": "female",
            "csrf_token": csrf(form)}
    warned = officer.post("/console/people/new", data=data)
    assert warned.status_code == 409
    assert "probably recorded already" in text(warned) and existing["id"] in text(warned)
    created = officer.post("/console/people/new", data={**data, "confirm": "1"})
    assert created.status_code == 303 and "/console/people/" in created.headers["Location"]


def test_recording_a_person_shows_the_apis_reasons_in_an_error_summary(console):
    officer = console("northshire", "officer")
    form = officer.get("/console/people/new")
    response = officer.post("/console/people/new", data={"forenames": "X", "csrf_token": csrf(form)})
    assert response.status_code == 422
    assert 'href="#field-surname"' in text(response) and "There is a problem" in text(response)


def test_an_officer_cannot_open_the_agreements(console):
    officer = console("northshire", "officer")
    assert officer.get("/console/agreements").status_code == 403


def test_the_auditor_finds_a_page_view_in_the_trail_with_its_stated_purpose(console, north):
    person = north.create_person(surname=unique_name("Audited"))
    officer = console("northshire", "officer", user="pc-audited")
    assert officer.get(f"/console/people/{person['id']}").status_code == 200
    auditor = console("northshire", "auditor", user="aud-1")
    trail = text(auditor.get(f"/console/audit?record_id={person['id']}&user=pc-audited"))
    assert "consultation" in trail and "Operation Kestrel" in trail and "0 events" not in trail
    assert 'href="#field-from"' in text(auditor.get("/console/audit?from=yesterday"))
    assert officer.get("/console/audit").status_code == 403


def test_your_tasks_page_lists_what_is_yours(console):
    page = console("northshire", "officer").get("/console/tasks")
    assert page.status_code == 200 and "Your tasks" in text(page)


def _app(settings, **changes):
    from dataclasses import replace

    from app import create_app

    return create_app(replace(settings, **changes))


def _callback_on(other, started) -> str:
    """Start signing in on one server and come back to another (two machines behind one load balancer)."""
    client = started.test_client()
    start = client.get("/console/sign-in/northshire")
    state = dict(parse_qsl(urlsplit(start.headers["Location"]).query))["state"]
    flow = client.get_cookie("concord_console_flow", path="/")
    assert flow is not None
    back = other.test_client()
    back.set_cookie("concord_console_flow", flow.value, path="/")
    return text(back.get(f"/console/callback?code=forged&state={state}"))


def test_machines_given_the_same_console_secret_share_the_sign_in_and_development_keeps_one_per_machine(
        settings, tmp_path):
    secret = "k" * 40
    first, second = (_app(settings, var_dir=tmp_path / name, console_secret=secret) for name in ("a", "b"))
    mine, theirs = (_app(settings, var_dir=tmp_path / name) for name in ("c", "d"))
    try:
        assert first.secret_key == secret and not (tmp_path / "a" / "console-secret").exists()
        # the other machine read the flow cookie: it got as far as the (forged) code
        assert "answer was refused" in _callback_on(second, first)
        # development: each machine signs with a key of its own, kept under its var/ (owner-readable only)
        assert "could not be completed" in _callback_on(theirs, mine)
        kept = tmp_path / "c" / "console-secret"
        assert kept.read_text() == mine.secret_key and oct(kept.stat().st_mode & 0o777) == "0o600"
        again = _app(settings, var_dir=tmp_path / "c")
        assert again.secret_key == mine.secret_key  # every worker of the machine shares it
        again.extensions["concord"].databases.dispose()
    finally:
        for each in (first, second, mine, theirs):
            each.extensions["concord"].databases.dispose()


def test_production_needs_the_console_secret_from_its_configuration(settings):
    with pytest.raises(ConfigError, match="CONCORD_CONSOLE_SECRET: required in production"):
        _app(settings, environment="production", dev_idp=False, console_secret=None)
    with pytest.raises(ConfigError, match="CONCORD_CONSOLE_SECRET: must be at least 32 characters, not 6"):
        Settings.from_env({"CONCORD_ENV": "production", "CONCORD_CONSOLE_SECRET": "secret"})
    configured = Settings.from_env({"CONCORD_ENV": "production", "CONCORD_CONSOLE_SECRET": "p" * 48})
    production = _app(settings, environment="production", dev_idp=False, console_secret=configured.console_secret)
    try:
        assert production.secret_key == "p" * 48
    finally:
        production.extensions["concord"].databases.dispose()
