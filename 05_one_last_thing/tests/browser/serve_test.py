"""`hang_ten serve` as its operator sees it, in a real headless Chromium: a kill from the
observer page never leaves it half-alive.

    /usr/bin/python3 serve_test.py <path to hang_ten>

Each wait is bounded (WebDriverWait, Popen.wait), none is a fixed sleep.
"""

import http.client
import sys
import unittest

from harness import ROW_PID_BY_NAME, Browser, Program, free_port, require_browser

PROGRAM = None

def healthz(url):
    """The status of GET /healthz, or None when nothing answers."""
    host, port = url.split("//", 1)[1].split(":")
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.request("GET", "/healthz")
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


class Serve(unittest.TestCase):
    def kill_from_the_page(self, browser, name):
        """Selects `name` in the tree, clicks Kill and answers the page's question with yes."""
        pid = browser.pid_of(name)
        browser.click_row(pid)
        browser.wait(lambda d: name in browser.find("#detail-title")[0].text, 10)
        browser.find("#kill")[0].click()
        yes = browser.wait(lambda d: [b for b in browser.find("#confirm-yes") if b.is_displayed()],
                           10, "the page did not ask before the kill")
        yes[0].click()
        return pid

    def test_a_kill_of_the_application_ends_the_program_with_status_1(self):
        listen = f"127.0.0.1:{free_port()}"
        with Program([PROGRAM, "serve", "--listen", listen], serve=True) as app, \
                Browser() as browser:
            self.assertEqual(healthz(app.url), 200)
            browser.driver.get(app.observer_url)
            self.kill_from_the_page(browser, "HangTen.Application")
            status = app.proc.wait(timeout=10)
            output = "".join(app.output)
            self.assertEqual(status, 1, output)
            self.assertIn("application: hang_ten, exited: killed, type: permanent: "
                          "the program stops", output)
            self.assertNotIn("hang_ten stopped", output)  # not an orderly stop
            self.assertIsNone(healthz(app.url))

    def test_a_killed_listener_comes_back_on_its_port(self):
        listen = f"127.0.0.1:{free_port()}"
        with Program([PROGRAM, "serve", "--listen", listen], serve=True) as app, \
                Browser() as browser:
            browser.driver.get(app.observer_url)
            old = self.kill_from_the_page(browser, "HangTen.Service")
            # The page itself was served by the old listener: it reconnects to the new one.
            new = browser.wait(
                lambda d: (p := d.execute_script(ROW_PID_BY_NAME, "HangTen.Service")) != old and p,
                20, "no new HangTen.Service")
            self.assertNotEqual(new, old)
            self.assertEqual(healthz(app.url), 200)
            self.assertIsNone(app.proc.poll())  # still running


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: serve_test.py <path to hang_ten>")
    require_browser()
    PROGRAM = sys.argv.pop(1)
    unittest.main(verbosity=2)
