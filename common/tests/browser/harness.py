"""A program with its web observer, and a headless Chromium to look at it.

    with Program([hang_ten, "--observer", "0"]) as app, Browser() as browser:
        browser.driver.get(app.observer_url)
        app.command("new eric")

Program starts the console program with a pipe for its commands and reads the line
`observer: <url>` it prints at launch; Browser starts chromedriver on a free loopback port and
one headless Chromium. Both are stopped on exit. Needs Debian's chromium, chromium-driver and
python3-selenium (scripts/deps.sh); run with /usr/bin/python3.
"""

import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77  # ctest's SKIP_RETURN_CODE for the browser tests

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # reported by require_browser()
    webdriver = None

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def require_browser():
    """Exits with SKIP when the browser or the driver is not installed."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if webdriver is None:
        missing.append("python3-selenium")
    if missing:
        print(f"skipped: not installed: {', '.join(missing)} (bash scripts/deps.sh)")
        sys.exit(SKIP)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Program:
    """A console program started with --observer; its output lines arrive in `lines`.

    `serve`: the program is `hang_ten serve` instead, whose observer is under its own URL; it
    is stopped with SIGTERM."""

    def __init__(self, argv, timeout=20, serve=False):
        self.argv = argv
        self.timeout = timeout
        self.serve = serve
        self.lines = queue.Queue()
        self.output = []

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()
        if self.serve:
            line = self.expect(" serving http://")
            self.url = "http://" + line.split(" serving http://", 1)[1].split()[0]
            self.observer_url = self.url + "/observer"
        else:
            self.observer_url = self.expect("observer: ").split("observer: ", 1)[1].strip()
        return self

    def _read(self):
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def expect(self, text):
        """The next output line containing `text` (waits up to the timeout)."""
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line with {text!r} in: {''.join(self.output)}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if text in line:
                return line

    def command(self, line):
        """Sends one console command; its output comes in `lines`."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def __exit__(self, *exc):
        if self.serve:
            self.proc.terminate()
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


# The pid of the observer tree's row named arguments[0], or null.
ROW_PID_BY_NAME = """
for (const row of document.querySelectorAll('#tree .row')) {
  const name = row.querySelector('.name');
  if (name && name.textContent === arguments[0]) return row.dataset.pid;
}
return null;"""


class Browser:
    """chromedriver and one headless Chromium."""

    def __init__(self, width=1280, height=800):
        self.size = (width, height)

    def __enter__(self):
        self.profile = tempfile.mkdtemp(prefix="observer-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", f"--user-data-dir={self.profile}",
                    f"--window-size={self.size[0]},{self.size[1]}"):
            options.add_argument(arg)
        service = Service(executable_path=CHROMEDRIVER, port=free_port())
        self.driver = webdriver.Chrome(service=service, options=options)
        return self

    def wait(self, condition, timeout=10, message=""):
        """Polls condition(driver) until it is truthy; its value (raises after the timeout)."""
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(condition, message)

    def find(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def pid_of(self, name, timeout=10):
        """The pid of the observer tree's row `name`, once it shows."""
        return self.wait(lambda d: d.execute_script(ROW_PID_BY_NAME, name), timeout,
                         f"{name} never showed in the tree")

    def click_row(self, pid):
        """Clicks the observer tree's row of `pid` (again, if it is redrawn under the click)."""
        def click(d):
            rows = self.find(f'#tree .row[data-pid="{pid}"]')
            if not rows:
                return False
            try:
                rows[0].click()
                return True
            except Exception:  # redrawn under the click: try again
                return False
        self.wait(click, 10, f"could not click {pid}")

    def __exit__(self, *exc):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
