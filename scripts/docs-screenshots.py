#!/usr/bin/python3
"""The observer's pictures: docs/pictures/<stage>-observer-<what>.png, each a stage's web
observer in headless Chromium at a moment the tutorial shows, and the pages docs/observer.md
explains (observer-*.png).

    /usr/bin/python3 scripts/docs-screenshots.py 01_master=build/dev/01_master/hang_ten ...

(the build target docs-screenshots passes every stage's hang_ten). Needs Debian's chromium,
chromium-driver and python3-selenium (scripts/deps.sh).
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "common", "tests", "browser"))
from harness import Browser, Program, require_browser  # noqa: E402

OUT = os.path.join(ROOT, "docs", "pictures")

ROWS = "return [...document.querySelectorAll('#tree .row')].map(r => r.dataset.pid)"
NAMED = """
for (const row of document.querySelectorAll('#tree .row')) {
  const name = row.querySelector('.name');
  if (name && name.textContent === arguments[0]) return row.dataset.pid;
}
return null;"""


def new(app, login):
    app.command(f"new {login}")
    line = app.expect("{:ok, <")
    return re.search(r"<[0-9.]+>", line).group(0)


def shot(browser, name):
    path = os.path.join(OUT, name)
    browser.driver.save_screenshot(path)
    print(f"docs/pictures/{name}")


def open_page(browser, app, rows):
    browser.driver.get(app.observer_url)
    browser.wait(lambda d: len(d.execute_script(ROWS)) >= rows, 15, "the tree never filled")


def select(browser, pid):
    browser.wait(lambda d: d.execute_script(
        f"const r = document.querySelector('#tree .row[data-pid=\"{pid}\"]'); if (r) r.click(); return !!r;"))
    browser.wait(lambda d: pid in browser.find("#detail-title")[0].text)


def stage(browser, name, program):
    named = name != "01_master"
    # After start: the application alone.
    with Program([program, "--observer", "0"]) as app:
        open_page(browser, app, 1)
        browser.wait(lambda d: d.execute_script(NAMED, "HangTen.Supervisor"))
        shot(browser, f"{name}-observer-started.png")
    # Two users, then eric's Server crashes (`boom`): its successor is new, in yellow, and the
    # details show the state it started with.
    with Program([program, "--observer", "0"]) as app:
        eric = new(app, "eric")
        new(app, "jose")
        for _ in range(3):
            app.command("count eric" if named else f"count {eric}")
        rows = {"01_master": 3, "02_registry": 3, "03_fault_tolerant": 7, "04_kill_children": 11}
        open_page(browser, app, rows.get(name, 12))
        shot(browser, f"{name}-observer-two-users.png")
        before = set(browser.driver.execute_script(ROWS))
        server = browser.driver.execute_script(NAMED, "eric_server") if named else eric
        app.command("boom eric" if named else f"boom {eric}")
        fresh = browser.wait(lambda d: [p for p in d.execute_script(ROWS) if p not in before
                                        and p != server] or None, 15, "no restarted Server")
        new_server = browser.driver.execute_script(NAMED, "eric_server") if named else fresh[-1]
        browser.wait(lambda d: new_server and new_server not in before)
        select(browser, new_server)
        browser.wait(lambda d: "eric" in browser.find("#detail-state")[0].text or not named)
        shot(browser, f"{name}-observer-after-boom.png")


def pages(browser, program):
    """The pages of docs/observer.md, on stage 5 with a few sessions."""
    with Program([program, "--observer", "0"]) as app:
        for login in ("eric", "jose", "ana", "li"):
            new(app, login)
        for _ in range(5):
            app.command("count eric")
        open_page(browser, app, 22)
        def tab(name):
            browser.find(f'.tab[data-tab="{name}"]')[0].click()
            browser.driver.execute_script("window.scrollTo(0, 0)")

        browser.find("#search")[0].send_keys("ana_server\n")
        browser.wait(lambda d: "found" in browser.find("#search-result")[0].text)
        browser.wait(lambda d: "ana_server" in browser.find("#detail-title")[0].text)
        shot(browser, "observer-applications.png")
        tab("processes")
        browser.wait(lambda d: len(browser.find("#proc-table tbody tr")) >= 22)
        shot(browser, "observer-processes.png")
        tab("system")
        for i in range(12):  # some work, so that the charts move; each sample waits for the last
            app.command(f"new user{i}")
            app.expect("{:ok, <")
            n = browser.driver.execute_script("return samples.length")
            browser.wait(lambda d: d.execute_script("return samples.length") > n)
        shot(browser, "observer-system.png")


def main():
    require_browser()
    binaries = dict(arg.split("=", 1) for arg in sys.argv[1:])
    os.makedirs(OUT, exist_ok=True)
    with Browser(1200, 720) as browser:
        for name in sorted(binaries):
            stage(browser, name, binaries[name])
        if "05_one_last_thing" in binaries:
            pages(browser, binaries["05_one_last_thing"])


if __name__ == "__main__":
    main()
