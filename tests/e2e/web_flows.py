#!/usr/bin/python3
"""The web page's flows (issue 9) in a real headless Chromium, against a running coordinator
with agents.

Usage: /usr/bin/python3 web_flows.py URL --login USER TOKEN --hosts H1,H2 --pending H3
                                     --lock H1 [--screenshots DIR]

In order, each step waiting for its condition with a deadline (LABMESH_PAGE_TIMEOUT_S, default
30 s, per wait):
  1 login        log in through /login with USER's API token; the page marks itself
                 (window.__noReload) to prove later steps never reload it
  2 create-job   the job form: a control (labmesh-test run boot -- true; a keyval boot
                 duration_ms=N; first an echo, as `true` prints nothing for step 4 to see) on
                 H1 and H2; submitted, the browser lands on the job page
  3 completed    both entries turn Completed on that page without a reload
  4 log          the log of H1's entry shows text
  5 abort        a second job from the form (command `sleep 300` on H2, reserve on failure 2h),
                 aborted with the page's button (two clicks: it asks first); the job and its
                 entry turn Aborted
  5b clone       that job's page shows "Reserve on failure 2h"; its Clone link opens the form
                 with the field filled
  6 lock         H1 locked with a reason on its host page; the page shows it locked
  6b reserve     H2 reserved for 2h with a reason on its host page (it shows who and why); the
                 hosts page shows the reservation in H2's row, and its Release button ends it
  6c power      H2's host page (its power method and console set by the test, issue 28) shows
                 the console's text live, and its "Power cycle" button shows the command's output
  6d quarantine  H2 quarantined with a reason from its host page (admin); the page shows the
                 reason, the dashboard lists H2 among the suspect hosts, and "Release from
                 quarantine" ends it (issue 26)
  7 accept       the pending H3 accepted on the hosts page: it leaves the pending list and
                 appears in the hosts table
  8 plot         the results view plots test boot, key duration_ms: the Chart.js chart has
                 at least one point, one of them N
and then: the page was never reloaded, and the browser console holds no SEVERE entries (the
401s before the login aside).

Prints one line per step passed; exits 0 when all pass. Otherwise prints which step failed and
why, saves DIR/<step>.png and DIR/<step>.html (the page as it was), and exits 1.
"""

import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "webui"))
import browser  # noqa: E402  (tests/webui/browser.py)
from browser import Failure, go, wait_for  # noqa: E402


def by_css(driver, selector):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.CSS_SELECTOR, selector)


def all_css(driver, selector):
    from selenium.webdriver.common.by import By
    return driver.find_elements(By.CSS_SELECTOR, selector)


def css_quote(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def no_reload(driver):
    if driver.execute_script("return window.__noReload") != 1:
        raise Failure("the page was reloaded (window.__noReload is gone)")


class Flows:
    def __init__(self, driver, args):
        self.driver = driver
        self.url = args.url
        self.user, self.token = args.login
        self.hosts = args.hosts
        self.pending = args.pending
        self.lock = args.lock
        self.console = []
        self.job_id = None
        self.abort_job_id = None
        # A value this run's keyval carries, to find it in the plot.
        self.duration = 100 + int(time.time() * 1000) % 900

    # -- helpers --

    def entry_status(self, host):
        return by_css(self.driver, "#entries-body tr[data-entry-host=%s] .status"
                      % css_quote(host)).text.strip()

    def entries_seen(self):
        """What the job page shows of each entry, for a failure message."""
        try:
            return "; ".join("%s: %s (%s)" % (row.get_attribute("data-entry-host"),
                                              row.get_attribute("data-status"),
                                              by_css(row, ".reason").text)
                             for row in all_css(self.driver, "#entries-body tr[data-entry-host]"))
        except Exception as e:  # noqa: BLE001
            return "(entries unreadable: %s)" % type(e).__name__

    def wait_entries(self, what, condition):
        try:
            return wait_for(self.driver, what, condition)
        except Failure as e:
            raise Failure("%s; the page shows %s; the coordinator says %s"
                          % (e, self.entries_seen(), self.coordinator_says()))

    def coordinator_says(self):
        """The job's entries as /api/v1/jobs/ID gives them now, asked from the page's session:
        tells a page that stopped updating from an entry that is really stuck."""
        m = re.match(r"^#/jobs/(\d+)", self.driver.execute_script("return window.location.hash") or "")
        if not m:
            return "(not on a job page)"
        try:
            text = self.driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "fetch('/api/v1/jobs/' + arguments[0], {credentials: 'same-origin'})"
                ".then(r => r.text()).then(done, e => done('fetch failed: ' + e));", m.group(1))
            job = json.loads(text)
            return ", ".join("%s: %s (%s)" % (e.get("host"), e.get("status"), e.get("reason", ""))
                             for e in job.get("entries", [])) or text[:300]
        except Exception as e:  # a diagnosis must not hide the failure it explains
            return "(could not ask: %s)" % e

    def fill_job_form(self, name, hosts, control=None, command=None, reserve_on_failure=None):
        d = self.driver
        from selenium.webdriver.support.ui import Select
        go(d, "#/jobs/new")
        for host in hosts:
            wait_for(d, "host %s in the form's host list" % host,
                     lambda d, h=host: by_css(d, "#job-host-list input[data-host=%s]" % css_quote(h)))
        by_css(d, "#job-name").send_keys(name)
        Select(by_css(d, "#job-kind")).select_by_value("control" if control else "command")
        if control:
            by_css(d, "#job-control").send_keys(control)
        else:
            by_css(d, "#job-command").send_keys(command)
        for host in hosts:
            box = by_css(d, "#job-host-list input[data-host=%s]" % css_quote(host))
            if not box.is_selected():
                box.click()
        if reserve_on_failure:
            by_css(d, "#job-reserve-on-failure").send_keys(reserve_on_failure)
        by_css(d, "#job-submit").click()

        def landed(d):
            error = all_css(d, "#job-form-error")
            if error and error[0].is_displayed() and error[0].text:
                raise Failure("the form refused the job: " + error[0].text)
            m = re.match(r"^#/jobs/(\d+)", d.execute_script("return window.location.hash"))
            if not m:
                return None
            rows = all_css(d, "#entries-body tr[data-entry-host]")
            return m.group(1) if {r.get_attribute("data-entry-host") for r in rows} >= set(hosts) else None
        return wait_for(d, "the new job's page with entries on %s" % ", ".join(hosts), landed)

    # -- the steps --

    def step_login(self):
        d = self.driver
        browser.log_in(d, self.url, ("token", self.user, self.token), self.console)
        d.execute_script("window.__noReload = 1")
        return "signed in as %s" % self.user

    def step_create_job(self):
        # The two lines the issue asks for, after an echo: `true` prints nothing, and step 4
        # needs the control to have written something to its log.
        control = ("echo web_flows: boot on $LABMESH_HOST\n"
                   "labmesh-test run boot -- true\n"
                   "labmesh-test keyval boot duration_ms=%d\n" % self.duration)
        name = "web-flows-%d" % int(time.time())
        self.job_id = self.fill_job_form(name, self.hosts, control=control)
        return "job %s (%s) on %s" % (self.job_id, name, ", ".join(self.hosts))

    def step_completed(self):
        d = self.driver

        def done(d):
            statuses = {h: self.entry_status(h) for h in self.hosts}
            bad = {h: s for h, s in statuses.items() if s in ("Failed", "Aborted", "Stopped")}
            if bad:
                reasons = [by_css(d, "#entries-body tr[data-entry-host=%s] .reason" % css_quote(h)).text
                           for h in bad]
                raise Failure("entries ended %s: %s" % (bad, reasons))
            return all(s == "Completed" for s in statuses.values()) and statuses
        self.wait_entries("both entries of job %s to be Completed" % self.job_id, done)
        no_reload(d)
        return "job %s: %s Completed, no reload" % (self.job_id, " and ".join(self.hosts))

    def step_log(self):
        d = self.driver
        host = self.hosts[0]
        by_css(d, "#entries-body tr[data-entry-host=%s] button.log" % css_quote(host)).click()

        def text(d):
            pre = by_css(d, "#log")
            if pre.get_attribute("data-host") != host or not pre.is_displayed():
                return None
            content = pre.text.strip()
            if not content and pre.get_attribute("data-complete") == "1":
                raise Failure("the log of %s is complete and empty" % host)
            return content
        content = wait_for(d, "text in the log of %s" % host, text)
        return "log of %s: %d characters (%r...)" % (host, len(content), content[:40])

    def step_abort(self):
        d = self.driver
        host = self.hosts[1]
        job_id = self.fill_job_form("web-flows-abort-%d" % int(time.time()), [host],
                                    command="sleep 300", reserve_on_failure="2h")
        self.abort_job_id = job_id
        self.wait_entries("the sleep on %s to be Running" % host,
                          lambda d: self.entry_status(host) == "Running")
        by_css(d, "#job-abort").click()  # the first click asks
        wait_for(d, "the abort button to ask", lambda d: "Really" in by_css(d, "#job-abort").text)
        by_css(d, "#job-abort").click()
        self.wait_entries("job %s to be Aborted" % job_id,
                          lambda d: by_css(d, "#job-status").text.strip() == "Aborted"
                          and self.entry_status(host) == "Aborted")
        no_reload(d)
        return "job %s (sleep 300 on %s) Aborted" % (job_id, host)

    def step_clone(self):
        d = self.driver
        go(d, "#/jobs/%s" % self.abort_job_id)
        wait_for(d, "job %s's settings to show reserve on failure" % self.abort_job_id,
                 lambda d: "Reserve on failure" in d.page_source and "2h" in d.page_source)
        by_css(d, "#job-clone").click()
        wait_for(d, "the clone's form with reserve on failure 2h",
                 lambda d: all_css(d, "#job-reserve-on-failure")
                 and by_css(d, "#job-reserve-on-failure").get_attribute("value") == "2h")
        no_reload(d)
        return "job %s shows and clones reserve on failure 2h" % self.abort_job_id

    def step_reserve(self):
        d = self.driver
        host = self.hosts[1]
        reason = "web_flows: reserved from the browser"
        go(d, "#/hosts/" + host)
        wait_for(d, "the host page of %s" % host,
                 lambda d: by_css(d, "#reserve-state").text.strip() == "not reserved")
        by_css(d, "#reserve-for").send_keys("2h")
        by_css(d, "#reserve-reason").send_keys(reason)
        by_css(d, "#reserve-button").click()
        wait_for(d, "%s to show reserved by %s" % (host, self.user),
                 lambda d: by_css(d, "#reserve-state").get_attribute("data-reserved-by") == self.user
                 and reason in by_css(d, "#reserve-state").text
                 and by_css(d, "#release-button").is_displayed())
        go(d, "#/hosts")
        cell = "#hosts-body tr[data-hostname=%s] td.reserved" % css_quote(host)
        wait_for(d, "the hosts page to show %s reserved by %s" % (host, self.user),
                 lambda d: all_css(d, cell)
                 and by_css(d, cell).get_attribute("data-reserved-by") == self.user
                 and reason in by_css(d, cell).text)
        by_css(d, cell + " button.release").click()
        wait_for(d, "%s's reservation to end on the hosts page" % host,
                 lambda d: all_css(d, cell) and by_css(d, cell).text.strip() == "no")
        no_reload(d)
        return "%s reserved (%s) and released" % (host, reason)

    def step_power(self):
        d = self.driver
        host = self.hosts[1]
        go(d, "#/hosts/" + host)
        wait_for(d, "the console of %s on its host page" % host,
                 lambda d: all_css(d, "#console") and "serial-hello" in by_css(d, "#console").text)
        wait_for(d, "the power buttons of %s" % host,
                 lambda d: all_css(d, "#power-cycle-button")
                 and by_css(d, "#power-cycle-button").is_displayed())
        by_css(d, "#power-cycle-button").click()
        wait_for(d, "the power cycle's output",
                 lambda d: "Chassis Power Control: Cycle" in by_css(d, "#power-output").text)
        no_reload(d)
        return "%s: console shown live, power cycle ran from the page" % host

    def step_quarantine(self):
        d = self.driver
        host = self.hosts[1]
        reason = "web_flows: quarantined from the browser"
        go(d, "#/hosts/" + host)
        wait_for(d, "the quarantine button of %s" % host,
                 lambda d: all_css(d, "#quarantine-button")
                 and by_css(d, "#quarantine-button").is_displayed())
        by_css(d, "#quarantine-reason").send_keys(reason)
        by_css(d, "#quarantine-button").click()
        wait_for(d, "%s to show its quarantine" % host,
                 lambda d: reason in by_css(d, "dd.quarantine-text").text
                 and by_css(d, "#unquarantine-button").is_displayed())
        go(d, "#/")
        item = "#dash-suspects li[data-host=%s]" % css_quote(host)
        wait_for(d, "the dashboard to list %s as a suspect host" % host,
                 lambda d: all_css(d, item) and reason in by_css(d, item).text)
        go(d, "#/hosts/" + host)
        wait_for(d, "the release button of %s" % host,
                 lambda d: all_css(d, "#unquarantine-button")
                 and by_css(d, "#unquarantine-button").is_displayed())
        by_css(d, "#unquarantine-button").click()
        wait_for(d, "%s's quarantine to end" % host,
                 lambda d: by_css(d, "dd.quarantine-text").text.strip() == "no"
                 and by_css(d, "#quarantine-button").is_displayed())
        no_reload(d)
        return "%s quarantined (%s), listed as suspect, released" % (host, reason)

    def step_lock(self):
        d = self.driver
        reason = "web_flows: locked from the browser"
        go(d, "#/hosts/" + self.lock)
        wait_for(d, "the host page of %s" % self.lock,
                 lambda d: by_css(d, "#lock-state").get_attribute("data-locked") in ("0", "1"))
        if by_css(d, "#lock-state").get_attribute("data-locked") == "1":
            raise Failure("%s is locked already" % self.lock)
        # The hour of health drew as a chart (its heartbeats gave at least one sample).
        wait_for(d, "the health chart of %s" % self.lock, lambda d: d.execute_script(
            "const c = document.getElementById('health-chart');"
            "const chart = c && window.Chart && Chart.getChart(c);"
            "return !!chart && chart.data.datasets.length > 0"
            " && chart.data.datasets[0].data.length >= 1;"))
        by_css(d, "#lock-reason").send_keys(reason)
        by_css(d, "#lock-button").click()
        wait_for(d, "%s to show locked" % self.lock,
                 lambda d: by_css(d, "#lock-state").get_attribute("data-locked") == "1"
                 and reason in by_css(d, "#lock-state").text)
        return "%s locked (%s)" % (self.lock, reason)

    def step_accept(self):
        d = self.driver
        go(d, "#/hosts")
        row = "#pending-body tr[data-hostname=%s]" % css_quote(self.pending)
        wait_for(d, "%s in the pending list" % self.pending, lambda d: by_css(d, row))
        by_css(d, row + " button.accept").click()
        wait_for(d, "%s to leave the pending list and appear as a host" % self.pending,
                 lambda d: not all_css(d, row)
                 and all_css(d, "#hosts-body tr[data-hostname=%s]" % css_quote(self.pending)))
        return "%s accepted" % self.pending

    def step_plot(self):
        d = self.driver
        go(d, "#/results")
        wait_for(d, "the results form", lambda d: by_css(d, "#results-submit"))
        test = by_css(d, "#results-test")
        test.clear()
        test.send_keys("boot")
        key = by_css(d, "#results-key")
        key.clear()
        key.send_keys("duration_ms")
        by_css(d, "#results-submit").click()
        script = """
            const canvas = document.getElementById('series-chart');
            const chart = canvas && window.Chart && Chart.getChart(canvas);
            if (!chart || !chart.data.datasets.length) return null;
            return {points: chart.data.datasets[0].data.length,
                    values: chart.data.datasets.flatMap((s) => s.data.map((p) => p.y))};"""
        last_click = [time.monotonic()]

        def plotted(d):
            got = d.execute_script(script)
            if got and got["points"] >= 1 and self.duration in got["values"]:
                return got
            # The results are parsed after the job ends: ask the page to plot again now and
            # then (a new query, not a reload).
            if time.monotonic() - last_click[0] > 2:
                last_click[0] = time.monotonic()
                by_css(d, "#results-submit").click()
            return None
        got = wait_for(d, "the boot/duration_ms chart to draw duration_ms=%d" % self.duration, plotted)
        no_reload(d)
        return "chart of boot/duration_ms: %d points in the first line, %d in all" % (
            got["points"], len(got["values"]))

    def check_console(self):
        severe = self.console + browser.severe_entries(self.driver)
        if severe:
            raise Failure("browser console has SEVERE entries:\n" +
                          "\n".join("  " + entry.get("message", "") for entry in severe))
        return "no SEVERE console entries"


STEPS = [
    ("1-login", "step_login"),
    ("2-create-job", "step_create_job"),
    ("3-completed", "step_completed"),
    ("4-log", "step_log"),
    ("5-abort", "step_abort"),
    ("5b-clone", "step_clone"),
    ("6-lock", "step_lock"),
    ("6b-reserve", "step_reserve"),
    ("6c-power", "step_power"),
    ("6d-quarantine", "step_quarantine"),
    ("7-accept", "step_accept"),
    ("8-plot", "step_plot"),
    ("9-console", "check_console"),
]


def save_evidence(driver, directory, step):
    if not directory:
        return ""
    try:
        os.makedirs(directory, exist_ok=True)
        png = os.path.join(directory, step + ".png")
        driver.save_screenshot(png)
        with open(os.path.join(directory, step + ".html"), "w", encoding="utf-8") as f:
            f.write(driver.page_source)
        return " (screenshot %s)" % png
    except Exception as e:  # noqa: BLE001 - the failure itself matters more
        return " (no screenshot: %s)" % e


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--login", nargs=2, metavar=("USER", "TOKEN"), required=True)
    parser.add_argument("--hosts", required=True, help="H1,H2")
    parser.add_argument("--pending", required=True)
    parser.add_argument("--lock", required=True)
    parser.add_argument("--screenshots", default="")
    args = parser.parse_args(argv)
    args.hosts = [h for h in args.hosts.split(",") if h]
    if len(args.hosts) != 2:
        parser.error("--hosts takes two hostnames, H1,H2")
    return args


def main(argv):
    args = parse_args(argv[1:])
    try:
        with browser.Browser(window_size="1366,768") as driver:
            flows = Flows(driver, args)
            for step, method in STEPS:
                try:
                    detail = getattr(flows, method)()
                except Failure as e:
                    where = save_evidence(driver, args.screenshots, step)
                    print("web_flows: FAIL: step %s: %s%s" % (step, e, where), file=sys.stderr)
                    return 1
                except Exception as e:  # noqa: BLE001 - a Selenium error is a failed step too
                    where = save_evidence(driver, args.screenshots, step)
                    print("web_flows: FAIL: step %s: %s: %s%s"
                          % (step, type(e).__name__, str(e).splitlines()[0] if str(e) else "", where),
                          file=sys.stderr)
                    return 1
                print("web_flows: ok %s: %s" % (step, detail), flush=True)
    except Failure as e:
        print("web_flows: FAIL: " + str(e), file=sys.stderr)
        return 1
    print("web_flows: OK: all steps passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
