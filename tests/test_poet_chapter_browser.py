"""Chapter 9's own page in headless Chromium: the shipped poet writes as Python does, from the site's own files.

If these fail, a reader of the published chapter would get weights before using the
poet, a poem other than `poet.generate`'s for the same seed, probabilities other than
`poet.run`'s, or a page that cannot find the weights the build wrote. The bare-page
tests (test_poet_browser.py) cover the widget's every control; this one the page as built.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import attn_steps as ats
from tools import browser

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

BUILT_PAGE = "notebooks/09_poet.html"


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
