#!/usr/bin/python3
"""Templates and schedules on the web page (issue 22) in a real headless Chromium, against a
running coordinator with an agent.

Usage: /usr/bin/python3 schedule_page.py URL --login USER TOKEN --job ID [--screenshots DIR]

JOB is a finished job. In order, each step waiting for its condition with a deadline:
  1 login          log in with USER's API token
  2 save-template  on job ID's page, "Save as template" (the prompt answered "from-page"); the
                   Schedules view lists template from-page
  3 schedule       the Schedules view's form creates schedule nightly-page from it (cron
                   "0 2 * * *", Europe/Berlin); its row shows the template, the cron with the
                   zone and a next run
  4 pause          its Pause button: the row says paused
  5 bad-schedule   a cron of six fields is refused: the form shows the coordinator's reason
  6 from-template  "New job from it" opens the job form filled from the template; with "After"
                   set to job ID it is created, and the API shows it made from the template,
                   waiting for job ID
Prints one line per step; exits 0 when all pass, else says which step failed and why (with
DIR/<step>.png) and exits 1.
"""

import argparse
import json
import os
import re
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "webui"))
import browser  # noqa: E402  (tests/webui/browser.py)
from browser import Failure, go, wait_for  # noqa: E402


def by_css(driver, selector):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.CSS_SELECTOR, selector)


def all_css(driver, selector):
    from selenium.webdriver.common.by import By
    return driver.find_elements(By.CSS_SELECTOR, selector)


class Steps:
    def __init__(self, driver, args):
        self.driver = driver
        self.url = args.url.rstrip("/") + "/"
        self.user, self.token = args.login
        self.job = args.job
        self.console = []

    def api(self, path):
        request = urllib.request.Request(self.url.rstrip("/") + path,
                                         headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read().decode())

    def step_login(self):
        browser.log_in(self.driver, self.url, ("token", self.user, self.token), self.console)
        return "signed in as %s" % self.user

    def step_save_template(self):
        d = self.driver
        go(d, "#/jobs/%s" % self.job)
        wait_for(d, "job %s's page" % self.job, lambda d: all_css(d, "#job-save-template"))
        by_css(d, "#job-save-template").click()
        alert = wait_for(d, "the template name prompt", lambda d: _alert(d))
        alert.send_keys("from-page")
        alert.accept()
        wait_for(d, "the template in the API",
                 lambda d: any(t["name"] == "from-page" for t in self.api("/api/v1/templates")))
        go(d, "#/schedules")
        wait_for(d, "template from-page listed on the Schedules view",
                 lambda d: all_css(d, "#templates-body tr[data-template='from-page']"))
        return "template from-page saved from job %s" % self.job

    def submit_schedule(self, name, cron, zone):
        from selenium.webdriver.support.ui import Select
        d = self.driver
        wait_for(d, "template from-page offered by the schedule form",
                 lambda d: all_css(d, "#schedule-template option[value='from-page']"))
        for field, value in (("#schedule-name", name), ("#schedule-cron", cron),
                             ("#schedule-timezone", zone)):
            box = by_css(d, field)
            box.clear()
            box.send_keys(value)
        Select(by_css(d, "#schedule-template")).select_by_value("from-page")
        by_css(d, "#schedule-submit").click()

    def step_schedule(self):
        d = self.driver
        self.submit_schedule("nightly-page", "0 2 * * *", "Europe/Berlin")

        def row(d):
            error = all_css(d, "#schedule-form-error")
            if error and error[0].is_displayed() and error[0].text:
                raise Failure("the form refused the schedule: " + error[0].text)
            rows = all_css(d, "#schedules-body tr[data-schedule='nightly-page']")
            return rows[0].text if rows else None
        text = wait_for(d, "schedule nightly-page listed", row)
        for want in ("from-page", "0 2 * * * (Europe/Berlin)", "active"):
            if want not in text:
                raise Failure("the schedule's row %r lacks %r" % (text, want))
        shown = self.api("/api/v1/schedules/nightly-page")
        if len(shown.get("upcoming", [])) != 5 or not shown.get("next_run"):
            raise Failure("the API's schedule has no next runs: %s" % shown)
        return "schedule nightly-page: next %s" % shown["next_run"]

    def step_pause(self):
        d = self.driver
        by_css(d, "#schedules-body tr[data-schedule='nightly-page'] button[data-action='pause']").click()
        wait_for(d, "the row to say paused",
                 lambda d: "paused" in by_css(d, "#schedules-body tr[data-schedule='nightly-page'] .state").text)
        if not self.api("/api/v1/schedules/nightly-page")["paused"]:
            raise Failure("the page says paused, the API does not")
        return "paused"

    def step_bad_schedule(self):
        d = self.driver
        self.submit_schedule("bad-one", "* * * * * *", "")

        def refused(d):
            error = all_css(d, "#schedule-form-error")
            return error and error[0].is_displayed() and error[0].text
        text = wait_for(d, "the form to show the refusal", refused)
        if "6 fields" not in text:
            raise Failure("the refusal does not say why: %r" % text)
        if any(s["name"] == "bad-one" for s in self.api("/api/v1/schedules")):
            raise Failure("the refused schedule exists")
        return "refused: %s" % text

    def step_from_template(self):
        d = self.driver
        by_css(d, "#templates-body tr[data-template='from-page'] a.button-link").click()

        def filled(d):
            names = all_css(d, "#job-name")
            return names and names[0].get_attribute("value") and \
                by_css(d, "#job-template").get_attribute("value") == "from-page"
        wait_for(d, "the job form filled from the template", filled)
        by_css(d, "#job-after").send_keys(str(self.job))
        by_css(d, "#job-submit").click()

        def landed(d):
            error = all_css(d, "#job-form-error")
            if error and error[0].is_displayed() and error[0].text:
                raise Failure("the form refused the job: " + error[0].text)
            m = re.match(r"^#/jobs/(\d+)", d.execute_script("return window.location.hash"))
            return m.group(1) if m else None
        new_id = wait_for(d, "the new job's page", landed)
        job = self.api("/api/v1/jobs/%s" % new_id)
        if job.get("template") != "from-page" or job.get("after") != [int(self.job)]:
            raise Failure("job %s is not from the template after job %s: %s"
                          % (new_id, self.job, {k: job.get(k) for k in ("template", "after")}))
        return "job %s from template from-page, after job %s" % (new_id, self.job)

    def check_console(self):
        # The refusal step 5 asked for is logged by the browser as a failed request; nothing
        # else may be.
        self.console.extend(browser.severe_entries(self.driver, allowed=(
            "/api/v1/schedules - Failed to load resource: the server responded with a status of 400",)))
        if self.console:
            raise Failure("the browser console has errors: %s" % self.console[:3])


def _alert(driver):
    try:
        return driver.switch_to.alert
    except Exception:  # noqa: BLE001 - no alert yet
        return None


STEPS = [("login", "step_login"), ("save-template", "step_save_template"),
         ("schedule", "step_schedule"), ("pause", "step_pause"),
         ("bad-schedule", "step_bad_schedule"), ("from-template", "step_from_template"),
         ("console", "check_console")]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--login", nargs=2, metavar=("USER", "TOKEN"), required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--screenshots", default="")
    args = parser.parse_args(argv[1:])
    with browser.Browser(window_size="1366,900") as driver:
        steps = Steps(driver, args)
        for step, method in STEPS:
            try:
                detail = getattr(steps, method)()
            except Exception as e:  # noqa: BLE001 - a Selenium error is a failed step too
                where = ""
                if args.screenshots:
                    os.makedirs(args.screenshots, exist_ok=True)
                    where = os.path.join(args.screenshots, "schedule-" + step + ".png")
                    driver.save_screenshot(where)
                print("schedule_page: FAIL: step %s: %s: %s %s"
                      % (step, type(e).__name__, str(e).splitlines()[0] if str(e) else "", where),
                      file=sys.stderr)
                return 1
            print("schedule_page: ok %s: %s" % (step, detail or ""), flush=True)
    print("schedule_page: OK: all steps passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
