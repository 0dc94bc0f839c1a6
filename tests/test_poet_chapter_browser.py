"""Chapter 9's own page in headless Chromium: the shipped poet writes as Python does, from the site's own files.

If these fail, a reader of the published chapter would get weights before using the
poet, a poem other than `poet.generate`'s for the same seed (with every head, or with
some removed), probabilities other than `poet.run`'s, a page that cannot find the
weights the build wrote, or head tiles that a desktop reader cannot see layer by layer
and a phone reader cannot reach. The bare-page tests (test_poet_browser.py) cover the
widget's every control; this one the page as built.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import attn_steps as ats
from tools import browser

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

BUILT_PAGE = "notebooks/09_poet.html"
WINDOW = (1280, 1000)
SCREENSHOTS = Path(__file__).resolve().parent.parent / "_build" / "screenshots" / "poet"


@pytest.fixture(scope="module")
def chapter(driver, base):
    browser.open_page(driver, base + BUILT_PAGE)
    yield driver
    assert browser.console_errors(driver) == []


def call(driver, code: str, *args):
    """Run an async expression on the page's poet (p); its result, or {'error': message}."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1], p = document.querySelector('[data-attn-poet]').attnPoet;"
        f"Promise.resolve().then(() => {code}).then(done, (e) => done({{error: String(e.message || e)}}));", *args)


def test_the_chapter_fetches_the_weights_only_when_the_poet_is_used(chapter):
    """If this broke, every reader would download the weights, used or not; or the characters the poet writes that no
    page uses would be boxes where the reader has no Chinese font (the rest of the font comes with the weights)."""
    rest = "NotoSansCJKsc-Regular-rest.json"
    assert [u for u in browser.requested_urls(chapter) if "attn-poet" in u or rest in u] == []
    assert call(chapter, "p.run('床前').then((r) => r.tokens)") == ["<s>", "床", "前"]
    urls = browser.requested_urls(chapter)
    assert sorted(u.rsplit("/", 1)[1] for u in urls if "attn-poet" in u) == ["poet.bin", "poet.json"]
    assert any(u.endswith(rest) for u in urls), "the rest of the font was not added"
    assert browser.foreign(urls) == []


@pytest.mark.parametrize("prefix, seed", [("床前", 0), ("白日", 1), ("", 2)])
def test_the_shipped_poet_writes_as_python_does(chapter, prefix, seed):
    poet = ats.load_poet()
    theirs = call(chapter, "p.generate(arguments[0])", {"prefix": prefix, "seed": seed, "temperature": 0.8, "top_k": 20})
    assert theirs == poet.generate(prefix, seed=seed, temperature=0.8, top_k=20)


def test_the_shipped_poets_probabilities_equal_numpy(chapter):
    poet = ats.load_poet()
    known = set(poet.vocab)
    poem = next(p for p in ats.test_poems() if set(p) <= known)
    theirs = call(chapter, "p.run(arguments[0])", poem)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the poem is all in the vocabulary
        ours = poet.run(poem).next_char.to_numpy()
    assert np.abs(np.array(theirs["probs"]) - ours).max() < 1e-9


@pytest.mark.parametrize("knock, mode", [([[3, 3]], "mean"), ([[0, 0], [2, 1]], "mean"), ([[3, 3]], "zero"),
                                         ([[0, 0], [2, 1]], "zero")])
def test_the_shipped_poet_without_some_heads_writes_and_reads_as_python(chapter, knock, mode):
    """If this broke, the chapter's claim about what a head does (its poems with the head removed) would hold in
    Python and not on the page a reader tries it on."""
    poet = ats.load_poet()
    pairs = [tuple(p) for p in knock]
    for prefix, seed in (("床前", 0), ("", 5)):
        theirs = call(chapter, "p.generate(arguments[0])", {"prefix": prefix, "seed": seed, "temperature": 0.8, "top_k": 20,
                                                            "knock": knock, "knock_mode": mode})
        assert theirs == poet.generate(prefix, seed=seed, temperature=0.8, top_k=20, knock=pairs, knock_mode=mode)
    poem = next(p for p in ats.test_poems() if set(p) <= set(poet.vocab))
    theirs = call(chapter, "p.run(arguments[0], arguments[1])", poem, {"knock": knock, "knock_mode": mode})
    ours = poet.run(poem, knock=pairs, knock_mode=mode).next_char.to_numpy()
    assert np.abs(np.array(theirs["probs"]) - ours).max() < 1e-9


# Per layer: do its name and all its head tiles share one line (every box overlaps every other's height)?
# And what sticks out of the window?
LAYOUT = """
const r = document.querySelector('[data-attn-poet]'), layers = [...r.querySelectorAll('.ap-layer')];
const boxes = (l) => [...l.children].map((c) => c.getBoundingClientRect());
const oneRow = (l) => Math.max(...boxes(l).map((b) => b.top)) < Math.min(...boxes(l).map((b) => b.bottom));
const out = [...r.querySelectorAll('.ap-cell, .ap-poem-col, .ap-switch, .ap-nav button, .ap-probs')]
  .filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5).map((e) => e.className);
return {layers: layers.map(oneRow), names: layers.map((l) => l.querySelector('.ap-layer-name').textContent),
        heads: layers.map((l) => l.querySelectorAll('.ap-cell').length), out, scroll: document.documentElement.scrollWidth - innerWidth};
"""
WRITE = """
const done = arguments[arguments.length - 1], r = document.querySelector('[data-attn-poet]');
r.scrollIntoView({block: 'start'});
r.querySelector('[data-role=knock_mode]').value = 'zero';  // the layout is the same in both modes
for (const key of arguments[1]) { const b = r.querySelector(`[data-knock="${key}"]`); if (b && b.getAttribute('aria-pressed') !== 'true') b.click(); }
r.querySelector('[data-role=prefix]').value = arguments[0];
r.querySelector('[data-role=timing]').textContent = '';
r.querySelector('[data-action=write]').click();
const t0 = Date.now(), look = () => {
  const m = r.querySelector('[data-role=message]');
  if (!m.hidden) return done({message: m.textContent});
  if (r.querySelector('[data-role=timing]').textContent && !r.dataset.busy) return done({poem: r.querySelector('[data-role=poem]').textContent});
  if (Date.now() - t0 > 60000) return done({timeout: true});
  setTimeout(look, 50);
};
look();
"""


def write_and_remove(driver, theme: str) -> dict:
    """The chapter's poet writes 床前, then again without layer 3 · head 3; its tiles' layout measured."""
    driver.execute_script("document.documentElement.dataset.theme = arguments[0]; document.documentElement.dataset.mode = arguments[0]", theme)
    assert driver.execute_async_script(WRITE, "床前", []).get("poem")
    assert driver.execute_async_script(WRITE, "床前", ["3,3"]).get("poem")
    return driver.execute_script(LAYOUT)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_layers_heads_share_one_labelled_row_on_a_desktop(chapter, theme):
    """If this broke, a reader at 1280 px would see a layer's heads spread over two lines, and could not read the
    tiles as the grid of layers × heads the chapter describes; or, in one theme, could not read the poems, their
    rhyme marks, the removed heads' cost or a switch (WCAG AA 4.5:1). Screenshots saved for a person to look at."""
    from .site_survey import CONTRAST

    layout = write_and_remove(chapter, theme)
    assert layout["names"] == [f"第 {l} 层" for l in range(4)] and layout["heads"] == [4] * 4
    assert all(layout["layers"]), layout
    assert layout["out"] == [] and layout["scroll"] <= 0, layout
    chapter.execute_script("document.querySelector('[data-attn-poet] [data-cell=\"3,3\"]').click()")  # the removed head opened
    found = chapter.execute_script(CONTRAST, chapter.find_element("css selector", "[data-attn-poet]"))
    low = [f for f in found if f["ratio"] < 4.5 and not f["disabled"]]
    assert len(found) > 100 and not low, low[:8]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chapter.execute_script("document.querySelector('[data-attn-poet] .ap-poems').scrollIntoView({block: 'start'})")
    chapter.save_screenshot(str(SCREENSHOTS / f"chapter-1280-{theme}-removed.png"))
    chapter.execute_script("document.documentElement.dataset.theme = 'light'; document.documentElement.dataset.mode = 'light'")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_on_a_phone_every_tile_and_switch_is_within_reach(base, theme):
    """If this broke, a phone reader would scroll sideways to reach a head's switch, or not reach it at all."""
    with browser.chromium(width=375, height=1800) as phone:
        browser.open_page(phone, base + BUILT_PAGE)
        layout = write_and_remove(phone, theme)
        assert layout["heads"] == [4] * 4 and layout["out"] == [] and layout["scroll"] <= 0, layout
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        phone.execute_script("document.querySelector('[data-attn-poet] .ap-poems').scrollIntoView({block: 'start'})")
        phone.save_screenshot(str(SCREENSHOTS / f"chapter-375-{theme}-removed.png"))
        assert browser.console_errors(phone) == []
