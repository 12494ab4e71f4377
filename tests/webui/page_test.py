#!/usr/bin/python3
"""Browser check of the labmesh web page with a real headless Chromium (Selenium).

Usage: /usr/bin/python3 page_test.py URL [--login USER TOKEN | --login-password USER PASSWORD]
                                         [CHECK...] [--logout] HOSTNAME [HOSTNAME...]

Opens URL; with --login/--login-password, first expects the page to send the browser to the
login page (/login?next=...), logs in there with the API token or password, and expects to come
back to URL showing USER as signed in, with no session cookie readable by script (HttpOnly).
Then waits until every HOSTNAME appears in the hosts table (the page fetches /api/v1/hosts
itself), makes the CHECKs, and checks that the error banner is hidden and that the browser
console holds no SEVERE entries (the 401s that sent it to the login page aside). With --logout
it then clicks the page's logout button and expects to land on the login page. Exits 0 when
all of that holds; otherwise prints why and exits 1.

CHECKs (each may be given several times):
  --text HOST SELECTOR TEXT    the element SELECTOR (CSS) in HOST's row of the hosts table has
                               a text that contains TEXT
  --title HOST SELECTOR TEXT   ... has a title attribute (tooltip) that contains TEXT
  --history HOST TEXT          a click on HOST's row shows its history, which contains TEXT
  --versions VERSION COUNT     the agent versions line says COUNT hosts run VERSION

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
import urllib.parse


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
                if kind == "versions":
                    version, want = args
                    for item in driver.find_elements(By.CSS_SELECTOR, "#versions-list .version"):
                        if item.get_attribute("data-version") == version:
                            got = item.get_attribute("data-hosts")
                    if got is not None and not driver.find_element(By.ID, "versions").is_displayed():
                        got = "(hidden)"
                elif kind == "history":
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
            if got is not None and (got == want if kind == "versions" else want in got):
                break
            if time.monotonic() >= deadline:
                return fail("--%s %s: wanted %r in %r" % (kind, " ".join(args), want, got))
            time.sleep(0.1)  # polling interval, not a wait for anything in particular
    return 0


def wait_for(driver, what, condition, timeout_s):
    """Polls condition(driver) until it returns a true value (returned) or the deadline passes
    (None; `what` is reported)."""
    from selenium.common.exceptions import WebDriverException

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = condition(driver)
        except WebDriverException:
            value = None  # the page is changing under us; look again
        if value:
            return value
        if time.monotonic() >= deadline:
            fail("after %ss still waiting for %s (at %s)" % (timeout_s, what, driver.current_url))
            return None
        time.sleep(0.1)  # polling interval, not a wait for anything in particular


def path_of(url):
    return urllib.parse.urlsplit(url).path


def severe_entries(driver, allowed=()):
    """The browser console's SEVERE entries since the last call, but those that mention one of
    the `allowed` substrings."""
    return [entry for entry in driver.get_log("browser")
            if entry.get("level") == "SEVERE"
            and not any(text in entry.get("message", "") for text in allowed)]


def log_in(driver, url, login, timeout_s, console):
    """Opens URL, follows the page to /login, logs in there; back at URL as the user. The
    console's SEVERE entries so far, but the 401s that sent the page to /login, are appended to
    `console` for the final check."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    kind, user, secret = login
    driver.get(url)
    if not wait_for(driver, "the page to send the browser to /login",
                    lambda d: path_of(d.current_url) == "/login"
                    and d.find_element(By.ID, "login-form").is_displayed(), timeout_s):
        return 1
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(driver.current_url).query)
    if query.get("next") != [path_of(url) or "/"]:
        return fail("the login page's next= is %r, not the page's path" % query.get("next"))
    driver.find_element(By.ID, "login-user").send_keys(user)
    Select(driver.find_element(By.ID, "login-kind")).select_by_value(kind)
    driver.find_element(By.ID, "login-secret").send_keys(secret)
    driver.find_element(By.ID, "login-submit").click()

    def signed_in(d):
        if path_of(d.current_url) == "/login":
            banner = d.find_element(By.ID, "login-error")
            if banner.is_displayed() and banner.text:
                raise LookupError("login refused: " + banner.text)
            return None
        name = d.find_element(By.ID, "user-name")
        return name.is_displayed() and name.text.startswith(user)
    try:
        if not wait_for(driver, "the page to show %s signed in" % user, signed_in, timeout_s):
            return 1
    except LookupError as e:
        return fail(str(e))
    if path_of(driver.current_url) != (path_of(url) or "/"):
        return fail("the login went on to %s, not back to %s" % (driver.current_url, url))
    cookies = driver.execute_script("return document.cookie")
    if "labmesh_session" in cookies:
        return fail("the session cookie is readable by script: " + cookies)
    # Before the login the page's API requests were refused (that is what sent it to /login);
    # the browser logs those 401s as errors. Anything else counts.
    console.extend(severe_entries(driver, allowed=(" 401 ",)))
    return 0


def log_out(driver, timeout_s):
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "logout").click()
    if not wait_for(driver, "the logout to land on /login",
                    lambda d: path_of(d.current_url) == "/login"
                    and d.find_element(By.ID, "login-form").is_displayed(), timeout_s):
        return 1
    return 0


def check(driver, url, expected, checks, timeout_s, login=None, logout=False):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    console = []  # SEVERE console entries seen while logging in
    if login is not None:
        if log_in(driver, url, login, timeout_s, console) != 0:
            return 1
    else:
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
            if path_of(driver.current_url) == "/login":
                return fail("the page sent the browser to the login page (%s); log in with "
                            "--login USER TOKEN" % driver.current_url)
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

    severe = console + severe_entries(driver)
    if severe:
        return fail("browser console has SEVERE entries:\n" +
                    "\n".join("  " + entry.get("message", "") for entry in severe))

    if logout and log_out(driver, timeout_s) != 0:
        return 1

    print("page_test: OK: %s shows %s (%d checks%s%s)"
          % (url, ", ".join(expected), len(checks), ", logged in" if login else "",
             ", logged out" if logout else ""))
    return 0


def parse_args(args):
    """(checks, hostnames, login, logout) from the arguments after URL, or None when they are
    malformed. login is (kind, user, secret) with kind "token" or "password", or None."""
    arity = {"--text": 3, "--title": 3, "--history": 2, "--versions": 2}
    checks, hostnames, login, logout = [], [], None, False
    i = 0
    while i < len(args):
        if args[i] in ("--login", "--login-password"):
            if i + 2 >= len(args) or login is not None:
                return None
            login = ("token" if args[i] == "--login" else "password", args[i + 1], args[i + 2])
            i += 3
        elif args[i] == "--logout":
            logout = True
            i += 1
        elif args[i] in arity:
            n = arity[args[i]]
            if i + n >= len(args):
                return None
            checks.append((args[i][2:], tuple(args[i + 1:i + 1 + n])))
            i += 1 + n
        else:
            hostnames.append(args[i])
            i += 1
    return checks, hostnames, login, logout


def main(argv):
    parsed = parse_args(argv[2:]) if len(argv) >= 3 else None
    if parsed is None or not parsed[1]:
        print(__doc__, file=sys.stderr)
        return 1
    url = argv[1]
    checks, expected, login, logout = parsed
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
            return check(driver, url, expected, checks, timeout_s, login, logout)
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
