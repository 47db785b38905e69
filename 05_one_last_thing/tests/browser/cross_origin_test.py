"""The service's API is no cross-site target: a page on another origin, in a real headless
Chromium, tries to open sessions and rotate a victim's token; a rebinding Host is refused.

    /usr/bin/python3 cross_origin_test.py <path to hang_ten>

The attacker's page is served from http://localhost:<port> (another origin than the service's
http://127.0.0.1:<port>) by a small HTTP server in this process. Each wait is bounded.
"""

import http.client
import http.server
import json
import sys
import threading
import unittest

from harness import Browser, Program, free_port, require_browser

PROGRAM = None

# Three ways a page sends a cross-site POST without a preflight: fetch in no-cors mode with a
# text/plain JSON body, fetch with a form's content type, and a form with enctype text/plain
# whose field name and value make a JSON body, answered into the iframe "sink". Its title says
# "posted" once the form is sent.
ATTACK = """<!doctype html>
<html><head><title>attack</title></head><body>
<form id="f" method="POST" enctype="text/plain" target="sink" action="{api}/sessions">
  <input name='{{"login":"formvictim","x":"' value='"}}'>
</form>
<iframe name="sink"></iframe>
<script>
(async () => {{
  const post = (path, body, type) => fetch("{api}" + path, {{
    method: "POST", mode: "no-cors", headers: {{"Content-Type": type}}, body}}).catch(() => null);
  document.title = "fetching";
  await post("/sessions", JSON.stringify({{login: "victim"}}), "text/plain");
  await post("/sessions", JSON.stringify({{login: "victim2"}}), "application/x-www-form-urlencoded");
  await post("/sessions/eric/rotate", "", "text/plain");
  document.getElementById("f").submit();
  document.title = "posted";
}})();
</script></body></html>"""


class Page(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802 (the http.server name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(Page.body)))
        self.end_headers()
        self.wfile.write(Page.body)

    def log_message(self, *args):
        pass


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    reply = conn.getresponse()
    out = (reply.status, reply.read().decode())
    conn.close()
    return out


class CrossOrigin(unittest.TestCase):
    def test_a_page_on_another_origin_changes_nothing(self):
        with Program([PROGRAM, "serve", "--listen", "127.0.0.1:0"], serve=True) as app:
            port = int(app.url.rsplit(":", 1)[1])
            status, body = request(port, "POST", "/sessions", json.dumps({"login": "eric"}),
                                   {"Content-Type": "application/json"})
            self.assertEqual(status, 201, body)
            token = json.loads(body)["token"]

            Page.body = ATTACK.format(api=app.url).encode()
            page_port = free_port()
            server = http.server.ThreadingHTTPServer(("127.0.0.1", page_port), Page)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            try:
                with Browser() as browser:
                    browser.driver.get(f"http://localhost:{page_port}/attack.html")
                    try:
                        browser.wait(lambda d: d.title == "posted", 20)
                        # The form's answer, whatever it is, has reached the frame.
                        browser.driver.switch_to.frame("sink")
                        browser.wait(lambda d: "{" in d.find_element("tag name", "body").text,
                                     20)
                    except Exception:
                        self.fail(f"the attack page never ended: its title is "
                                  f"{browser.driver.title!r}; the service said: "
                                  f"{''.join(app.output)}")
            finally:
                server.shutdown()

            for login in ("victim", "victim2", "formvictim"):
                status, body = request(port, "GET", f"/sessions/{login}")
                self.assertEqual(status, 404, f"a page on another origin opened {login}: {body}")
            status, body = request(port, "POST", "/sessions/eric/validate",
                                   json.dumps({"token": token}),
                                   {"Content-Type": "application/json"})
            self.assertEqual(status, 200, f"eric's token was rotated from another origin: {body}")
            self.assertEqual(json.loads(body)["request_count"], 1)

    def test_a_foreign_host_and_a_foreign_origin_are_refused(self):
        with Program([PROGRAM, "serve", "--listen", "127.0.0.1:0"], serve=True) as app:
            port = int(app.url.rsplit(":", 1)[1])
            login = json.dumps({"login": "eric"})
            json_type = {"Content-Type": "application/json"}
            status, _ = request(port, "POST", "/sessions", login,
                                {**json_type, "Host": "rebound.example"})
            self.assertEqual(status, 421)  # DNS rebinding: a name the service is not
            status, _ = request(port, "POST", "/sessions", login,
                                {**json_type, "Origin": "http://evil.example"})
            self.assertEqual(status, 403)
            status, _ = request(port, "POST", "/sessions", login, {"Content-Type": "text/plain"})
            self.assertEqual(status, 415)
            status, _ = request(port, "GET", "/sessions/eric")
            self.assertEqual(status, 404)  # none of the three opened it
            status, _ = request(port, "POST", "/sessions", login,
                                {**json_type, "Host": f"localhost:{port}"})
            self.assertEqual(status, 201)  # a loopback name is allowed by default


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: cross_origin_test.py <path to hang_ten>")
    require_browser()
    PROGRAM = sys.argv.pop(1)
    unittest.main(verbosity=2)
