"""The web observer in a real headless Chromium, on stage 5's hang_ten.

    /usr/bin/python3 observer_test.py <path to hang_ten>

One Chromium for the whole file; each wait is bounded (WebDriverWait), none is a fixed sleep.
"""

import http.client
import sys
import unittest
import urllib.parse

from harness import ROW_PID_BY_NAME, Browser, Program, free_port, require_browser

PROGRAM = None

CHILD_OF = """
const parent = document.querySelector(`#tree li.node[data-pid="${arguments[0]}"]`);
return !!(parent && parent.querySelector(`:scope > ul > li.node[data-pid="${arguments[1]}"]`));"""


def upgrade(url, origin, cookie, query=""):
    """The status of a WebSocket upgrade to the observer of `url`, with that Cookie header."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    if origin:
        headers["Origin"] = origin
    if cookie:
        headers["Cookie"] = cookie
    conn.request("GET", f"{parts.path}/ws{query}", headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


class Observer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Program([PROGRAM, "--observer", "0"]).__enter__()
        cls.browser = Browser().__enter__()
        cls.browser.driver.get(cls.app.observer_url)

    @classmethod
    def tearDownClass(cls):
        cls.browser.__exit__(None, None, None)
        cls.app.__exit__(None, None, None)

    def pid_of(self, name, timeout=10):
        return self.browser.pid_of(name, timeout)

    def confirm_text(self):
        """The kill's question while it is shown, else ""."""
        return self.browser.driver.execute_script(
            "const b = document.querySelector('#confirm-kill');"
            "return b && !b.classList.contains('hidden') ? b.textContent.trim() : '';")

    def click_row(self, pid):
        self.browser.click_row(pid)

    def detail_state(self):
        return self.browser.find("#detail-state")[0].text

    def test_1_tree_shows_the_supervisor(self):
        self.pid_of("HangTen.Supervisor")
        self.pid_of("HangTen.Application")

    def test_2_new_session_appears_without_reload(self):
        self.pid_of("HangTen.Supervisor")
        self.app.command("new alice")
        self.app.expect("{:ok,")
        self.pid_of("alice_sup")
        self.pid_of("alice_server")

    def test_3_search_opens_the_server_and_shows_its_state(self):
        self.app.command("new bob")
        self.app.expect("{:ok,")
        self.app.command("token bob")
        token = self.app.expect('"').strip().strip('"')
        box = self.browser.find("#search")[0]
        box.clear()
        box.send_keys("bob_server\n")
        self.browser.wait(lambda d: "found" in self.browser.find("#search-result")[0].text)
        pid = self.pid_of("bob_server")
        self.click_row(pid)
        self.browser.wait(lambda d: 'login: "bob"' in self.detail_state(), 10,
                          "the Server's state never showed")
        state = self.detail_state()
        self.assertIn("#Token<redacted>", state)
        self.assertNotIn(token, self.browser.driver.page_source)

    def test_4_kill_restarts_the_server_under_the_same_supervisor(self):
        self.app.command("new carol")
        self.app.expect("{:ok,")
        old = self.pid_of("carol_server")
        subsup = self.pid_of("carol_subsup")
        self.click_row(old)
        self.browser.wait(lambda d: 'login: "carol"' in self.detail_state())
        self.assertEqual(self.browser.find("#kill-reason")[0].get_attribute("value"), "kill")
        self.browser.find("#kill")[0].click()
        # Nothing is sent before the question, which says what the kill ends.
        question = self.browser.wait(lambda d: self.confirm_text(), 10, "no confirmation")
        self.assertIn(f"exit({old}, kill)", question)
        self.assertIn("Its supervisor", question)
        self.assertEqual(self.browser.driver.execute_script(ROW_PID_BY_NAME, "carol_server"), old)
        self.browser.find("#confirm-yes")[0].click()
        new = self.browser.wait(
            lambda d: (p := d.execute_script(ROW_PID_BY_NAME, "carol_server")) != old and p, 10,
            "no new carol_server")
        self.assertNotEqual(new, old)
        self.assertTrue(self.browser.wait(lambda d: d.execute_script(CHILD_OF, subsup, new)))
        # The killed pid's details say it has exited, and there is nothing left to kill.
        self.browser.wait(lambda d: "(not alive)" in d.execute_script(
            "return document.querySelector('#detail-title').textContent"), 10, "still alive")
        self.assertEqual(self.browser.driver.execute_script(
            "return document.querySelector('#detail-fields [data-field=\"status\"]').textContent"),
            "exited")
        self.assertFalse(self.browser.find("#kill")[0].is_enabled())

    def test_5_search_by_pid(self):
        pid = self.pid_of("HangTen.Supervisor")
        box = self.browser.find("#search")[0]
        box.clear()
        box.send_keys(pid + "\n")
        self.browser.wait(lambda d: f"found {pid}" in self.browser.find("#search-result")[0].text)
        self.browser.wait(lambda d: "HangTen.Supervisor" in self.browser.find("#detail-title")[0].text)
        # Its kill would end every session: the question says so, and Cancel sends nothing.
        self.browser.find("#kill")[0].click()
        question = self.browser.wait(lambda d: self.confirm_text(), 10, "no confirmation")
        self.assertRegex(question, r"the \d+ process(es)? under it end with it")
        self.browser.find("#confirm-no")[0].click()
        self.assertEqual(self.confirm_text(), "")
        self.assertEqual(self.pid_of("HangTen.Supervisor"), pid)

    def test_6_a_foreign_origin_is_refused(self):
        # The token is a cookie the page's script cannot read, and not in the page.
        cookie = next(c for c in self.browser.driver.get_cookies()
                      if c["name"].startswith("observer_token"))
        self.assertTrue(cookie["httpOnly"])
        self.assertEqual(cookie.get("sameSite"), "Strict")
        token = cookie["value"]
        self.assertNotIn(token, self.browser.driver.page_source)
        self.assertEqual(self.browser.driver.execute_script("return document.cookie"), "")
        url = self.app.observer_url
        host = urllib.parse.urlsplit(url).netloc
        jar = f"{cookie['name']}={token}"
        self.assertEqual(upgrade(url, "http://evil.example", jar), 403)
        self.assertEqual(upgrade(url, None, jar), 403)
        self.assertEqual(upgrade(url, f"http://{host}", f"{cookie['name']}={'0' * 32}"), 403)
        self.assertEqual(upgrade(url, f"http://{host}", None, f"?token={token}"), 403)
        self.assertEqual(upgrade(url, f"http://{host}", jar), 101)

    def test_7_read_only_has_no_kill_button(self):
        with Program([PROGRAM, "--observer", "0", "--observer-readonly"]) as readonly:
            self.browser.driver.get(readonly.observer_url)
            try:
                pid = self.pid_of("HangTen.Supervisor")
                self.click_row(pid)
                self.browser.wait(lambda d: "HangTen.Supervisor" in
                                  self.browser.find("#detail-title")[0].text)
                self.assertEqual(self.browser.find("#kill"), [])
            finally:
                self.browser.driver.get(self.app.observer_url)

    def test_8_hang_ten_serve_serves_it_beside_the_api(self):
        listen = f"127.0.0.1:{free_port()}"
        with Program([PROGRAM, "serve", "--listen", listen], serve=True) as served:
            self.browser.driver.get(served.observer_url)
            try:
                self.pid_of("HangTen.Service")
                self.pid_of("HangTen.Supervisor")
            finally:
                self.browser.driver.get(self.app.observer_url)


if __name__ == "__main__":
    require_browser()
    PROGRAM = sys.argv.pop(1)
    unittest.main(verbosity=2)
