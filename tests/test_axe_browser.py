"""axe-core on every page of the built site, light and dark: no critical or serious violation.

If this fails, a reader with a screen reader or a keyboard meets something axe-core
names (a cell whose spoken name is not the number it shows, a button named other than
its text, text too faint to read in one theme, a table header with no text, a heading
that skips a level): the message lists the rule, the page, the theme and the nodes.
axe-core is a test-only npm dependency (package.json; make test runs `npm ci`).
"""

from __future__ import annotations

import os

import pytest

from tools import axe_site, browser

from . import site_survey as probes
from .conftest import REQUIRE_BROWSER

pytestmark = [pytest.mark.browser, pytest.mark.notebook, pytest.mark.slow]

BUILT_PAGE = "book/intro.html"
FAILING = {"critical", "serious"}
# Rules of lesser impact the book fixed and keeps fixed (its DataFrames' headers, its widgets' headings, its landmarks
# and their names: a poet head's panel was named as the explorer's on the same page).
KEPT_FIXED = {"empty-table-header", "heading-order", "region", "landmark-unique"}


@pytest.fixture(scope="module")
def axe_source():
    try:
        return axe_site.axe_source()
    except FileNotFoundError as missing:
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail(str(missing))
        pytest.skip(str(missing))


@pytest.fixture(scope="module")
def found(survey, axe_source):
    """{page: {theme: violations}}, axe-core run on each page as it opened, in the site's one walk at 1280 px."""
    by_theme = {theme: survey.read(1280, theme, probes.axe) for theme in axe_site.THEMES}
    pages = sorted(by_theme["light"])
    assert len(pages) >= 15, pages  # every chapter, the book's pages, the index and the search page
    return {page: {theme: by_theme[theme][page] for theme in axe_site.THEMES} for page in pages}


def failures(found, keep) -> list[str]:
    return [f"{page} ({theme}): {v['id']} [{v['impact']}] {v['help']} — " + "; ".join(n["target"] for n in v["nodes"][:5])
            for page, by_theme in found.items() for theme, violations in by_theme.items() for v in violations if keep(v)]


def test_no_page_has_a_critical_or_serious_violation_in_either_theme(found):
    bad = failures(found, lambda v: v["impact"] in FAILING)
    assert not bad, "\n".join(bad[:30])


def test_the_fixed_rules_stay_fixed(found):
    """If this broke, a DataFrame's index header would be empty again, a widget's heading would skip a level, or the
    sidebar's title would sit outside every landmark."""
    bad = failures(found, lambda v: v["id"] in KEPT_FIXED)
    assert not bad, "\n".join(bad[:30])


# The widgets in use: chapter 9's poet with a poem written, its last step shown and a head opened; chapter 8's tiles
# all computed (their output table drawn). axe sees what the page holds then, which the page as it opens does not.
USE = {
    "notebooks/09_poet.html": """
const done = arguments[arguments.length - 1], r = document.querySelector('[data-attn-poet]');
r.querySelector('[data-role=prefix]').value = '床前';
r.querySelector('[data-action=write]').click();
const look = () => (r.querySelector('[data-role=timing]').textContent && !r.dataset.busy
  ? (r.querySelector('[data-cell="2,1"]').click(), done(true)) : setTimeout(look, 50));
look();
""",
    "notebooks/08_tiles_and_cache.html": """
const done = arguments[arguments.length - 1];
document.querySelector('[data-attn-tiles] [data-go=last]').click();
done(true);
""",
}


@pytest.mark.parametrize("page", sorted(USE))
def test_a_widget_in_use_has_no_critical_or_serious_violation(driver, base, axe_source, page):
    """If this broke, what a widget draws once used (a poem, its tiles, a head's stages, the tiles' output) would hold
    what a screen reader cannot use, though the page as it opens passes."""
    browser.open_page(driver, base + page)
    assert driver.execute_async_script(USE[page]) is True
    found = {page: axe_site.audit(driver, source=axe_source)}
    bad = failures(found, lambda v: v["impact"] in FAILING or v["id"] in KEPT_FIXED)
    assert not bad, "\n".join(bad[:30])
