"""The one browser harness: the built book served on 127.0.0.1, opened in headless Chromium, its requests tallied.

Used by tests/test_browser.py, tools/page_weight.py (--browser) and
benchmarks/bench.py. Debian's `chromium` and `chromium-driver` packages,
driven through selenium (pinned in requirements-test.txt). `make test` installs
them when run as root; when they are missing, a browser test run by hand is skipped with the
command to install them (INSTALL), and under `make test` it fails (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import tempfile
import threading
from dataclasses import dataclass
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
        driver.set_script_timeout(60)
        # A window is never narrower than ~500 px; a phone's viewport is emulated instead.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        try:
            yield driver
        finally:
            driver.quit()


# Loaded, scrolled to the end as a reader would (lazy images and fonts load
# then), MathJax typeset, fonts and images ready; then `arguments[0]` ms more
# for requests those start.
SETTLE = """
const linger = arguments[0], done = arguments[arguments.length - 1];
const wait = () => {
  if (document.readyState !== "complete" || !document.body) return setTimeout(wait, 50);
  window.scrollTo(0, document.body.scrollHeight);
  const math = window.MathJax && MathJax.startup && MathJax.startup.promise;
  const images = [...document.images].map((im) => im.decode().catch(() => null));
  Promise.all([Promise.resolve(math), document.fonts.ready, ...images]).then(() => setTimeout(done, linger));
};
wait();
"""


def open_page(driver, url: str, linger_ms: int = 200) -> None:
    """Load url and wait until it has settled (see SETTLE)."""
    driver.get(url)
    driver.execute_async_script(SETTLE, linger_ms)


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


@dataclass
class Request:
    url: str
    status: int | None = None  # None: no response seen (failed, or still under way)
    failed: bool = False  # the network failed it (not a cancel)


def requests(driver) -> list[Request]:
    """Every request the page made since the performance log was last read, in order, one per request id."""
    seen: dict[str, Request] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            seen[params["requestId"]] = Request(params["request"]["url"])
        elif message["method"] == "Network.responseReceived" and params["requestId"] in seen:
            seen[params["requestId"]].status = params["response"]["status"]
        elif message["method"] == "Network.loadingFailed" and not params.get("canceled") and params["requestId"] in seen:
            seen[params["requestId"]].failed = True
    return list(seen.values())


def requested_urls(driver) -> list[str]:
    return [r.url for r in requests(driver)]


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


# innerHTML does not run scripts: each is replaced by a fresh copy, which does.
_APPEND_HTML = """
const box = document.createElement('div');
box.innerHTML = arguments[0];
document.body.append(box);
box.querySelectorAll('script').forEach((old) => {
  const s = document.createElement('script');
  for (const a of old.attributes) s.setAttribute(a.name, a.value);
  s.textContent = old.textContent;
  old.replaceWith(s);
});
"""


def append_html(driver, html: str) -> None:
    """Add HTML with its scripts (e.g. another ats.explore(...).html) to the end of the open page, and run them."""
    driver.execute_script(_APPEND_HTML, html)
