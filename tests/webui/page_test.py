#!/usr/bin/python3
"""Browser check of the labmesh web page with a real headless Chromium (Selenium).

Usage: /usr/bin/python3 page_test.py URL [--login USER TOKEN | --login-password USER PASSWORD]
                                         [CHECK...] [--logout] HOSTNAME [HOSTNAME...]

Opens the hosts view of the page (URL#/hosts); with --login/--login-password, first expects
the page to send the browser to the login page (/login?next=/#/hosts), logs in there with the
API token or password, and expects to come back showing USER as signed in, with no session
cookie readable by script (HttpOnly). Then waits until every HOSTNAME appears in the hosts
table (the page fetches /api/v1/hosts itself and follows /api/v1/events), makes the CHECKs,
and checks that the error banner is hidden and that the browser console holds no SEVERE
entries (the 401s that sent it to the login page aside). With --logout
it then clicks the page's logout button and expects to land on the login page. Exits 0 when
all of that holds; otherwise prints why and exits 1.

CHECKs (each may be given several times):
  --text HOST SELECTOR TEXT    the element SELECTOR (CSS) in HOST's row of the hosts table has
                               a text that contains TEXT
  --title HOST SELECTOR TEXT   ... has a title attribute (tooltip) that contains TEXT
  --history HOST TEXT          a click on HOST's row shows its history under the table, which
                               contains TEXT
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
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402  (tests/webui/browser.py: the driver, waits, login)
from browser import Failure  # noqa: E402

HOSTS_ROUTE = "#/hosts"


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


def on_hosts_view(driver):
    """The checks read the hosts view (#/hosts); back there if the page went elsewhere."""
    if driver.execute_script("return window.location.hash") != HOSTS_ROUTE:
        browser.go(driver, HOSTS_ROUTE)


def run_checks(driver, checks, timeout_s):
    """Each check must hold before the deadline (the table is redrawn on every live update)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    for kind, args in checks:
        deadline = time.monotonic() + timeout_s
        clicked = False
        while True:
            got = None
            try:
                on_hosts_view(driver)
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
                    # A click on the row (not on the name, which opens the host's page) shows
                    # its history under the table; a second click would hide it again.
                    if not clicked and not section.is_displayed():
                        host_row_element(driver, host, "td.version").click()
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


def check(driver, url, expected, checks, timeout_s, login=None, logout=False):
    from selenium.common.exceptions import WebDriverException

    # The hosts view: its route goes through the login (next=/#/hosts) and back.
    page = url.split("#")[0] + HOSTS_ROUTE
    console = []  # SEVERE console entries seen while logging in
    try:
        if login is not None:
            browser.log_in(driver, page, login, console)
        else:
            driver.get(page)
    except Failure as e:
        return fail(str(e))
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
            if browser.path_of(driver.current_url) == "/login":
                return fail("the page sent the browser to the login page (%s); log in with "
                            "--login USER TOKEN" % driver.current_url)
            return fail("after %ss the hosts table shows %s; missing %s; error banner: %s"
                        % (timeout_s, seen, missing, browser.banner_text(driver)))
        time.sleep(0.1)  # polling interval, not a wait for anything in particular

    if run_checks(driver, checks, timeout_s) != 0:
        return 1

    banner = browser.banner_text(driver)
    if banner != "(hidden)":
        return fail("the error banner is showing: " + banner)

    severe = console + browser.severe_entries(driver)
    if severe:
        return fail("browser console has SEVERE entries:\n" +
                    "\n".join("  " + entry.get("message", "") for entry in severe))

    if logout:
        try:
            browser.log_out(driver)
        except Failure as e:
            return fail(str(e))

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
    try:
        with browser.Browser() as driver:
            try:
                return check(driver, url, expected, checks, browser.timeout_s(), login, logout)
            except Exception as e:  # noqa: BLE001
                return fail("%s: %s" % (type(e).__name__, e))
            finally:
                screenshot = os.environ.get("LABMESH_PAGE_SCREENSHOT")
                if screenshot:
                    driver.save_screenshot(screenshot)
    except Failure as e:
        return fail(str(e))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
