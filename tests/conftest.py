import matplotlib

matplotlib.use("Agg")

import os  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tools import torch_ref  # noqa: E402

torch_ref.on_path()  # torch, the tests' reference, from its own folder (requirements-torch.txt)

TEXT1 = "我喜欢的水果是橙子和苹果"
TEXT2 = "相比苹果我更加喜欢国产的华为"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


# Set by `make test` (and so CI): there a missing browser fails its tests, so no skip can hide a gap.
REQUIRE_BROWSER = "ATTN_REQUIRE_BROWSER"


def require_browser(site_page=None) -> None:
    """Stop a browser test that cannot run: no Chromium, or no built page to open.

    No Chromium: skipped with the command that installs it, when run by hand (`make check`, `pytest`);
    failed under `make test`, which sets ATTN_REQUIRE_BROWSER. No built page: failed (run `make book`).
    """
    from tools import browser

    try:
        browser.find_browser()
    except browser.BrowserMissing as missing:
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail(f"{missing} ({REQUIRE_BROWSER} is set: make test never skips a browser test)")
        pytest.skip(f"Chromium or chromedriver is not installed; as root: {browser.INSTALL}")
    if site_page is not None and not site_page.is_file():
        pytest.fail(f"the built book has no {site_page.name}: run `make book` first (make test does)")


@pytest.fixture(scope="module")
def base(request):
    """The built site on a local URL, for a module of browser tests; the module names the page it needs (BUILT_PAGE)."""
    from tools import browser

    site = Path(__file__).resolve().parent.parent / "_build" / "html"
    require_browser(site / request.module.BUILT_PAGE)
    with browser.serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def driver(request, base):
    """One headless Chromium for the module, its window WINDOW (width, height) when the module sets one."""
    from tools import browser

    with browser.chromium(*getattr(request.module, "WINDOW", ())) as d:
        yield d


@pytest.fixture(scope="session")
def survey():
    """Every page of the built site walked once per window width for the site-wide checks (tests/site_survey.py)."""
    from tools import browser

    from .site_survey import SITE, Survey

    require_browser(SITE / "notebooks" / "02_walkthrough.html")
    with browser.serve(SITE) as url:
        yield Survey(url)


def pytest_collection_modifyitems(config, items):
    """Keep the markers honest: a test on the conftest's built-site browser fixtures is marked browser and notebook."""
    for item in items:
        uses = {"driver", "base", "survey"} & set(getattr(item, "fixturenames", ()))
        missing = [m for m in ("browser", "notebook") if uses and item.get_closest_marker(m) is None]
        if missing:
            raise pytest.UsageError(f"{item.nodeid} uses the fixture {sorted(uses)[0]} (Chromium on the built site) "
                                    f"but is not marked {' and '.join(missing)}")
