#!/usr/bin/python3
"""Hostile content is inert in the web page (issue 20), checked in a real headless Chromium
against a running coordinator whose job uploaded it.

Usage: /usr/bin/python3 hostile_page.py URL --login USER TOKEN --job ID --host H
                                        --results-path P [--screenshots DIR]

The job's name, a test name and a file name hold `<img src=x onerror="window.__pwned=1">`, its
log holds terminal escapes, and its results hold evil.html (a <script> and the same img) and
evil.xml (XHTML with a <script>). Each step waits for the hostile text to be on screen as text,
then checks that no script of it ran (window.__pwned is never set) and that no element of it
exists (no img[onerror] or inline script in the document; for evil.xml, parsed as the XML it
is, only that its script never ran):
  1 job        the job page (title, entries, the log with its escapes)
  2 results    the results view listing the job's results
  3 listing    the /results/ listing of the entry's directory (our HTML, names escaped)
  4 html-file  evil.html served from /results/ (text/plain: its markup shows as text)
  5 xml-file   evil.xml (rendered as XML, but under `Content-Security-Policy: sandbox`, so its
               script never runs)
Prints one line per step passed; exits 0 when all pass, else says which failed and why, saves
DIR/<step>.png and DIR/<step>.html, and exits 1.
"""

import argparse
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "webui"))
import browser  # noqa: E402  (tests/webui/browser.py)
from browser import Failure, go, wait_for  # noqa: E402

PAYLOAD = "<img src=x onerror="


def inert(driver, where, elements=True):
    pwned = driver.execute_script("return window.__pwned")
    if pwned is not None:
        raise Failure("%s: a script of the uploaded content ran (window.__pwned = %r)"
                      % (where, pwned))
    if not elements:
        return
    elements = driver.execute_script(
        "return document.querySelectorAll('img[onerror], script:not([src])').length")
    if elements:
        raise Failure("%s: %d element(s) of the uploaded markup are in the document"
                      % (where, elements))


def body_text(driver):
    return driver.execute_script("return document.body ? document.body.innerText : ''") or ""


def document_text(driver):
    return driver.execute_script("return document.documentElement.textContent") or ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--login", nargs=2, required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--results-path", required=True)
    parser.add_argument("--screenshots")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    files = base + "/results/" + "/".join(
        urllib.parse.quote(part, safe="") for part in args.results_path.split("/"))
    step = "start"
    try:
        with browser.Browser() as driver:
            try:
                step = "job"
                browser.log_in(driver, base + "/", ("token",) + tuple(args.login), [])
                go(driver, "#/jobs/%s?log=%s" % (args.job, urllib.parse.quote(args.host)))
                wait_for(driver, "the job's hostile name as text in its title",
                         lambda d: PAYLOAD in d.find_element("id", "job-title").text)
                wait_for(driver, "the log with its escapes as text",
                         lambda d: "red" in d.find_element("id", "log").text
                         and "done" in d.find_element("id", "log").text)
                inert(driver, step)
                print("ok job")

                step = "results"
                go(driver, "#/results?host=%s&since=1d" % urllib.parse.quote(args.host))
                wait_for(driver, "the hostile test name as text in the results list",
                         lambda d: PAYLOAD in d.find_element("id", "results-body").text)
                inert(driver, step)
                print("ok results")

                step = "listing"
                driver.get(files + "/")
                wait_for(driver, "the hostile file name as text in the listing",
                         lambda d: PAYLOAD in body_text(d))
                inert(driver, step)
                print("ok listing")

                step = "html-file"
                driver.get(files + "/evil.html")
                wait_for(driver, "evil.html's markup shown as text",
                         lambda d: "<script>window.__pwned=1</script>" in body_text(d))
                inert(driver, step)
                print("ok html-file")

                step = "xml-file"
                driver.get(files + "/evil.xml")
                wait_for(driver, "evil.xml loaded",
                         lambda d: "xml-marker" in document_text(d))
                inert(driver, step, elements=False)  # parsed as XML; never run
                print("ok xml-file")
            except Failure:
                if args.screenshots:
                    os.makedirs(args.screenshots, exist_ok=True)
                    driver.save_screenshot(os.path.join(args.screenshots, step + ".png"))
                    with open(os.path.join(args.screenshots, step + ".html"), "w") as f:
                        f.write(driver.page_source)
                raise
    except Failure as e:
        print("FAILED at %s: %s" % (step, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
