"""The web channel under test: the real `referbot run` in a subprocess (the channel found through its
entry point), and Debian's Chromium driven by Selenium, with a screenshot of every step kept.

A missing browser fails the run: the web page is only tested if it is tested in a browser.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from tests.e2e.cli import REFERBOT, cli_env

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "web"
SECRET = "test-secret-0123456789abcdef-0123456789"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=420,900")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WebServer:
    """`referbot run` with only the web channel enabled, on a free loopback port."""

    def __init__(self, workdir: Path, database_url: str, **env: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = cli_env(workdir, REFERBOT_DATABASE_URL=database_url, REFERBOT_HTTP_PORT=str(self.port),
                           REFERBOT_WEB_ENABLED="true", REFERBOT_WEB_SECRET=SECRET,
                           REFERBOT_WEB_SECURE_COOKIE="false", REFERBOT_WEB_PUBLIC_URL=self.base, **env)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "WebServer":
        log = (self.workdir / "run.log").open("ab")
        self.process = subprocess.Popen([REFERBOT, "run"], cwd=self.workdir, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"referbot run exited: {(self.workdir / 'run.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError("referbot run did not start serving in 60 s")

    def stop(self) -> None:
        """SIGTERM, as systemd stops it; the intake must survive."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([REFERBOT, *args], cwd=self.workdir, env=self.env, capture_output=True, text=True,
                              timeout=120)


def chromium(*, javascript: bool = True) -> WebDriver:
    """Debian's Chromium through its chromedriver: no download, no network, a fresh profile."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"the web channel is tested in a real browser; missing {missing} "
                    "(apt-get install -y chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="referbot-chromium-")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    driver.referbot_profile = profile  # type: ignore[attr-defined]
    return driver


def close(driver: WebDriver) -> None:
    driver.quit()
    shutil.rmtree(getattr(driver, "referbot_profile"), ignore_errors=True)


class Referrer:
    """A person at a browser: reads the page, types answers, presses buttons; screenshots each step."""

    def __init__(self, driver: WebDriver, server: WebServer, name: str) -> None:
        self.driver = driver
        self.server = server
        self.name = name
        self.steps = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def open(self, path: str = "/refer") -> None:
        self.driver.get(self.server.base + path)
        self.shot("open")

    def shot(self, what: str) -> Path:
        self.steps += 1
        path = ARTIFACTS / f"{self.name}-{self.steps:02d}-{what}.png"
        self.driver.save_screenshot(str(path))
        return path

    def text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "main").text

    def question(self) -> str:
        found = self.driver.find_elements(By.ID, "question")
        return found[0].text if found else ""

    def buttons(self, css: str = ".choices button") -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def _wait_for_new_turn(self, before: Any) -> None:
        """After a submit: wait until the old turn is gone (a page load, or the script's swap)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                before.is_displayed()
                before.get_attribute("id")
            except Exception:  # stale: the turn was replaced
                return
            time.sleep(0.05)
        raise AssertionError("the page did not answer within 20 s")

    def _turn(self) -> WebElement:
        found = self.driver.find_elements(By.ID, "turn") or self.driver.find_elements(By.TAG_NAME, "main")
        return found[0]

    def _find(self, wanted: str, css: str) -> WebElement | None:
        """The first button (in one round trip) whose value is `wanted` or whose label starts with it."""
        return self.driver.execute_script(
            "var wanted = arguments[0], buttons = document.querySelectorAll(arguments[1]);"
            "for (var i = 0; i < buttons.length; i++) { var b = buttons[i];"
            " var label = b.textContent.replace(/^\\s*✓\\s*/, '').trim().toLowerCase();"
            " if ((b.value || '').toLowerCase() === wanted || label.indexOf(wanted) === 0) { return b; } }"
            "return null;", wanted.lower(), css)

    def press(self, label_or_value: str) -> None:
        """Press a button whose value or label starts with the words given."""
        button = self._find(label_or_value, "main button")
        if button is None:
            raise AssertionError(f"no button {label_or_value!r} among "
                                 f"{[b.text for b in self.buttons('main button')]}; page: {self.text()}")
        before = self._turn()
        button.click()
        self._wait_for_new_turn(before)
        self.shot(f"pressed-{_slug(label_or_value.lower())}")

    def type(self, text: str) -> None:
        field = self.driver.find_element(By.ID, "answer")
        field.clear()
        field.send_keys(text)
        before = self._turn()
        self.driver.find_element(By.CSS_SELECTOR, "form.answer button.primary").click()
        self._wait_for_new_turn(before)
        self.shot("typed")

    def answer(self, answer: str) -> None:
        """A choice button when one matches, else typed (as a referrer would)."""
        if self._find(answer, ".choices button") is not None:
            self.press(answer)
        else:
            self.type(answer)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text)[:24]

