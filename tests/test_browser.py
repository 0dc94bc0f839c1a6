"""The built book in a real browser: every page loads cleanly offline, and chapter 2's explorer computes what numpy does.

Needs `make book` first (make test runs it) and Debian's chromium + chromium-driver
(.ci/run installs them). Screenshots go to _build/screenshots/ for a person to look at.
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
from .conftest import TEXT1, require_browser

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHAPTER2 = "notebooks/02_walkthrough.html"


def site_pages() -> list[str]:
    return sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
                  if "_static" not in p.parts and "_sources" not in p.parts)


@pytest.fixture(scope="module")
def base():
    require_browser(SITE / CHAPTER2)
    with browser.serve(SITE) as url:
        yield url


@pytest.fixture(scope="module")
def driver(base):
    with browser.chromium() as d:
        yield d


@pytest.fixture()
def chapter2(driver, base):
    browser.open_page(driver, base + CHAPTER2)
    driver.get_log("browser")
    return driver.find_element(By.CSS_SELECTOR, "[data-attn-explorer]")


def test_every_page_loads_offline_with_a_clean_console_and_every_image(driver, base):
    """If this broke, a reader would see a broken figure or script, or the page would call out to the internet."""
    pages = site_pages()
    assert CHAPTER2 in pages and len(pages) >= 10
    problems = {}
    for page in pages:
        driver.get_log("performance")
        browser.open_page(driver, base + page)
        found = {"console errors": browser.console_errors(driver),
                 "requests off 127.0.0.1": browser.foreign(browser.requested_urls(driver)),
                 "images not decoded": browser.undecoded_images(driver)}
        found = {k: v for k, v in found.items() if v}
        if found:
            problems[page] = found
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
    assert len(blocked) == 8 * 7 // 2 and {td.text for td in blocked} == {"−∞"}
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
