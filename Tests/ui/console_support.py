"""What the browser check shares: axond on a loopback port read from its log, Debian's
chromium through chromium-driver, and a `Console` with the bounded waits and DOM reads the
steps use (Tests/ui/console_check.py).
"""
import json
import os
import pathlib
import queue
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "harness"))
import axond_harness  # noqa: E402  (found through the path above)
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

READ_TOKEN = "console-check-read-token"
ADMIN_TOKEN = "console-check-admin-token"
WAIT = 90  # seconds any one step may take (a debug build trains slowly on a shared machine)


class Failed(Exception):
    """The page showed something other than what it should."""


def check(condition, what, detail=""):
    if not condition:
        raise Failed(f"{what}: {detail}" if detail else what)
    print(f"ok   {what}", flush=True)


class Daemon:
    """axond on 127.0.0.1:0 over a temporary state directory; the port comes from its log."""

    def __init__(self, binary, workdir):
        environment = dict(os.environ, AXON_READ_TOKEN=READ_TOKEN, AXON_ADMIN_TOKEN=ADMIN_TOKEN)
        self.lines = queue.Queue()
        self.log = open(os.path.join(workdir, "axond.log"), "w")
        self.process = subprocess.Popen(
            [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--state-dir", os.path.join(workdir, "var"),
             "--log-format", "json", "--no-access-log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=environment,
            preexec_fn=axond_harness.terminate_with_parent)
        threading.Thread(target=self._pump, daemon=True).start()
        self.base = None

    def _pump(self):
        for line in self.process.stderr:
            self.log.write(line)
            self.log.flush()
            self.lines.put(line)
        self.lines.put(None)

    def wait_ready(self, seconds):
        """Reads the log until the daemon listens and has loaded its models; then /readyz is 200."""
        deadline = time.monotonic() + seconds
        loaded = False
        while self.base is None or not loaded:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return False
            if line is None:
                return False
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") == "axond listening":
                self.base = "http://" + entry["metadata"]["http.address"]
            loaded = loaded or entry.get("message") == "models loaded"
        # Readiness is marked right after the "models loaded" line: a few round trips at most.
        return any(http("GET", self.base + "/readyz")[0] == 200 for _ in range(200))

    def stop(self):
        axond_harness.stop(self.process, timeout=20)


def http(method, url, body=None, token=ADMIN_TOKEN, content_type="application/json"):
    request = urllib.request.Request(url, data=body, method=method, headers={"Authorization": f"Bearer {token}"})
    if body is not None:
        request.add_header("Content-Type", content_type)
    return axond_harness.answer(request)


def browser(profile):
    """Headless chromium at 1280x800 with its console log kept; `profile` is a fresh directory."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800",
                     "--force-device-scale-factor=1", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-sync", "--disable-component-update",
                     "--lang=en-US", f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # --window-size counts the window's frame; the page itself gets exactly 1280x800.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(WAIT)
    return driver


class Console:
    """The browser on the console, with the waits and reads the steps share."""

    def __init__(self, driver, base, screenshots):
        self.driver, self.base, self.screenshots = driver, base, screenshots

    def wait(self, condition, what, seconds=WAIT):
        """Polls `condition` until it holds (an element replaced meanwhile counts as not yet)."""
        try:
            value = WebDriverWait(self.driver, seconds, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]) \
                .until(lambda d: condition())
        except TimeoutException:
            self.shot("failure")
            raise Failed(f"{what}: not within {seconds} s (screenshot failure.png)")
        print(f"ok   {what}", flush=True)
        return value

    def find(self, css):
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found else None

    def text(self, css):
        element = self.find(css)
        return element.text.strip() if element else None

    def go(self, hash_path):
        self.driver.get(f"{self.base}/ui#{hash_path}")

    def shot(self, name):
        self.driver.save_screenshot(str(self.screenshots / f"{name}.png"))

    def set_token(self, value):
        """Enters `value` in the token dialog, opening it with the Token button if it is not open."""
        if not self.find("#token-dialog[open]"):
            self.driver.find_element(By.ID, "token-button").click()
        self.wait(lambda: self.find("#token-dialog[open]"), "the token dialog opens")
        field = self.driver.find_element(By.ID, "token-input")
        field.clear()
        field.send_keys(value)
        self.driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
        self.wait(lambda: not self.find("#token-dialog[open]"), "the token dialog closes")

    def points(self, series):
        """The points the chart's path for `series` draws (its M and L commands), 0 without one."""
        # One script call: the chart redraws whole, so a held element would go stale.
        d = self.driver.execute_script(
            "const p = document.querySelector(arguments[0]); return p ? p.getAttribute('d') : ''", f"path[data-series={series}]")
        return (d or "").count("L") + (d or "").count("M")
