"""Chapter 8's tile widget in a real browser: its m, l and O after every tile are numpy's.

Needs `make book` first (make test runs it) and Debian's chromium + chromium-driver.
Uses tests/browser.py only through the `page` fixture below, so moving that
harness means changing this one place.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from selenium.webdriver.common.by import By

import attn_steps as ats

from tools import browser

from .conftest import TEXT1, require_browser

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
CHAPTER8 = "notebooks/08_tiles_and_cache.html"
SCREENSHOTS = ROOT / "_build" / "screenshots"


@pytest.fixture(scope="module")
def page():
    """The built chapter 8 open in headless Chromium (the only use of the browser harness here)."""
    require_browser(SITE / CHAPTER8)
    with browser.serve(SITE) as base, browser.chromium() as driver:
        browser.open_page(driver, base + CHAPTER8)
        yield driver


@pytest.fixture(scope="module")
def expected():
    """What the chapter's widget shows: ats.tiled_attention of text1 layer-normalised, weights of std 1/√10, 3×3 tiles, causal."""
    W_small = ats.init_weights(10, 6, seed=0, std=1 / np.sqrt(10))
    return ats.tiled_attention(ats.layer_norm(ats.embed(TEXT1, dim=10)), W_small, 3, 3, causal=True)


def widget(driver):
    roots = driver.find_elements(By.CSS_SELECTOR, "[data-attn-tiles]")
    assert len(roots) == 1, "chapter 8 should show one tile widget"
    return roots[0]


def go(driver, k):
    return driver.execute_script("return arguments[0].attnTiles.go(arguments[1])", widget(driver), k)


def test_the_widget_shows_numpys_m_l_and_O_after_every_tile(page, expected):
    """If this broke, a reader stepping through the tiles would watch numbers the book's own tiles.py does not give."""
    first = go(page, 0)
    assert first["total"] == len(expected.tiles) == 6 and first["skipped"] == len(expected.skipped) == 3
    for k in range(len(expected.tiles) + 1):
        got, want = go(page, k), expected.state_after(k)
        m = np.array([-np.inf if v is None else v for v in got["m"]])
        np.testing.assert_allclose(m, want["m"], rtol=0, atol=1e-9, err_msg=f"m after {k} tiles")
        np.testing.assert_allclose(got["l"], want["l"], rtol=0, atol=1e-9, err_msg=f"l after {k} tiles")
        np.testing.assert_allclose(got["O"], want["O"], rtol=0, atol=1e-9, err_msg=f"O after {k} tiles")
    np.testing.assert_allclose(got["output"], expected.steps.output.to_numpy(), rtol=0, atol=1e-9)


def test_the_widget_shows_rescale_factors_strictly_between_0_and_1(page, expected):
    """If this broke, every rescale the reader steps through would read 0.000 or 1.000 and the online softmax would stay hidden."""
    root = widget(page)
    seen = []
    for k in range(1, len(expected.tiles) + 1):
        got = go(page, k)
        seen += got["factors"]
        caption = root.find_element(By.CSS_SELECTOR, '[data-role="caption"]').text
        assert all(f"{c:.3f}" in caption for c in got["factors"]), caption
        shown = [td.text for td in root.find_elements(By.CSS_SELECTOR, '[data-role="state"] td[data-field="c"]')]
        assert all(f"{c:.3f}" in shown for c in got["factors"]), shown
    np.testing.assert_allclose(seen, expected.rescales(), rtol=0, atol=1e-12)
    assert any(0.05 <= c <= 0.95 for c in seen), seen


def test_the_buttons_step_and_the_grid_marks_the_tile_and_the_skipped(page, expected):
    go(page, 0)
    root = widget(page)
    nxt = root.find_element(By.CSS_SELECTOR, '[data-go="next"]')
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", nxt)
    nxt.click()
    nxt.click()
    assert page.execute_script("return arguments[0].attnTiles.state().k", root) == 2
    caption = root.find_element(By.CSS_SELECTOR, '[data-role="caption"]').text
    assert caption.startswith("第 2 块（共 6 块）")
    now = root.find_elements(By.CSS_SELECTOR, "td.at-now")
    t = expected.tiles[1]
    assert {(int(c.get_attribute("data-row")), int(c.get_attribute("data-col"))) for c in now} == \
        {(r, c) for r in t.rows for c in t.cols}
    skipped_cells = sum(min(3, 8 - 3 * i) * min(3, 8 - 3 * j) for i, j in expected.skipped)
    assert len(root.find_elements(By.CSS_SELECTOR, "td.at-skip")) == skipped_cells
    changed = root.find_elements(By.CSS_SELECTOR, '[data-role="state"] tr.at-changed')
    assert len(changed) == len(t.rows)
    message = page.execute_script(
        "try { arguments[0].attnTiles.go(99); return null } catch (e) { return e.message }", root)
    assert message and "from 0 to 6" in message
    assert browser.console_errors(page) == []


def test_screenshot_of_the_widget(page):
    """Saved for a person to look at: Chinese glyphs, the grid, the state table."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    go(page, 4)
    root = widget(page)
    page.execute_script("arguments[0].scrollIntoView()", root)
    assert page.execute_script("return document.documentElement.scrollWidth") <= 1281
    root.screenshot(str(SCREENSHOTS / "08_tiles-widget.png"))


COLOUR_NAMES = ("浅蓝", "黄色", "浅灰", "灰色", "蓝", "黄", "灰")
PAINT = """const s = getComputedStyle(arguments[0]); return [s.backgroundColor, s.backgroundImage];"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_legend_names_roles_beside_swatches_painted_as_the_grid_in_either_theme(page, theme):
    """If this broke, the legend would name light-theme colours (浅蓝 / 黄色 / 浅灰) in dark mode, where the
    blocks are navy, brown and dark grey (issue 30), or show a swatch the grid's cells do not match."""
    page.execute_script("document.documentElement.dataset.theme = arguments[0]; document.documentElement.dataset.mode = arguments[0]", theme)
    try:
        go(page, 2)  # done, now, waiting and skipped cells all on the grid
        root = widget(page)
        legend = root.find_element(By.CSS_SELECTOR, '[data-role="legend"]')
        assert not any(name in legend.text for name in COLOUR_NAMES), legend.text
        swatches = legend.find_elements(By.CSS_SELECTOR, "[data-swatch]")
        assert [s.get_attribute("data-swatch") for s in swatches] == ["at-done", "at-now", "at-wait", "at-skip"]
        paints = set()
        for swatch in swatches:
            cls = swatch.get_attribute("data-swatch")
            cell = root.find_element(By.CSS_SELECTOR, f'[data-role="grid"] td.{cls}')
            assert page.execute_script(PAINT, swatch) == page.execute_script(PAINT, cell), (theme, cls)
            paints.add(tuple(page.execute_script(PAINT, swatch)))
        assert len(paints) == 4, paints  # four roles, four different paints
        page.execute_script("arguments[0].scrollIntoView()", root)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        root.screenshot(str(SCREENSHOTS / f"08_tiles-legend-{theme}.png"))
    finally:
        page.execute_script("document.documentElement.dataset.theme = 'light'; document.documentElement.dataset.mode = 'light'")


def test_after_the_last_tile_the_output_and_its_gap_to_plain_attention_are_shown(page, expected):
    """If this broke, 全部算完 would stop at "输出 = O / l" and the reader would never see the output, nor that
    tiling is exact (issue 30): the shown output is numpy's, the shown gap is the largest one, and small."""
    root = widget(page)
    go(page, 5)
    assert not root.find_element(By.CSS_SELECTOR, '[data-role="output"]').is_displayed()
    last = root.find_element(By.CSS_SELECTOR, '[data-go="last"]')
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", last)
    last.click()
    state = page.execute_script("return arguments[0].attnTiles.state()", root)
    box = root.find_element(By.CSS_SELECTOR, '[data-role="output"]')
    assert box.is_displayed()
    plain = expected.steps.output.to_numpy()  # ats.self_attention's output: no tiles
    gap = float(np.abs(np.array(state["output"]) - plain).max())
    assert state["difference"] == pytest.approx(gap, rel=1e-9, abs=1e-300) and gap < 1e-12
    shown = [[float(td.text.replace("−", "-")) for td in tr.find_elements(By.TAG_NAME, "td")]
             for tr in box.find_elements(By.CSS_SELECTOR, "tr")[1:]]
    np.testing.assert_allclose(shown, plain, rtol=0, atol=5e-4 + 1e-12)
    said = box.find_element(By.CSS_SELECTOR, '[data-role="difference"]').text
    mantissa, exponent = f"{state['difference']:.1e}".split("e")  # as JavaScript's toExponential(1) writes it
    assert f"逐格最大相差 {mantissa}e{int(exponent):+d}" in said, said
    page.execute_script("arguments[0].scrollIntoView()", root)
    root.screenshot(str(SCREENSHOTS / "08_tiles-output.png"))


def test_no_cell_shows_a_signed_zero(page, expected):
    """If this broke, a score such as −0.04 would read "−0.0" (issue 30): a sign on a zero."""
    root = widget(page)
    for k in range(len(expected.tiles) + 1):
        go(page, k)
        texts = [td.text for td in root.find_elements(By.CSS_SELECTOR, "td")]
        assert not [t for t in texts if re.fullmatch(r"−0\.0+", t)], (k, texts)
