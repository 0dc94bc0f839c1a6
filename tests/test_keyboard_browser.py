"""The book's widgets by keyboard alone, on the built chapters in headless Chromium: Tab, Enter, Space and the arrows.

If these fail, a reader who cannot use a mouse could not write a poem, step back
through it, open a head or switch one off in chapter 9; could not walk a stage's
cells and follow a word in chapter 2's explorer; or would lose the focus when the
tile widget's 全部算完 disables the button they pressed. Each control the keys land on
shows a focus ring (at least 2 px, or a ring of shadow) in both themes; what changes
is written to a polite live region. Screenshots of the rings are saved for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tools import browser
from tools.axe_site import set_theme

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

BUILT_PAGE = "notebooks/09_poet.html"
WINDOW = (1280, 1000)
SCREENSHOTS = Path(__file__).resolve().parent.parent / "_build" / "screenshots" / "keyboard"

# What has the focus, and whether a ring shows it.
FOCUSED = """
const e = document.activeElement, s = getComputedStyle(e);
const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2) || (s.boxShadow !== "none" && s.boxShadow !== "");
return { tag: e.tagName, cls: String(e.className), action: e.dataset.action || null, cell: e.dataset.cell || null,
         knock: e.dataset.knock || null, step: e.dataset.step === undefined ? null : Number(e.dataset.step),
         stage: e.dataset.stage || null, row: e.dataset.row === undefined ? null : Number(e.dataset.row),
         col: e.dataset.col === undefined ? null : Number(e.dataset.col), go: e.dataset.go || null,
         pressed: e.getAttribute("aria-pressed"), disabled: Boolean(e.disabled), text: (e.textContent || "").trim().slice(0, 30), ring };
"""


def press(driver, *keys) -> dict:
    ActionChains(driver).send_keys(*keys).perform()
    return driver.execute_script(FOCUSED)


def tab_to(driver, wanted, most: int = 120, back: bool = False) -> dict:
    """Tab (or Shift+Tab) until the focused element matches wanted(focused); the focused element's description."""
    for _ in range(most):
        if back:
            ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
            now = driver.execute_script(FOCUSED)
        else:
            now = press(driver, Keys.TAB)
        if wanted(now):
            return now
    raise AssertionError(f"{most} Tabs never reached the control (last: {now})")


def start_at(driver, url: str, selector: str, theme: str) -> None:
    """The page opened, its theme set, and the keyboard's starting point: the element just before selector's widget
    (as if the reader had tabbed there), so that the next Tab enters it."""
    driver.get("about:blank")
    browser.open_page(driver, url)
    set_theme(driver, theme)
    driver.execute_script("const w = document.querySelector(arguments[0]); w.scrollIntoView({block: 'start'});"
                          "const b = document.createElement('button'); b.id = 'kb-start'; b.textContent = '·';"
                          "w.before(b); b.focus();", selector)


def shot(driver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.execute_script("document.activeElement.scrollIntoView({block: 'center'})")
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


POET_DONE = """
const done = arguments[arguments.length - 1], r = document.querySelector('[data-attn-poet]'), t0 = Date.now();
const look = () => (r.querySelector('[data-role=timing]').textContent && !r.dataset.busy) || Date.now() - t0 > 60000
  ? done(r.querySelector('[data-role=poem]').textContent) : setTimeout(look, 50);
look();
"""
LABEL = "return document.querySelector('[data-attn-poet] [data-role=step-label]').textContent"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_poet_by_keyboard_alone(driver, base, theme):
    start_at(driver, base + BUILT_PAGE, "[data-attn-poet]", theme)
    field = tab_to(driver, lambda f: f["tag"] == "INPUT", most=3)
    assert field["ring"], field
    driver.execute_script("document.querySelector('[data-attn-poet] [data-role=timing]').textContent = ''")
    press(driver, "床前", Keys.ENTER)  # typed, and written with Enter
    poem = driver.execute_async_script(POET_DONE)
    assert poem.startswith("床前") and len(poem) > 4
    n = len(driver.find_elements("css selector", "[data-attn-poet] [data-role=poem] .ap-ch"))
    assert driver.execute_script(LABEL).startswith(f"第 {n} / {n} 步")
    opening = tab_to(driver, lambda f: f["text"] == "白日", most=3)  # the openings are buttons too
    assert opening["ring"]
    char = tab_to(driver, lambda f: "ap-ch" in f["cls"])  # the poem: one Tab stop, its step shown
    assert char["step"] == n - 1 and char["ring"], char
    shot(driver, f"poet-character-1280-{theme}")
    back = press(driver, Keys.ARROW_LEFT)
    assert back["step"] == n - 2 and driver.execute_script(LABEL).startswith(f"第 {n - 1} / {n} 步")
    prev = tab_to(driver, lambda f: f["action"] == "prev")
    assert press(driver, Keys.ENTER)["action"] == "prev" and driver.execute_script(LABEL).startswith(f"第 {n - 2} / {n} 步")
    assert prev["ring"]
    forward = tab_to(driver, lambda f: f["action"] == "next", most=3)
    press(driver, " ")
    assert forward["ring"] and driver.execute_script(LABEL).startswith(f"第 {n - 1} / {n} 步")
    tile = tab_to(driver, lambda f: f["cell"] == "0,0")
    assert tile["ring"]
    shot(driver, f"poet-tile-1280-{theme}")
    assert press(driver, Keys.ARROW_RIGHT)["cell"] == "0,1" and press(driver, Keys.ARROW_DOWN)["cell"] == "1,1"
    title = press(driver, Keys.ENTER)  # the head opens; the focus goes to its title
    assert "ap-head-title" in title["cls"] and title["text"].startswith("第 1 层 · 头 1"), title
    shown = driver.execute_script("return document.querySelector('[data-attn-poet]').attnPoet.shown()")
    assert (shown["layer"], shown["head"]) == (1, 1)
    cell = tab_to(driver, lambda f: f["stage"] is not None, most=30)
    assert cell["ring"], cell
    said = driver.execute_script("return document.querySelector('[data-attn-poet] [data-role=head] [data-role=said]').textContent")
    assert said and driver.execute_script(
        "return document.querySelector('[data-attn-poet] [data-role=head] [data-role=said]').getAttribute('aria-live')") == "polite"
    moved = press(driver, Keys.ARROW_DOWN if cell["row"] == 0 else Keys.ARROW_RIGHT)
    assert (moved["row"], moved["col"]) != (cell["row"], cell["col"]) and moved["stage"] == cell["stage"]
    shot(driver, f"poet-head-cell-1280-{theme}")
    close = tab_to(driver, lambda f: f["action"] == "close-head", back=True, most=30)
    assert press(driver, Keys.ENTER)["cell"] == "1,1" and close["ring"]  # closed, back on its tile
    switch = tab_to(driver, lambda f: f["knock"] == "1,1", most=2)
    assert switch["pressed"] == "false" and press(driver, " ")["pressed"] == "true" and switch["ring"]
    assert press(driver, Keys.ARROW_LEFT)["knock"] == "1,0"
    assert browser.console_errors(driver) == []


EXPLORER_PAGE = "notebooks/02_walkthrough.html"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_explorer_by_keyboard_alone(driver, base, theme):
    start_at(driver, base + EXPLORER_PAGE, "[data-attn-explorer]", theme)
    ex = "document.querySelector('[data-attn-explorer]').attnExplorer"
    before = driver.execute_script(f"return {ex}.settings.query")
    cell = tab_to(driver, lambda f: f["stage"] == "weights")  # the strip's tables: a Tab stop each
    assert cell["ring"], cell
    shot(driver, f"explorer-cell-1280-{theme}")
    down = press(driver, Keys.ARROW_DOWN)
    assert (down["stage"], down["row"], down["col"]) == ("weights", cell["row"] + 1, cell["col"])
    if down["row"] == before:  # a row other than the word followed already
        down = press(driver, Keys.ARROW_DOWN)
    said = driver.execute_script("return document.querySelector('[data-attn-explorer] [data-role=said]')")
    assert said.get_attribute("aria-live") == "polite" and said.get_attribute("textContent").startswith("权重[")
    followed = press(driver, Keys.ENTER)  # follow the word of that row
    assert driver.execute_script(f"return {ex}.settings.query") == down["row"] != before
    assert followed["stage"] == "weights" and followed["row"] == down["row"]  # the focus stays on the cell
    tokens = driver.execute_script(f"return {ex}.tokens")
    assert driver.execute_script("return document.querySelector('[data-attn-explorer] [data-control=query]').value") == str(down["row"])
    assert said.get_attribute("textContent").startswith(f"权重[{tokens[down['row']]}")
    play = tab_to(driver, lambda f: f["tag"] == "BUTTON" and "播放" in f["text"], back=True)
    assert play["ring"]
    assert browser.console_errors(driver) == []


TILES_PAGE = "notebooks/08_tiles_and_cache.html"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_tile_widget_by_keyboard_alone(driver, base, theme):
    start_at(driver, base + TILES_PAGE, "[data-attn-tiles]", theme)
    step = tab_to(driver, lambda f: f["go"] == "next", most=4)  # 重来 and 上一块 are disabled at the start
    assert step["ring"]
    press(driver, Keys.ENTER)
    caption = "return document.querySelector('[data-attn-tiles] [data-role=caption]').textContent"
    assert driver.execute_script(caption).startswith("第 1 块")
    last = tab_to(driver, lambda f: f["go"] == "last", most=2)
    after = press(driver, Keys.ENTER)  # 全部算完 disables itself: the focus moves to a button that still works
    assert after["tag"] == "BUTTON" and not after["disabled"] and after["go"] == "prev", after
    assert "全部算完" in driver.execute_script(caption) and last["ring"] and after["ring"]
    shot(driver, f"tiles-after-last-1280-{theme}")
    assert browser.console_errors(driver) == []
