"""A real browser for the tests: the built book served on 127.0.0.1, opened in headless Chromium.

Debian's `chromium` and `chromium-driver` packages, driven through selenium
(pinned in requirements-test.txt). `.ci/run` installs them; when they are
missing here the tests fail with the command to install them, never skip.
"""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = "apt-get update && apt-get install -y chromium chromium-driver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")


class BrowserMissing(RuntimeError):
    pass


def find_browser() -> tuple[str, str]:
    chromium = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).is_file() else None)
    driver = shutil.which("chromedriver") or (CHROMEDRIVER if Path(CHROMEDRIVER).is_file() else None)
    if not (chromium and driver):
        raise BrowserMissing(f"the browser tests need Debian's Chromium and its driver: {INSTALL} (as root)")
    return chromium, driver


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output for failures
        pass


@contextlib.contextmanager
def serve(site: Path):
    """The folder on http://127.0.0.1:<free port>/, as a static host serves it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 900):
    """Headless Chromium with a fresh profile, logging the console and every network request."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = find_browser()
    with tempfile.TemporaryDirectory() as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in (*FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(driver_path))
        driver.set_script_timeout(30)
        # A window is never narrower than ~500 px; a phone's viewport is emulated instead.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        try:
            yield driver
        finally:
            driver.quit()


SETTLE = """
const done = arguments[arguments.length - 1];
const wait = () => {
  if (document.readyState !== "complete") return setTimeout(wait, 50);
  window.scrollTo(0, document.body.scrollHeight);  // lazy images load as a reader scrolls
  const math = window.MathJax && MathJax.startup && MathJax.startup.promise;
  const images = [...document.images].map((im) => im.decode().catch(() => null));
  Promise.all([Promise.resolve(math), document.fonts.ready, ...images]).then(() => setTimeout(done, 200));
};
wait();
"""


def open_page(driver, url: str) -> None:
    driver.get(url)
    driver.execute_async_script(SETTLE)


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def foreign(urls: list[str]) -> list[str]:
    """Network requests to anything but the local server.

    data: and blob: URLs are the page's own; chrome:// ones are the browser's
    own start page, never on the network.
    """
    return [u for u in urls if urlsplit(u).scheme in ("http", "https", "ws", "wss", "ftp")
            and urlsplit(u).hostname != "127.0.0.1"]


def undecoded_images(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.images].filter((im) => !(im.complete && im.naturalWidth > 0)).map((im) => im.src)")


def measure_explorer(site: Path, page: str = "notebooks/02_walkthrough.html", repeat: int = 5) -> dict:
    """Milliseconds to recompute and redraw every stage after a settings change, for 8 and 64 tokens.

    For `make bench` (machines here are shared: never a test). 8 tokens: the
    explorer on `page`; 64 tokens: the same page with a second explorer made
    from 64 random rows, added by script.
    """
    import attn_steps as ats
    import numpy as np

    X64 = ats.as_frame(np.random.default_rng(0).standard_normal((64, 10)))
    extra = ats.explore(X64).html
    timing = """
    const root = arguments[0], times = [];
    for (let k = 0; k < arguments[1]; k++) {
      const t = performance.now();
      root.attnExplorer.set({seed: k + 1, d_k: 6 + (k % 3)});
      times.push(performance.now() - t);
    }
    return Math.min(...times);
    """
    with serve(site) as base, chromium() as driver:
        open_page(driver, base + page)
        roots = driver.find_elements("css selector", "[data-attn-explorer]")
        ms8 = driver.execute_script(timing, roots[0], repeat)
        driver.execute_script(
            "const d = document.createElement('div'); d.innerHTML = arguments[0]; document.body.append(d);"
            "d.querySelectorAll('script').forEach((s) => { const t = document.createElement('script');"
            " for (const a of s.attributes) t.setAttribute(a.name, a.value);"
            " t.textContent = s.textContent; s.replaceWith(t); });", extra)
        time.sleep(0.5)
        roots = driver.find_elements("css selector", "[data-attn-explorer]")
        ms64 = driver.execute_script(timing, roots[-1], repeat)
    return {"8 tokens": ms8, "64 tokens": ms64}
