"""Screenshots of the console's main pages into docs/console/, from a running Concord with its demo data.

    make run                                   # in one terminal (serves on http://127.0.0.1:5000)
    .venv/bin/python scripts/console_screenshots.py [--base http://127.0.0.1:5000]

Drives Debian's Chromium (apt-get install -y chromium chromium-driver) with Selenium, signing in through the
development identity provider as a person would. It records nothing: the duplicate warning is a refused
recording, and the agreement form is shown, not sent.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selenium.webdriver.common.by import By  # noqa: E402

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    args = parser.parse_args()
    if not (browser.CHROMIUM and browser.CHROMEDRIVER):
        print(browser.SKIP_REASON, file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    base = args.base.rstrip("/")

    driver = browser.chromium(1280, 800)
    try:
        driver.get(f"{base}/console/sign-in")
        shoot(driver, "sign-in")
        driver.find_element(By.LINK_TEXT, "Northshire Police").click()
        driver.find_element(By.ID, "field-user").send_keys("pc-101")
        driver.find_element(By.ID, "role-officer").click()
        shoot(driver, "dev-idp-sign-in")
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        browser.wait_signed_in(driver)
        browser.state_purpose(driver, base, PURPOSE)
        driver.get(f"{base}/console/people/search?name=Kate+Smith-Jones")
        shoot(driver, "search")
        driver.find_element(By.CSS_SELECTOR, "#results tbody a").click()
        shoot(driver, "person")
        driver.get(f"{base}/console/people/new")
        for field, value in (("surname", "Smith-Jones"), ("forenames", "Katherine"),
                             ("date_of_birth", "1988-03-14")):
            driver.find_element(By.ID, f"field-{field}").send_keys(value)
        driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
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

    driver = browser.chromium(1280, 800)
    try:
        browser.sign_in(driver, base, "Northshire Police", "collab-admin-1", "force_admin", "collaboration_admin")
        driver.get(f"{base}/console/agreements/new")
        shoot(driver, "agreement-propose")
        driver.get(f"{base}/console/agreements")
        shoot(driver, "agreements")
    finally:
        driver.quit()

    driver = browser.chromium(1280, 800)
    try:
        browser.sign_in(driver, base, "Northshire Police", "ps-custody-1", "custody_officer")
        browser.state_purpose(driver, base, "Custody suite duty")
        driver.get(f"{base}/console/custody")
        shoot(driver, "custody-board")
        links = driver.find_elements(By.CSS_SELECTOR, "#board-table a")
        if links:
            links[0].click()
            shoot(driver, "custody-record")
    finally:
        driver.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
