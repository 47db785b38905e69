#!/usr/bin/python3
"""The observer's pictures: docs/pictures/<stage>-observer-<what>.png, each a stage's web
observer in headless Chromium at a moment the tutorial shows, the pages docs/observer.md
explains (observer-*.png), and the tour of lab 06 (lab06-*.png, with observer-tables.png).

    /usr/bin/python3 scripts/docs-screenshots.py 01_master=build/dev/01_master/hang_ten ... \
        06_observer=build/dev/common/labs/06_observer/observer_lab

(the build target docs-screenshots passes every stage's hang_ten and the lab's observer_lab).
Needs Debian's chromium, chromium-driver and python3-selenium (scripts/deps.sh), and for the
lab's Redis pool, redis-server.
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
    """Two users, then eric's Server crashes (`boom`): its successor is new, in yellow, and the
    details show the state it started with. Chapter 1 shows the two users (the seed's picture
    after `HangTen.new`), chapters 1-4 the crash, chapter 5 its two sessions."""
    named = name != "01_master"
    with Program([program, "--observer", "0"]) as app:
        eric = new(app, "eric")
        new(app, "jose")
        for _ in range(3):
            app.command("count eric" if named else f"count {eric}")
        rows = {"01_master": 3, "02_registry": 3, "03_fault_tolerant": 7, "04_kill_children": 11}
        open_page(browser, app, rows.get(name, 12))
        if name in ("01_master", "05_one_last_thing"):
            shot(browser, f"{name}-observer-two-users.png")
        if name == "05_one_last_thing":
            return
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
        browser.find("#search")[0].send_keys("ana_server\n")
        browser.wait(lambda d: "found" in browser.find("#search-result")[0].text)
        browser.wait(lambda d: "ana_server" in browser.find("#detail-title")[0].text)
        shot(browser, "observer-applications.png")
        tab(browser, "processes")
        browser.wait(lambda d: len(browser.find("#proc-table tbody tr")) >= 22)
        shot(browser, "observer-processes.png")
        tab(browser, "system")
        for i in range(12):  # some work, so that the charts move; each sample waits for the last
            app.command(f"new user{i}")
            app.expect("{:ok, <")
            n = browser.driver.execute_script("return samples.length")
            browser.wait(lambda d: d.execute_script("return samples.length") > n)
        shot(browser, "observer-system.png")


def tab(browser, name):
    browser.find(f'.tab[data-tab="{name}"]')[0].click()
    browser.driver.execute_script("window.scrollTo(0, 0)")


def kill_and_wait(browser, name):
    """Kills the process named `name` with the page's Kill button; its successor's pid."""
    old = browser.driver.execute_script(NAMED, name)
    select(browser, old)
    browser.find("#kill")[0].click()
    browser.wait(lambda d: d.find_elements("css selector", "#confirm-kill:not(.hidden)"), 10,
                 "Kill did not ask")
    browser.find("#confirm-yes")[0].click()  # the page asks before it kills
    new_pid = browser.wait(lambda d: (lambda p: p if p and p != old else None)(
        d.execute_script(NAMED, name)), 15, f"{name} was not restarted")
    select(browser, new_pid)
    return new_pid


def lab06(browser, program):
    """The tour of docs/labs/06_observer.md, and the Tables page of docs/observer.md."""
    with Program([program, "--observer", "0"]) as app:
        app.command("visit ana 3")
        app.expect("3")
        open_page(browser, app, 23)  # four trees, opened: their roots, children, sessions
        tab(browser, "tables")
        browser.wait(lambda d: len(browser.find("#tables tbody tr pre")) > 0
                     and int(browser.find("#tables tbody td.num")[0].text) >= 10, 15)
        shot(browser, "observer-tables.png")
        browser.driver.set_window_size(1200, 860)
        tab(browser, "applications")
        select(browser, browser.driver.execute_script(NAMED, "ana_server"))
        browser.wait(lambda d: "visits: 3" in browser.find("#detail-state")[0].text)
        shot(browser, "lab06-applications.png")
        # Kill ana_server: its successor, in yellow, took the visits back from ana_stash.
        kill_and_wait(browser, "ana_server")
        browser.wait(lambda d: "visits: 3" in browser.find("#detail-state")[0].text)
        shot(browser, "lab06-session-killed.png")
        # Kill a Redis connection: a new one, connected again.
        kill_and_wait(browser, "redis_pool_1")
        browser.wait(lambda d: browser.find("#detail-state")[0].text.startswith("connected"))
        shot(browser, "lab06-redis-killed.png")
        browser.find("#detail-close")[0].click()
        browser.driver.set_window_size(1200, 720)
        # A slow worker: its mailbox grows, orange in the Processes page sorted by mailbox.
        app.command("slow worker_2")
        tab(browser, "processes")
        header = browser.find('#proc-table th[data-sort="mailbox"]')[0]
        header.click()
        browser.wait(lambda d: "asc" in header.get_attribute("class"))
        header.click()
        browser.wait(lambda d: "asc" not in header.get_attribute("class"))
        browser.wait(lambda d: d.execute_script(
            "const r = document.querySelector('#proc-table tbody tr');"
            "return r && r.cells[1].textContent === 'worker_2' && !!r.querySelector('td.warn')"
            " && Number(r.cells[4].textContent) >= 20;"), 30, "worker_2's mailbox never grew")
        shot(browser, "lab06-slow-worker.png")
        # The load goes up: the messages per second follow.
        tab(browser, "system")
        app.command("load high")
        start = browser.driver.execute_script("return samples.length")
        browser.wait(lambda d: d.execute_script("return samples.length") > start + 12, 30)
        shot(browser, "lab06-load.png")
        app.command("load low")
        # The table dies with its owner: a new owner, a new table, filled again.
        tab(browser, "tables")
        owner = browser.find("#tables tbody .pidlink")[0].text
        kill_and_wait(browser, "table_terms_cache")
        browser.wait(lambda d: browser.find("#tables tbody .pidlink")[0].text != owner, 15)
        shot(browser, "lab06-table-owner-killed.png")


def main():
    require_browser()
    binaries = dict(arg.split("=", 1) for arg in sys.argv[1:])
    os.makedirs(OUT, exist_ok=True)
    with Browser(1200, 720) as browser:
        for name in sorted(binaries):
            if name != "06_observer":
                stage(browser, name, binaries[name])
        if "05_one_last_thing" in binaries:
            pages(browser, binaries["05_one_last_thing"])
        if "06_observer" in binaries:
            lab06(browser, binaries["06_observer"])


if __name__ == "__main__":
    main()
