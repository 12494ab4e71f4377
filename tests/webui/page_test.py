#!/usr/bin/python3
"""Browser check of the labmesh web page with a real headless Chromium (Selenium).

Usage: /usr/bin/python3 page_test.py URL [CHECK...] HOSTNAME [HOSTNAME...]

Opens URL, waits until every HOSTNAME appears in the hosts table (the page fetches
/api/v1/hosts itself), then makes the CHECKs, then checks that the error banner is hidden and
that the browser console holds no SEVERE entries. Exits 0 when all of that holds; otherwise
prints why and exits 1.

CHECKs (each may be given several times):
  --text HOST SELECTOR TEXT    the element SELECTOR (CSS) in HOST's row of the hosts table has
                               a text that contains TEXT
  --title HOST SELECTOR TEXT   ... has a title attribute (tooltip) that contains TEXT
  --history HOST TEXT          a click on HOST's row shows its history, which contains TEXT

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


def host_row_element(driver, host, selector):
    from selenium.webdriver.common.by import By
    for row in driver.find_elements(By.CSS_SELECTOR, "#hosts-body tr"):
        if row.get_attribute("data-hostname") == host:
            return row.find_element(By.CSS_SELECTOR, selector)
    raise LookupError("no row for host %r" % host)


def run_checks(driver, checks, timeout_s):
    """Each check must hold before the deadline (the table is redrawn every 2 s)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    for kind, args in checks:
        deadline = time.monotonic() + timeout_s
        clicked = False
        while True:
            got = None
            try:
                if kind == "history":
                    host, want = args
                    section = driver.find_element(By.ID, "history")
                    # A click on a selected host hides its history again: click only to open.
                    if not clicked and not section.is_displayed():
                        host_row_element(driver, host, "td.hostname").click()
                        clicked = True
                    got = section.text if section.is_displayed() else "(hidden)"
                else:
                    host, selector, want = args
                    element = host_row_element(driver, host, selector)
                    got = element.text if kind == "text" else element.get_attribute("title")
            except (WebDriverException, LookupError) as e:
                got = "(%s)" % e.__class__.__name__
            if got is not None and want in got:
                break
            if time.monotonic() >= deadline:
                return fail("--%s %s: wanted %r in %r" % (kind, " ".join(args), want, got))
            time.sleep(0.1)  # polling interval, not a wait for anything in particular
    return 0


def check(driver, url, expected, checks, timeout_s):
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

    if run_checks(driver, checks, timeout_s) != 0:
        return 1

    banner = driver.find_element(By.ID, "error")
    if banner.is_displayed():
        return fail("the error banner is showing: " + banner.text)

    severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
    if severe:
        return fail("browser console has SEVERE entries:\n" +
                    "\n".join("  " + entry.get("message", "") for entry in severe))

    print("page_test: OK: %s shows %s (%d checks)" % (url, ", ".join(expected), len(checks)))
    return 0


def parse_args(args):
    """(checks, hostnames) from the arguments after URL, or None when they are malformed."""
    arity = {"--text": 3, "--title": 3, "--history": 2}
    checks, hostnames = [], []
    i = 0
    while i < len(args):
        if args[i] in arity:
            n = arity[args[i]]
            if i + n >= len(args):
                return None
            checks.append((args[i][2:], tuple(args[i + 1:i + 1 + n])))
            i += 1 + n
        else:
            hostnames.append(args[i])
            i += 1
    return checks, hostnames


def main(argv):
    parsed = parse_args(argv[2:]) if len(argv) >= 3 else None
    if parsed is None or not parsed[1]:
        print(__doc__, file=sys.stderr)
        return 1
    url = argv[1]
    checks, expected = parsed
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
            return check(driver, url, expected, checks, timeout_s)
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
