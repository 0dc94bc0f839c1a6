"""The built book in a real browser: every page loads cleanly offline, and chapter 2's explorer computes what numpy does.

Needs `make book` first (make test runs it) and Debian's chromium + chromium-driver
(make test installs them). Screenshots go to _build/screenshots/ for a person to look at.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import attn_steps as ats

from tools import browser
from . import site_survey as probes
from .conftest import TEXT1
from .site_survey import CONTRAST, SCREENSHOTS, set_theme

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

CHAPTER2 = "notebooks/02_walkthrough.html"
BUILT_PAGE = CHAPTER2  # the conftest's base and driver fixtures need it built


@pytest.fixture()
def chapter2(driver, base):
    browser.open_page(driver, base + CHAPTER2)
    driver.get_log("browser")
    return driver.find_element(By.CSS_SELECTOR, "[data-attn-explorer]")


def test_every_page_loads_offline_with_a_clean_console_and_every_image(survey):
    """If this broke, a reader would see a broken figure or script, or the page would call out to the internet."""
    found = survey.read(1280, "light", probes.load_problems)
    assert CHAPTER2 in found and len(found) >= 10
    problems = {page: got for page, got in found.items() if got}
    assert not problems, problems


def click(driver, element) -> None:
    """Scroll the element to the middle of its scrolling boxes first, as a reader would."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'})", element)
    element.click()


def state(driver, root, **changes):
    script = "return arguments[0].attnExplorer." + ("set(arguments[1])" if changes else "state()")
    return driver.execute_script(script, root, changes)


@pytest.mark.parametrize("changes", [
    {},
    {"d_k": 3, "seed": 1},
    {"seed": 7, "d_k": 16, "scale": False},
    {"seed": 3, "d_k": 96},
    {"std": 1 / math.sqrt(10), "temperature": 2.0},
    {"temperature": 0.25, "seed": 2**33 + 5},
])
def test_chapter2_explorer_computes_what_numpy_computes(driver, chapter2, changes):
    """If this broke, the explorer would show numbers the book's own functions do not give."""
    got = state(driver, chapter2, **changes)
    s = got["settings"]
    X = np.array(got["stages"]["X"])
    np.testing.assert_array_equal(X, ats.embed(TEXT1, dim=10).to_numpy())
    W = ats.init_weights(10, s["d_k"], s["seed"], std=s["std"])
    ref = ats.self_attention(X, W, scale=s["scale"])
    tau = s["temperature"]
    expected = {"Q": ref.Q, "K": ref.K, "V": ref.V, "scores": ref.scores, "scaled": ref.scaled / tau}
    expected["weights"] = ats.softmax(expected["scaled"])
    expected["output"] = ats.attend(expected["weights"], ref.V)
    for stage, want in expected.items():
        np.testing.assert_allclose(np.array(got["stages"][stage]), want.to_numpy(), rtol=0, atol=1e-9, err_msg=stage)


def test_the_explorer_draws_its_random_weights_from_numpys_generator(driver, chapter2):
    for seed in (0, 1, 123, 2**40 + 7):
        z = driver.execute_script("return AttnExplorer.normals(arguments[0], 5000)", seed)
        np.testing.assert_allclose(z, np.random.default_rng(seed).standard_normal(5000), rtol=0, atol=1e-13)


def test_choosing_a_token_highlights_its_row_in_every_stage(driver, chapter2):
    fruit = ats.embed(TEXT1, dim=10).index.get_loc("水果")
    click(driver, chapter2.find_element(By.CSS_SELECTOR, '[data-stop="all"]'))  # the whole strip
    click(driver, chapter2.find_element(By.CSS_SELECTOR, f'[data-panel="scores"] th[data-follow="{fruit}"]'))
    assert state(driver, chapter2)["settings"]["query"] == fruit
    for stage in ("X", "Q", "scores", "scaled", "weights", "output"):
        rows = chapter2.find_elements(By.CSS_SELECTOR, f'[data-panel="{stage}"] tr.ae-row-on td[data-stage]')
        assert rows and {r.get_attribute("data-row") for r in rows} == {str(fruit)}, stage
    # the rows of V it mixes carry its weights
    weights = state(driver, chapter2)["stages"]["weights"][fruit]
    shown = [float(td.text) for td in chapter2.find_elements(By.CSS_SELECTOR, '[data-panel="V"] td.ae-w')]
    np.testing.assert_allclose(shown, weights, atol=0.005)


@pytest.mark.parametrize("stage, row, col", [("scores", 7, 3), ("output", 7, 0), ("output", 2, 5), ("Q", 0, 1)])
def test_a_derivation_adds_up_to_its_cell(driver, chapter2, stage, row, col):
    """If this broke, 'where this number comes from' would show terms that do not make the number."""
    driver.execute_script("arguments[0].attnExplorer.show(arguments[1])", chapter2, stage)
    cell = chapter2.find_element(By.CSS_SELECTOR, f'td[data-stage="{stage}"][data-row="{row}"][data-col="{col}"]')
    ActionChains(driver).move_to_element(cell).perform()
    panel = chapter2.find_element(By.CSS_SELECTOR, '[data-role="provenance"]')
    terms = [float(t.get_attribute("data-term")) for t in panel.find_elements(By.CSS_SELECTOR, "[data-term]")]
    value = state(driver, chapter2)["stages"][stage][row][col]
    assert len(terms) == {"scores": 6, "output": 8, "Q": 10}[stage]
    assert math.isclose(sum(terms), value, rel_tol=1e-12, abs_tol=1e-9)


def test_the_keyboard_reaches_every_cell_and_follows_a_row(driver, chapter2):
    first = chapter2.find_element(By.CSS_SELECTOR, '[data-panel="weights"] td[data-stage][tabindex="0"]')
    first.send_keys(Keys.ARROW_DOWN, Keys.ARROW_RIGHT)
    focused = driver.switch_to.active_element
    assert (focused.get_attribute("data-stage"), focused.get_attribute("data-row"), focused.get_attribute("data-col")) == ("weights", "1", "1")
    focused.send_keys(Keys.ENTER)
    assert state(driver, chapter2)["settings"]["query"] == 1
    panel = chapter2.find_element(By.CSS_SELECTOR, '[data-role="provenance"]')
    assert "exp" in panel.text
    assert all(el.get_attribute("aria-label") for el in chapter2.find_elements(By.CSS_SELECTOR, "td[data-stage]")[:20])


def test_playback_steps_through_the_stages_with_their_captions(driver, chapter2):
    caption = chapter2.find_element(By.CSS_SELECTOR, '[data-role="caption"]')
    step = chapter2.find_element(By.CSS_SELECTOR, '[data-play="next"]')
    click(driver, step)
    assert caption.text.startswith("第 1 步") and ats.stages.STAGE["X"].caption in caption.text
    click(driver, step)
    assert caption.text.startswith("第 2 步")
    assert chapter2.find_element(By.CSS_SELECTOR, ".ae-panel.ae-now").get_attribute("data-panel") == "Q"
    toggle = chapter2.find_element(By.CSS_SELECTOR, '[data-play="toggle"]')
    click(driver, toggle)
    assert toggle.text.endswith("暂停")
    time.sleep(2.0)
    assert not caption.text.startswith("第 2 步"), "playing moves on by itself"
    click(driver, toggle)


@pytest.fixture()
def masked(driver, chapter2):
    """A second explorer on the page, made from a causal Steps: its mask comes along."""
    X = ats.embed(TEXT1, dim=10)
    browser.append_html(driver, ats.explore(ats.self_attention(X, ats.init_weights(10, 4, seed=3), causal=True)).html)
    roots = driver.find_elements(By.CSS_SELECTOR, "[data-attn-explorer]")
    assert len(roots) == 2 and driver.execute_script("return Boolean(arguments[0].attnExplorer)", roots[1])
    return roots[1]


@pytest.mark.parametrize("changes", [{}, {"scale": False, "temperature": 0.5}])
def test_a_masked_explorer_computes_what_numpy_computes(driver, masked, changes):
    """If this broke, a decoder's explorer would let a word see the future, or show other numbers than ats does."""
    got = state(driver, masked, **changes)
    s = got["settings"]
    assert set(got["stages"]) == {"X", "Q", "K", "V", "scores", "scaled", "masked", "weights", "output"}  # order: by WebDriver
    ref = ats.self_attention(np.array(got["stages"]["X"]), ats.init_weights(10, 4, seed=3), scale=s["scale"], causal=True, temperature=s["temperature"])
    for stage, want in ref.stages().items():
        # JSON has no −∞: WebDriver hands the masked stage's blocked cells over as null
        cells = np.array([[-np.inf if v is None else v for v in row] for row in got["stages"][stage]])
        np.testing.assert_allclose(cells, want.to_numpy(), rtol=0, atol=1e-9, err_msg=stage)
    blocked = masked.find_elements(By.CSS_SELECTOR, '[data-panel="masked"] td.ae-blocked')
    assert len(blocked) == 8 * 7 // 2 and {td.get_attribute("textContent") for td in blocked} == {"−∞"}  # the masked stop is not in view
    assert len(masked.find_elements(By.CSS_SELECTOR, '[data-panel="weights"] td.ae-blocked')) == 28


def test_a_masked_explorer_plays_and_explains_its_masked_stage(driver, masked):
    step = masked.find_element(By.CSS_SELECTOR, '[data-play="next"]')
    for _ in range(7):
        click(driver, step)
    caption = masked.find_element(By.CSS_SELECTOR, '[data-role="caption"]')
    assert caption.text.startswith("第 7 步（共 9 步）") and ats.stages.STAGE["masked"].caption in caption.text
    cell = masked.find_element(By.CSS_SELECTOR, 'td[data-stage="masked"][data-row="0"][data-col="3"]')
    driver.execute_script("arguments[0].focus()", cell)  # as the keyboard reaches it; the strip is still scrolling
    assert "−∞" in masked.find_element(By.CSS_SELECTOR, '[data-role="provenance"]').text


def test_bad_settings_are_refused_with_a_message(driver, chapter2):
    for bad in ({"d_k": 0}, {"temperature": 0}, {"seed": -1}, {"colour": 1}):
        message = driver.execute_script(
            "try { arguments[0].attnExplorer.set(arguments[1]); return null } catch (e) { return e.message }", chapter2, bad)
        assert message and list(bad)[0] in message, (bad, message)


@pytest.mark.parametrize("width", [1280, 375])
def test_screenshots_of_chapters_1_and_2(base, width):
    """Saved for a person to look at: Chinese glyphs, values, the layout. At 375 px the page must not scroll sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with browser.chromium(width=width, height=900) as d:
        for page in ("notebooks/01_toy_example.html", CHAPTER2):
            browser.open_page(d, base + page)
            root = d.find_element(By.CSS_SELECTOR, "[data-attn-explorer]")
            d.execute_script("arguments[0].scrollIntoView()", root)
            assert d.execute_script("return window.innerWidth") == width
            assert d.execute_script("return document.documentElement.scrollWidth") <= width + 1, page
            name = Path(page).stem
            d.save_screenshot(str(SCREENSHOTS / f"{name}-{width}px.png"))
            root.screenshot(str(SCREENSHOTS / f"{name}-explorer-{width}px.png"))


# ---- the explorer as a reader meets it (issue 16) ----------------------------------

def in_viewport(driver, element) -> bool:
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth", element)


def test_the_explorer_opens_on_the_weights_with_a_visible_cell_explained(driver, chapter2):
    """If this broke, a reader would open the explorer on X and a sliver of Q, and read about a cell off-screen."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'start', behavior: 'instant'})", chapter2)
    shown = [p.get_attribute("data-panel") for p in chapter2.find_elements(By.CSS_SELECTOR, ".ae-panel") if p.is_displayed()]
    assert shown == ["weights"]
    pressed = chapter2.find_element(By.CSS_SELECTOR, '[data-stop][aria-pressed="true"]')
    assert pressed.text == ats.stages.STAGE["weights"].stop
    focus = chapter2.find_element(By.CSS_SELECTOR, "td.ae-focus")
    assert focus.get_attribute("data-stage") == "weights"
    weights = state(driver, chapter2)["stages"]["weights"]
    q = state(driver, chapter2)["settings"]["query"]
    row, col = int(focus.get_attribute("data-row")), int(focus.get_attribute("data-col"))
    assert row == q and weights[q][col] == max(weights[q])
    panel = chapter2.find_element(By.CSS_SELECTOR, '[data-role="provenance"]')
    tokens = state(driver, chapter2)["tokens"]
    assert f"权重[{tokens[row]}, {tokens[col]}]" in panel.text
    table = chapter2.find_element(By.CSS_SELECTOR, '[data-panel="weights"] table')
    assert in_viewport(driver, table) and in_viewport(driver, panel.find_element(By.CSS_SELECTOR, ".ae-prov-title")) and in_viewport(driver, focus)


def test_the_navigator_shows_each_stop_and_the_whole_strip(driver, chapter2):
    for button in chapter2.find_elements(By.CSS_SELECTOR, "[data-stop]"):
        click(driver, button)
        shown = {p.get_attribute("data-panel") for p in chapter2.find_elements(By.CSS_SELECTOR, ".ae-panel") if p.is_displayed()}
        if button.get_attribute("data-stop") == "all":
            assert shown == {"X", "Q", "K", "V", "scores", "scaled", "weights", "output"}
        else:
            assert shown == {s.name for s in ats.stages.STAGES if s.stop == button.text}, button.text
            focus = chapter2.find_element(By.CSS_SELECTOR, "td.ae-focus")
            assert focus.get_attribute("data-stage") in shown, "the derivation explains a cell the reader can see"


def test_columns_are_headed_as_in_the_page_tables(driver, chapter2):
    """If this broke, "第 2 列" in the explorer would be another column than the page's table headed 2."""
    X = ats.embed(TEXT1, dim=10)
    Q = ats.project(X, ats.init_weights(10, 6, seed=0).Wq, "Q")
    for stage, table in (("X", X), ("Q", Q)):
        driver.execute_script("arguments[0].attnExplorer.show(arguments[1])", chapter2, stage)
        heads = [th.text for th in chapter2.find_elements(By.CSS_SELECTOR, f'[data-panel="{stage}"] th[scope="col"]')]
        assert heads == [str(c) for c in table.columns], stage
    driver.execute_script("arguments[0].attnExplorer.show('X')", chapter2)
    cell = chapter2.find_element(By.CSS_SELECTOR, 'td[data-stage="X"][data-row="0"][data-col="2"]')
    ActionChains(driver).move_to_element(cell).perform()
    assert "第 2 列" in chapter2.find_element(By.CSS_SELECTOR, '[data-role="provenance"]').text
    driver.execute_script("arguments[0].attnExplorer.show('Q')", chapter2)
    cell = chapter2.find_element(By.CSS_SELECTOR, 'td[data-stage="Q"][data-row="0"][data-col="1"]')
    ActionChains(driver).move_to_element(cell).perform()
    assert "Q[我, q2]" in chapter2.find_element(By.CSS_SELECTOR, '[data-role="provenance"]').text


def test_a_bad_seed_gets_a_chinese_message_that_goes_when_the_seed_is_good(driver, chapter2):
    seed = chapter2.find_element(By.CSS_SELECTOR, '[data-control="seed"]')
    message = chapter2.find_element(By.CSS_SELECTOR, '[data-role="message"]')
    assert not message.is_displayed()
    seed.send_keys(Keys.END, Keys.BACKSPACE)  # empty while typing ("0" deleted): not yet an error
    assert not message.is_displayed() and seed.get_attribute("aria-invalid") is None
    seed.send_keys("1.5")
    assert message.is_displayed() and "种子要是 0 或更大的整数" in message.text.replace(" (seed) ", "")
    assert seed.get_attribute("aria-invalid") == "true"
    seed.send_keys(Keys.BACKSPACE, Keys.BACKSPACE)  # "1"
    assert not message.is_displayed() and seed.get_attribute("aria-invalid") is None
    assert state(driver, chapter2)["settings"]["seed"] == 1
    seed.send_keys(Keys.BACKSPACE)
    chapter2.find_element(By.CSS_SELECTOR, '[data-control="temperature"]').click()  # leave the empty box
    assert message.is_displayed() and "空" in message.text and "种子要是 0 或更大的整数" in message.text
    seed.send_keys("0")
    assert not message.is_displayed()


def test_the_explorer_allows_the_d_k_chapter_2_discusses(driver, chapter2):
    got = state(driver, chapter2, d_k=96)
    assert len(got["stages"]["Q"][0]) == 96
    d_k = chapter2.find_element(By.CSS_SELECTOR, '[data-control="d_k"]')
    assert d_k.get_attribute("max") == "96"
    driver.execute_script("arguments[0].attnExplorer.show('Q')", chapter2)
    # a 96-column Q scrolls inside its panel; the page does not scroll sideways
    assert driver.execute_script("return document.documentElement.scrollWidth <= innerWidth + 1")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_explorer_text_and_control_has_aa_contrast(driver, chapter2, theme):
    """If this broke, a reader in one of the themes would meet white text on a near-white button (WCAG AA: 4.5:1)."""
    set_theme(driver, theme)
    try:
        for view in ("weights", "Q/K/V", "all"):
            driver.execute_script("arguments[0].attnExplorer.show(arguments[1])", chapter2, view)
            found = driver.execute_script(CONTRAST, chapter2)
            assert len(found) > 100, "the check saw the explorer's texts"
            low = [f for f in found if f["ratio"] < 4.5]
            assert not low, (theme, view, low[:8])
    finally:
        set_theme(driver, "light")


def test_a_masked_explorer_has_aa_contrast_on_its_blocked_cells(driver, masked):
    for theme in ("light", "dark"):
        set_theme(driver, theme)
        driver.execute_script("arguments[0].attnExplorer.show('遮挡')", masked)
        low = [f for f in driver.execute_script(CONTRAST, masked) if f["ratio"] < 4.5]
        assert not low, (theme, low[:8])
    set_theme(driver, "light")


def test_no_page_scrolls_sideways_at_500_px_and_the_explorer_shows_one_stop(base, survey):
    wide = {page: w for page, w in survey.read(500, "light", probes.scroll_width).items() if w > 501}
    assert not wide, wide
    with browser.chromium(width=500, height=900) as d:
        browser.open_page(d, base + CHAPTER2)
        root = d.find_element(By.CSS_SELECTOR, "[data-attn-explorer]")
        assert [p.get_attribute("data-panel") for p in root.find_elements(By.CSS_SELECTOR, ".ae-panel") if p.is_displayed()] == ["weights"]


CHAPTERS_WITH_EXERCISES = ("01_toy_example", "02_walkthrough", "03_two_apples", "04_learning", "05_multi_head",
                           "06_order_and_position", "07_masks", "08_tiles_and_cache", "09_poet")


@pytest.mark.parametrize("chapter", CHAPTERS_WITH_EXERCISES)
def test_every_chapter_ends_with_exercises_whose_answers_are_hidden(survey, chapter):
    got = survey.read(1280, "light", probes.exercises)[f"notebooks/{chapter}.html"]
    assert got["headings"] and got["headings"][-1].startswith("练习"), got["headings"]
    assert 3 <= len(got["answers_shown"]) <= 5
    assert not any(got["answers_shown"]), "answers start hidden"


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 500])
def test_screenshots_of_every_page(survey, width, theme):
    """Saved to _build/screenshots/pages/ for a person to look at, in both themes (the page, and its explorer if any)."""
    saved = survey.read(width, theme, probes.screenshot)
    missing = [str(f) for files in saved.values() for f in files if not f.is_file() or f.stat().st_size < 1000]
    assert not missing, missing
    assert sum(len(files) == 2 for files in saved.values()) >= 2, "chapters 1 and 2's explorers were shot too"


def test_chapter_2s_panorama_is_legible_and_opens_full_size(driver, base):
    """If this broke, the panorama's values would be ~5 px at the text column's width, or a click would not enlarge it."""
    browser.open_page(driver, base + CHAPTER2)
    images = driver.execute_script(
        "return [...document.querySelectorAll('.cell_output img')].map((im) => ({w: im.clientWidth, natural: im.naturalWidth,"
        " href: im.closest('a') && im.closest('a').href, src: im.src, h: im.clientHeight}))")
    panorama = max(images, key=lambda im: im["h"])  # the tallest figure: one stage per row
    assert panorama["href"] == panorama["src"], "a click opens the image file itself"
    # drawn ≤ 10 inches wide at 2× (retina): shown at ≥ 65 % of its size in a ~700 px column, 8-pt values stay ≥ 7 px
    assert panorama["natural"] <= 2 * 100 * ats.plotting.PAGE_WIDTH + 2
    assert panorama["w"] >= 0.65 * panorama["natural"] / 2


# ---- every widget, every formula, every figure on every page (issue 20) ------------

# ---- every widget, every formula, every figure on every page (issue 20) ------------
# Read from one visit of each page per window width (tests/site_survey.py).


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_widget_on_every_page_has_aa_contrast(survey, theme):
    """If this broke, a reader in one theme would meet a widget's text or button they cannot read (WCAG AA 4.5:1),
    as the tile widget's 重来 / 上一块 / 下一块 / 全部算完 once were: light text on a light button in dark mode."""
    seen, low = {}, {}
    for page, widgets in survey.read(1280, theme, probes.widget_contrast).items():
        for (i, view), found in widgets.items():
            seen[(page, i, view)] = len(found)
            bad = [f for f in found if f["ratio"] < 4.5 and not f["disabled"]]  # WCAG exempts unavailable controls
            assert [f for f in found if f["tag"] == "BUTTON"], (page, i, view, "the check saw the widget's buttons")
            if bad:
                low[(page, i, view)] = bad[:6]
    assert any("08_tiles" in p for p, _, _ in seen) and any("02_walk" in p for p, _, _ in seen), seen
    assert any("09_poet" in p for p, _, _ in seen), seen
    assert not low, (theme, low)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_note_a_cell_prints_has_aa_contrast(survey, theme):
    """If this broke, a reader in one theme could not read a box a cell prints, as the source note at the top of
    every chapter once was in dark mode: the theme's dark text on the note's dark panel."""
    low, seen = {}, 0
    for page, notes in survey.read(1280, theme, probes.note_contrast).items():
        for found in notes:
            seen += len(found)
            bad = [f for f in found if f["ratio"] < 4.5]
            if bad:
                low[page] = bad[:4]
    assert seen >= 2 * 7, "the check saw the chapters' source notes (title and text)"
    assert not low, (theme, low)


def test_every_pages_formulas_typeset_without_error(survey):
    """If this broke, a reader would see a formula in red (MathJax's error box), raw TeX, or nothing where a formula belongs."""
    problems, typeset = {}, 0
    for page, got in survey.read(1280, "light", probes.formulas).items():
        if got.get("formulas") and not got["loaded"]:
            problems[page] = "formulas but no MathJax"
        elif got.get("failed") or got.get("errors") or got.get("untypeset"):
            problems[page] = got
        typeset += got.get("formulas", 0)
    assert typeset > 100, "the check saw the book's formulas"
    assert not problems, problems


def test_at_375_px_no_figure_makes_a_page_scroll_and_figures_keep_their_size(survey):
    """If this broke, on a phone a wide figure would push the page sideways, or shrink until its numbers were ~4 px:
    a figure wider than the screen scrolls inside its own box at the size it has on a 1280 px screen."""
    shown = survey.read(1280, "light", probes.figure_widths)
    assert sum(map(len, shown.values())) > 30, "the check saw the book's figures"
    wide = {page: w for page, w in survey.read(375, "light", probes.scroll_width).items() if w > 376}
    small = {}
    for page, now in survey.read(375, "light", probes.figure_widths).items():
        shrunk = [(i, w, was) for i, (w, was) in enumerate(zip(now, shown[page])) if w < 0.95 * was]
        if shrunk:
            small[page] = shrunk
    assert not wide, wide
    assert not small, small
