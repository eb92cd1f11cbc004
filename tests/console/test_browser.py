"""The console in a real browser: Debian's Chromium driven by Selenium against a running Concord (a werkzeug
server on a free port, serving the test's app), with axe-core on every page: no serious or critical violation.

The server is single-threaded, so the browser's requests take turns on the test's one rolled-back connection."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.conftest import unique_name
from tests.console import browser
from tests.console.test_investigation_pages import WHEN
from tests.custody.test_records import NOW, book, iso
from tests.sharing.test_agreements import share

pytestmark = pytest.mark.skipif(not (browser.CHROMIUM and browser.CHROMEDRIVER), reason=browser.SKIP_REASON)
PURPOSE = "Operation Kestrel: locating a missing person"


@pytest.fixture
def base(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def driver():
    chrome = browser.chromium()
    try:
        yield chrome
    finally:
        chrome.quit()


def by(kind: str):
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


def wait_for(driver, css: str, text: str = "", seconds: float = 10):
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    if text:
        WebDriverWait(driver, seconds).until(ec.text_to_be_present_in_element((by("CSS_SELECTOR"), css), text))
    else:
        WebDriverWait(driver, seconds).until(ec.presence_of_element_located((by("CSS_SELECTOR"), css)))
    return driver.find_element(by("CSS_SELECTOR"), css)


def accessible(driver) -> None:
    violations = browser.serious_violations(driver)
    assert not violations, (driver.current_url, violations)


def test_a_collaboration_administrator_takes_an_agreement_from_proposal_to_active(base, driver):
    browser.sign_in(driver, base, "Northshire Police", "collab-admin-1", "force_admin", "collaboration_admin")
    wait_for(driver, "h1", "Concord for Northshire Police")
    accessible(driver)
    driver.get(f"{base}/console/agreements/new")
    accessible(driver)
    driver.find_element(by("ID"), "type-person").click()
    driver.find_element(by("ID"), "mask-person-date_of_birth").click()
    driver.find_element(by("ID"), "field-purpose").send_keys("Cross-border missing persons")
    driver.find_element(by("ID"), "field-lawful_basis").send_keys("DPA 2018 s.35")
    browser.submit(driver, driver.find_element(by("CSS_SELECTOR"), "main form button[type=submit]"))
    assert wait_for(driver, "#agreement-status").text == "proposed"
    accessible(driver)
    browser.submit(driver, driver.find_element(by("XPATH"), "//button[text()='Simulate']"))
    wait_for(driver, "#simulation")
    driver.find_element(by("ID"), "field-reason").send_keys("as agreed at the tri-force board")
    browser.submit(driver, driver.find_element(by("XPATH"), "//button[text()='Approve']"))
    assert wait_for(driver, "#agreement-status", "active").text == "active"
    assert "as agreed at the tri-force board" in driver.find_element(by("TAG_NAME"), "main").text
    driver.get(f"{base}/console/agreements")
    assert "active" in wait_for(driver, "main table").text
    accessible(driver)


def test_an_officer_of_the_other_force_finds_the_shared_person_with_the_masked_field_withheld(
        base, driver, north, north_admin):
    surname = unique_name("Shared")
    north.create_person(surname=surname, forenames="Ruth", date_of_birth="1971-07-07")
    share(north_admin, field_profile={"person": {"masked": ["date_of_birth"]}})
    browser.sign_in(driver, base, "Southshire Constabulary", "pc-2002", "officer")
    wait_for(driver, "h1", "Southshire")
    browser.state_purpose(driver, base, PURPOSE)
    driver.get(f"{base}/console/people/search")
    accessible(driver)
    driver.find_element(by("ID"), "field-name").send_keys(f"Ruth {surname}")  # htmx searches as you type
    row = wait_for(driver, "#results tbody tr", "withheld")
    assert "Northshire Police" in row.text and "shared, read-only" in row.text and "1971" not in row.text
    accessible(driver)
    browser.submit(driver, row.find_element(by("TAG_NAME"), "a"))
    assert wait_for(driver, "#detail-date_of_birth").text == "withheld"
    assert "read-only" in driver.find_element(by("TAG_NAME"), "main").text
    accessible(driver)


def test_recording_a_person_gives_the_duplicate_warning(base, driver, north):
    surname = unique_name("Dup")
    north.create_person(surname=surname, forenames="Katherine", date_of_birth="1988-03-14")
    browser.sign_in(driver, base, "Northshire Police", "pc-101", "officer")
    wait_for(driver, "h1", "Northshire")
    driver.get(f"{base}/console/people/new")
    accessible(driver)
    browser.submit(driver, driver.find_element(by("CSS_SELECTOR"), "main form button[type=submit]"))  # nothing filled
    summary = wait_for(driver, "#error-summary")
    summary.find_element(by("PARTIAL_LINK_TEXT"), "Surname").click()  # the summary links to the field
    assert driver.switch_to.active_element.get_attribute("id") == "field-surname"
    accessible(driver)
    driver.find_element(by("ID"), "field-surname").send_keys(surname)
    driver.find_element(by("ID"), "field-forenames").send_keys("Katherine")
    driver.find_element(by("ID"), "field-date_of_birth").send_keys("1988-03-14")
    browser.submit(driver, driver.find_element(by("CSS_SELECTOR"), "main form button[type=submit]"))
    warning = wait_for(driver, "#duplicate-warning")
    assert "probably recorded already" in warning.text and f"{surname}, Katherine" in warning.text
    accessible(driver)


def test_a_custody_officer_sees_the_board_and_the_detainees_clock(base, driver, as_user):
    record = book(as_user("northshire", "custody_officer", user="ps-custody-1"))
    browser.sign_in(driver, base, "Northshire Police", "ps-custody-1", "custody_officer")
    wait_for(driver, "h1", "Northshire")
    browser.state_purpose(driver, base, "Custody suite duty")
    driver.get(f"{base}/console/custody")
    table = wait_for(driver, "#board-table")
    assert record["custody_number"] in table.text
    accessible(driver)
    assert "Next due" in table.text and "review" in table.text
    browser.submit(driver, table.find_element(by("XPATH"), f"//tr[contains(., '{record['custody_number']}')]//a"))
    wait_for(driver, "h1", record["custody_number"])
    assert "Detention limit" in driver.find_element(by("TAG_NAME"), "main").text
    accessible(driver)
    for kind in ("risk_assessment", "appropriate_adult", "correction"):  # lines, yes or no, the entry corrected
        driver.get(f"{base}/console/custody/records/{record['id']}?kind={kind}")
        wait_for(driver, "main form textarea, main form select[id^=field-data], #field-corrects_id")
        accessible(driver)
    driver.find_element(by("ID"), "field-occurred_at").send_keys(iso(NOW))
    driver.find_element(by("ID"), "field-data-reason").send_keys("wrong cell")
    browser.submit(driver, driver.find_element(by("XPATH"), "//button[text()='Add entry']"))  # no entry chosen
    wait_for(driver, "#error-summary").find_element(by("PARTIAL_LINK_TEXT"), "Entry corrected").click()
    assert driver.switch_to.active_element.get_attribute("id") == "field-corrects_id"
    accessible(driver)


def test_an_officer_records_a_crime_links_the_suspect_and_reaches_the_charge_outcome(base, driver, north):
    from selenium.webdriver.support.ui import Select

    surname = unique_name("Suspect")
    north.create_person(surname=surname, forenames="Leon", date_of_birth="1985-05-05")
    browser.sign_in(driver, base, "Northshire Police", "pc-3030", "officer")
    wait_for(driver, "h1", "Northshire")
    browser.state_purpose(driver, base, PURPOSE)
    browser.submit(driver, driver.find_element(by("LINK_TEXT"), "Record a crime"))
    wait_for(driver, "h1", "Record a crime")
    accessible(driver)
    for field, value in (("primary_classification", "46/1"), ("occurred_at", WHEN),
                         ("summary", "Shoplifting at Northtown Co-op")):
        driver.find_element(by("ID"), f"field-{field}").send_keys(value)
    browser.submit(driver, driver.find_element(by("CSS_SELECTOR"), "main form button[type=submit]"))
    assert wait_for(driver, "#status").text == "recorded"
    accessible(driver)
    driver.find_element(by("CSS_SELECTOR"), "#new-person summary").click()  # the form to record someone new opens
    browser.submit(driver, driver.find_element(by("XPATH"), "//button[text()='Record and link']"))  # nothing filled in
    summary = wait_for(driver, "#error-summary")
    summary.find_element(by("PARTIAL_LINK_TEXT"), "Surname").click()  # the summary links to the field
    assert driver.switch_to.active_element.get_attribute("id") == "field-new-surname"
    accessible(driver)
    driver.find_element(by("ID"), "link-role-suspect").click()
    driver.find_element(by("ID"), "field-link-name").send_keys(f"Leon {surname}")  # htmx searches as you type
    browser.submit(driver, wait_for(driver, "#candidates tbody tr", surname).find_element(by("TAG_NAME"), "button"))
    assert f"{surname}, Leon" in wait_for(driver, "#people-table", "suspect").text
    accessible(driver)
    driver.find_element(by("CSS_SELECTOR"), "#people-table details summary").click()  # remove them: asks why
    browser.submit(driver, driver.find_element(by("CSS_SELECTOR"), "#people-table details button"))  # no reason
    wait_for(driver, "#error-summary").find_element(by("PARTIAL_LINK_TEXT"), "is removed as suspect").click()
    assert driver.switch_to.active_element.get_attribute("name") == "reason"  # the open form's field, focused
    accessible(driver)
    for button, status in (("Passed QA", "qa"), ("Allocate", "allocated"),
                           ("Acknowledge and investigate", "under investigation")):
        browser.submit(driver, driver.find_element(by("XPATH"), f"//button[text()='{button}']"))
        assert wait_for(driver, "#status", status).text == status
    Select(driver.find_element(by("ID"), "field-kind")).select_by_value("charge")
    Select(driver.find_element(by("ID"), "field-person_id")).select_by_visible_text(f"{surname}, Leon")
    driver.find_element(by("ID"), "field-text").send_keys("Theft from a shop")
    browser.submit(driver, driver.find_element(by("XPATH"), "//button[text()='Add entry']"))
    Select(wait_for(driver, "#field-outcome_type")).select_by_value("1")
    browser.submit(driver, driver.find_element(by("XPATH"), "//button[text()='Finalise']"))
    assert wait_for(driver, "#status", "finalised").text == "finalised"
    assert "1 (charged/summonsed)" in driver.find_element(by("TAG_NAME"), "main").text
    accessible(driver)


def test_the_admin_and_auditor_pages_pass_axe(base, driver):
    browser.sign_in(driver, base, "Northshire Police", "admin-1", "force_admin", "auditor")
    browser.state_purpose(driver, base, PURPOSE)
    for path in ("/console/", "/console/access-log", "/console/audit?from=yesterday", "/console/audit",
                 "/console/tasks", "/console/agreements", "/console/purpose"):
        driver.get(f"{base}{path}")
        wait_for(driver, "h1")
        accessible(driver)
    driver.get(f"{base}/console/sign-in")
    accessible(driver)
