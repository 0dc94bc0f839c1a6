import matplotlib

matplotlib.use("Agg")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

TEXT1 = "我喜欢的水果是橙子和苹果"
TEXT2 = "相比苹果我更加喜欢国产的华为"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def require_browser(site_page=None) -> None:
    """Fail (never skip) a browser test that cannot run: no Chromium, or no built page to open."""
    from tools import browser

    if site_page is not None and not site_page.is_file():
        pytest.fail(f"the built book has no {site_page.name}: run `make book` first (make test does)")
    try:
        browser.find_browser()
    except browser.BrowserMissing as missing:
        pytest.fail(str(missing))


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
