#!/usr/bin/python3
"""Browser check of the labmesh web page with a real headless Chromium (Selenium).

Usage: /usr/bin/python3 page_test.py URL HOSTNAME [HOSTNAME...]

Opens URL, waits until every HOSTNAME appears in the hosts table (the page fetches
/api/v1/hosts itself), then checks that the error banner is hidden and that the browser console
holds no SEVERE entries. Exits 0 when all of that holds; otherwise prints why and exits 1.

Run it with /usr/bin/python3: python3-selenium is a Debian package installed for the system
Python, not for a pyenv python3 that may come first on PATH.

Environment:
  LABMESH_PAGE_TIMEOUT_S   how long to wait for the hostnames (default 30)
  LABMESH_CHROMIUM         browser binary (default /usr/bin/chromium)
  LABMESH_CHROMEDRIVER     driver binary (default /usr/bin/chromedriver)
  LABMESH_PAGE_SCREENSHOT  if set, a PNG of the page is saved there at the end (pass or fail)
"""

import os
import shutil
import sys
import tempfile
import time


def fail(message):
    print("page_test: FAIL: " + message, file=sys.stderr)
    return 1


def visible_hostnames(driver):
    from selenium.webdriver.common.by import By
    return [cell.text.strip()
            for cell in driver.find_elements(By.CSS_SELECTOR, "#hosts-body td.hostname")]


def check(driver, url, expected, timeout_s):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    driver.get(url)
    deadline = time.monotonic() + timeout_s
    seen = []
    while True:
        try:
            seen = visible_hostnames(driver)
        except WebDriverException:
            seen = []  # the table is being redrawn; look again
        missing = [name for name in expected if name not in seen]
        if not missing:
            break
        if time.monotonic() >= deadline:
            banner = driver.find_element(By.ID, "error")
            banner_text = banner.text if banner.is_displayed() else "(hidden)"
            return fail("after %ss the hosts table shows %s; missing %s; error banner: %s"
                        % (timeout_s, seen, missing, banner_text))
        time.sleep(0.1)  # polling interval, not a wait for anything in particular

    banner = driver.find_element(By.ID, "error")
    if banner.is_displayed():
        return fail("the error banner is showing: " + banner.text)

    severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
    if severe:
        return fail("browser console has SEVERE entries:\n" +
                    "\n".join("  " + entry.get("message", "") for entry in severe))

    print("page_test: OK: %s shows %s" % (url, ", ".join(expected)))
    return 0


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 1
    url, expected = argv[1], argv[2:]
    timeout_s = float(os.environ.get("LABMESH_PAGE_TIMEOUT_S", "30"))
    chromium = os.environ.get("LABMESH_CHROMIUM", "/usr/bin/chromium")
    chromedriver = os.environ.get("LABMESH_CHROMEDRIVER", "/usr/bin/chromedriver")

    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        return fail("selenium is not importable by %s (%s); run with /usr/bin/python3"
                    % (sys.executable, e))

    profile = tempfile.mkdtemp(prefix="labmesh-page-test-")
    driver = None
    try:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--window-size=1440,900",
                     "--user-data-dir=" + profile):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        try:
            driver = webdriver.Chrome(service=Service(executable_path=chromedriver),
                                      options=options)
        except Exception as e:  # noqa: BLE001 - any start failure is reported the same way
            return fail("cannot start Chromium through %s: %s" % (chromedriver, e))
        driver.set_page_load_timeout(timeout_s)
        try:
            return check(driver, url, expected, timeout_s)
        except Exception as e:  # noqa: BLE001
            return fail("%s: %s" % (type(e).__name__, e))
        finally:
            screenshot = os.environ.get("LABMESH_PAGE_SCREENSHOT")
            if screenshot:
                driver.save_screenshot(screenshot)
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:  # noqa: BLE001
                pass
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
