"""Screenshots of the console's main pages into docs/console/, from a running Concord with its demo data.

    make run                                   # in one terminal (serves on http://127.0.0.1:5000)
    .venv/bin/python scripts/console_screenshots.py [--base http://127.0.0.1:5000] [--only crime ...]

Drives Debian's Chromium (apt-get install -y chromium chromium-driver) with Selenium, signing in through the
development identity provider as a person would. Only the crime pages record anything: a shoplifting, with the
demo person Daniel Okafor linked as its suspect, charged and closed with outcome 1 (one more crime in the demo
data at each run). Elsewhere the duplicate warning is a refused recording, and the agreement form is shown, not
sent.
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from tests.console import browser  # noqa: E402

OUT = ROOT / "docs" / "console"
PURPOSE = "Operation Kestrel: locating a missing person"


def shoot(driver, name: str, width: int = 1280) -> None:
    """The whole page at `width` CSS pixels (device metrics emulated: a window cannot be narrower than ~500 px)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600})
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": min(max(height, 600), 2400), "deviceScaleFactor": 1,
                            "mobile": width < 600})
    driver.save_screenshot(str(OUT / f"{name}.png"))
    print(f"docs/console/{name}.png")


def people_pages(base: str) -> None:
    """Sign-in, search, a person, the duplicate warning; search on a phone."""
    driver = browser.chromium(1280, 800)
    try:
        driver.get(f"{base}/console/sign-in")
        shoot(driver, "sign-in")
        browser.submit(driver, driver.find_element(By.LINK_TEXT, "Northshire Police"))
        driver.find_element(By.ID, "field-user").send_keys("pc-101")
        driver.find_element(By.ID, "role-officer").click()
        shoot(driver, "dev-idp-sign-in")
        browser.submit(driver, driver.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        browser.wait_signed_in(driver)
        browser.state_purpose(driver, base, PURPOSE)
        driver.get(f"{base}/console/people/search?name=Kate+Smith-Jones")
        shoot(driver, "search")
        browser.submit(driver, driver.find_element(By.CSS_SELECTOR, "#results tbody a"))
        shoot(driver, "person")
        driver.get(f"{base}/console/people/new")
        for field, value in (("surname", "Smith-Jones"), ("forenames", "Katherine"),
                             ("date_of_birth", "1988-03-14")):
            driver.find_element(By.ID, f"field-{field}").send_keys(value)
        browser.submit(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
        shoot(driver, "duplicate-warning")
    finally:
        driver.quit()

    driver = browser.chromium(800, 800)
    try:
        browser.sign_in(driver, base, "Northshire Police", "pc-101", "officer")
        browser.state_purpose(driver, base, PURPOSE)
        driver.get(f"{base}/console/people/search?name=Smith")
        shoot(driver, "search-320px", width=320)  # an officer's phone
    finally:
        driver.quit()


def admin_pages(base: str) -> None:
    """Proposing an agreement, the agreements."""
    driver = browser.chromium(1280, 800)
    try:
        browser.sign_in(driver, base, "Northshire Police", "collab-admin-1", "force_admin", "collaboration_admin")
        driver.get(f"{base}/console/agreements/new")
        shoot(driver, "agreement-propose")
        driver.get(f"{base}/console/agreements")
        shoot(driver, "agreements")
    finally:
        driver.quit()


def custody_pages(base: str) -> None:
    """The suite board and a detainee's record."""
    driver = browser.chromium(1280, 800)
    try:
        browser.sign_in(driver, base, "Northshire Police", "ps-custody-1", "custody_officer")
        browser.state_purpose(driver, base, "Custody suite duty")
        driver.get(f"{base}/console/custody")
        shoot(driver, "custody-board")
        links = driver.find_elements(By.CSS_SELECTOR, "#board-table a")
        if links:
            browser.submit(driver, links[0])
            shoot(driver, "custody-record")
    finally:
        driver.quit()


def _until(driver, css: str, text: str) -> None:
    WebDriverWait(driver, 10).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))


def crime_pages(base: str) -> None:
    """Recording a crime, linking its suspect found as you type (also on a phone), the crime charged and closed."""
    driver = browser.chromium(1280, 800)
    try:
        browser.sign_in(driver, base, "Northshire Police", "pc-101", "officer")
        browser.state_purpose(driver, base, "Shoplifting at Northtown Co-op")
        driver.get(f"{base}/console/investigations/new")
        when = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
        for field, value in (("primary_classification", "46/1"), ("occurred_at", when.isoformat()),
                             ("summary", "Two bottles of whisky taken from the Northtown Co-op; the man was seen "
                                         "on CCTV and named by the store manager")):
            driver.find_element(By.ID, f"field-{field}").send_keys(value)
        shoot(driver, "crime-record")
        browser.submit(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
        _until(driver, "#status", "recorded")
        driver.find_element(By.ID, "link-role-suspect").click()
        driver.find_element(By.ID, "field-link-name").send_keys("Daniel Okafor")  # htmx searches as you type
        _until(driver, "#candidates", "Okafor, Daniel")
        shoot(driver, "crime-link-suspect")
        browser.submit(driver, driver.find_element(By.CSS_SELECTOR, "#candidates tbody button"))
        _until(driver, "#people-table", "suspect")
        shoot(driver, "crime-320px", width=320)  # the suspect linked, as on an officer's phone
        for button, status in (("Passed QA", "qa"), ("Allocate", "allocated"),
                               ("Acknowledge and investigate", "under investigation")):
            browser.submit(driver, driver.find_element(By.XPATH, f"//button[text()='{button}']"))
            _until(driver, "#status", status)
        Select(driver.find_element(By.ID, "field-kind")).select_by_value("charge")
        Select(driver.find_element(By.ID, "field-person_id")).select_by_visible_text("Okafor, Daniel")
        driver.find_element(By.ID, "field-text").send_keys("Charged with theft from a shop (Theft Act 1968 s.1)")
        browser.submit(driver, driver.find_element(By.XPATH, "//button[text()='Add entry']"))
        _until(driver, "main table:last-of-type", "Charged with theft")
        Select(driver.find_element(By.ID, "field-outcome_type")).select_by_value("1")
        driver.find_element(By.ID, "field-reason").send_keys("Charged; first hearing at Northtown magistrates")
        browser.submit(driver, driver.find_element(By.XPATH, "//button[text()='Finalise']"))
        _until(driver, "#status", "finalised")
        shoot(driver, "crime-outcome")
    finally:
        driver.quit()


PAGES = {"people": people_pages, "admin": admin_pages, "custody": custody_pages, "crime": crime_pages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--only", nargs="+", choices=sorted(PAGES), help="only these pages' screenshots")
    args = parser.parse_args()
    if not (browser.CHROMIUM and browser.CHROMEDRIVER):
        print(browser.SKIP_REASON, file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    for name in args.only or PAGES:
        PAGES[name](args.base.rstrip("/"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
