"""Shared helpers of the browser checks (page_test.py, tests/e2e/web_flows.py): a headless
Chromium through Selenium, waiting for a condition with a deadline, the login through /login,
the browser console's SEVERE entries.

Run the scripts with /usr/bin/python3: python3-selenium is a Debian package installed for the
system Python, not for a pyenv python3 that may come first on PATH.

Environment:
  LABMESH_PAGE_TIMEOUT_S   how long each wait may take (default 30)
  LABMESH_CHROMIUM         browser binary (default /usr/bin/chromium)
  LABMESH_CHROMEDRIVER     driver binary (default /usr/bin/chromedriver)
"""

import os
import shutil
import sys
import tempfile
import time
import urllib.parse


def timeout_s():
    return float(os.environ.get("LABMESH_PAGE_TIMEOUT_S", "30"))


class Failure(Exception):
    """A check that did not hold; the message says what was expected and what was seen."""


def path_of(url):
    return urllib.parse.urlsplit(url).path


class Browser:
    """A headless Chromium (context manager): `with Browser() as driver: ...`. Raises Failure
    when it cannot start (the message says why: no selenium, no chromedriver)."""

    def __init__(self, window_size="1440,900"):
        self.window_size = window_size
        self.profile = None
        self.driver = None

    def __enter__(self):
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
        except ImportError as e:
            raise Failure("selenium is not importable by %s (%s); run with /usr/bin/python3"
                          % (sys.executable, e))
        chromium = os.environ.get("LABMESH_CHROMIUM", "/usr/bin/chromium")
        chromedriver = os.environ.get("LABMESH_CHROMEDRIVER", "/usr/bin/chromedriver")
        self.profile = tempfile.mkdtemp(prefix="labmesh-page-test-")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--window-size=" + self.window_size,
                     "--user-data-dir=" + self.profile):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        try:
            self.driver = webdriver.Chrome(service=Service(executable_path=chromedriver),
                                           options=options)
        except Exception as e:  # noqa: BLE001 - any start failure is reported the same way
            shutil.rmtree(self.profile, ignore_errors=True)
            raise Failure("cannot start Chromium through %s: %s" % (chromedriver, e))
        self.driver.set_page_load_timeout(timeout_s())
        return self.driver

    def __exit__(self, *exc):
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception:  # noqa: BLE001
                pass
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)
        return False


def wait_for(driver, what, condition, timeout=None):
    """Polls condition(driver) until it returns a true value (returned) or the deadline passes
    (Failure naming `what`, the URL and the page's error banner). A condition may raise
    Failure itself to stop early."""
    from selenium.common.exceptions import WebDriverException

    limit = timeout_s() if timeout is None else timeout
    deadline = time.monotonic() + limit
    last_error = None
    while True:
        try:
            value = condition(driver)
        except (WebDriverException, LookupError) as e:
            value = None  # the page is changing under us; look again
            last_error = e
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = ""
            if last_error is not None:
                detail = " (last: %s)" % str(last_error).splitlines()[0][:200]
            raise Failure("after %ss still waiting for %s (at %s; error banner: %s)%s"
                          % (limit, what, driver.current_url, banner_text(driver), detail))
        time.sleep(0.1)  # polling interval, not a wait for anything in particular


def banner_text(driver):
    """The page's error banner, or "(hidden)"."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    try:
        banners = driver.find_elements(By.ID, "error")
        if banners and banners[0].is_displayed():
            return banners[0].text
    except WebDriverException:
        pass
    return "(hidden)"


def severe_entries(driver, allowed=()):
    """The browser console's SEVERE entries since the last call, but those that mention one of
    the `allowed` substrings."""
    return [entry for entry in driver.get_log("browser")
            if entry.get("level") == "SEVERE"
            and not any(text in entry.get("message", "") for text in allowed)]


def log_in(driver, url, login, console):
    """Opens URL, follows the page to /login, logs in there (login = (kind, user, secret), kind
    "token" or "password"); back at URL as the user. The console's SEVERE entries so far, but
    the 401s that sent the page to /login, are appended to `console` for the final check.
    Raises Failure."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    kind, user, secret = login
    driver.get(url)
    wait_for(driver, "the page to send the browser to /login",
             lambda d: path_of(d.current_url) == "/login"
             and d.find_element(By.ID, "login-form").is_displayed())
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(driver.current_url).query)
    want_next = path_of(url) or "/"
    fragment = urllib.parse.urlsplit(url).fragment
    if fragment:
        want_next += "#" + fragment
    if query.get("next") != [want_next]:
        raise Failure("the login page's next= is %r, not the page's %r" % (query.get("next"), want_next))
    driver.find_element(By.ID, "login-user").send_keys(user)
    Select(driver.find_element(By.ID, "login-kind")).select_by_value(kind)
    driver.find_element(By.ID, "login-secret").send_keys(secret)
    driver.find_element(By.ID, "login-submit").click()

    def signed_in(d):
        if path_of(d.current_url) == "/login":
            banner = d.find_element(By.ID, "login-error")
            if banner.is_displayed() and banner.text:
                raise Failure("login refused: " + banner.text)
            return None
        name = d.find_element(By.ID, "user-name")
        return name.is_displayed() and name.text.startswith(user)
    wait_for(driver, "the page to show %s signed in" % user, signed_in)
    if path_of(driver.current_url) != (path_of(url) or "/"):
        raise Failure("the login went on to %s, not back to %s" % (driver.current_url, url))
    cookies = driver.execute_script("return document.cookie")
    if "labmesh_session" in cookies:
        raise Failure("the session cookie is readable by script: " + cookies)
    # Before the login the page's API requests were refused (that is what sent it to /login);
    # the browser logs those 401s as errors. Anything else counts.
    console.extend(severe_entries(driver, allowed=(" 401 ",)))


def log_out(driver):
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "logout").click()
    wait_for(driver, "the logout to land on /login",
             lambda d: path_of(d.current_url) == "/login"
             and d.find_element(By.ID, "login-form").is_displayed())


def go(driver, hash_route):
    """Shows a view of the page by its hash route ("#/hosts") without reloading."""
    driver.execute_script("window.location.hash = arguments[0]", hash_route)
