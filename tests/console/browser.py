"""Driving Debian's Chromium with Selenium (no browser is downloaded), and axe-core on each page: what the
browser tests and scripts/console_screenshots.py share."""
from __future__ import annotations

import shutil
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SKIP_REASON = ("Chromium is absent: install Debian's chromium and chromium-driver "
               "(apt-get install -y chromium chromium-driver) to run the console's browser tests")


def chromium(width: int = 1280, height: int = 900) -> Any:
    """A headless Chromium under Selenium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER or ""), options=options)


def sign_in(driver: Any, base: str, force_name: str, user: str, *roles: str) -> None:
    """The console's sign-in page, the force, then the development provider's page: user and roles."""
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/console/sign-in")
    submit(driver, driver.find_element(By.LINK_TEXT, force_name))
    driver.find_element(By.ID, "field-user").send_keys(user)
    for role in roles:
        driver.find_element(By.ID, f"role-{role}").click()
    submit(driver, driver.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    wait_signed_in(driver)


def wait_signed_in(driver: Any) -> None:
    """Until the identity provider has sent the browser back and the console has opened its session."""
    from selenium.webdriver.common.by import By

    _wait(driver, lambda d: "/console/" in d.current_url and "/sign-in" not in d.current_url
          and d.find_elements(By.TAG_NAME, "h1"))


def submit(driver: Any, element: Any, seconds: float = 10) -> None:
    """Click what loads a new page (a form's button, a link) and wait until the new page has loaded.

    Until then a wait that reads the page can read the old one, or hit it while Chromium replaces it
    ("Node with given id does not belong to the document"), so the old page is marked and the wait is for
    a page without the mark; errors while the page is replaced are waited out."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.concordOldPage = true")
    element.click()
    WebDriverWait(driver, seconds, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return !window.concordOldPage && document.readyState === 'complete'"),
        message="the page did not load after the click")


def _wait(driver: Any, condition: Any, seconds: float = 10) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, seconds).until(condition)


def state_purpose(driver: Any, base: str, purpose: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/console/purpose?next=/console/")
    driver.find_element(By.ID, "field-purpose").send_keys(purpose)
    submit(driver, driver.find_element(By.CSS_SELECTOR, "main button[type=submit]"))
    _wait(driver, lambda d: "/console/purpose" not in d.current_url)


def serious_violations(driver: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page (its axe.min.js from axe-selenium-python)."""
    from axe_selenium_python import Axe

    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in results["violations"] if v["impact"] in ("serious", "critical")]
