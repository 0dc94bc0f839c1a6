"""The chapters live in JupyterLab, with a kernel and no site: every cell runs, and every widget works.

`make test` starts JupyterLab from the book's environment on 127.0.0.1 (tools/lab.py: a free port, a
token, stopped by its PID), opens chapters 2, 4 and 9 in headless Chromium and runs every cell, as a
reader would after `make lab`. Then, with no built site behind the page: a sentence typed into
chapter 2's field is cut and computed as Python does; chapter 4's field gives the trained head's
verdict; the poet writes the poem `poet.generate` writes for the same seed and settings, and opens
any head at any step; the widgets' Chinese is drawn with the font the widget itself brought; and no
request leaves 127.0.0.1. If these fail, a reader running the notebooks would meet dead widgets.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from selenium.webdriver.common.by import By

import attn_steps as ats
from attn_steps import segmenter as sg
from attn_steps import wordvecs as wv
from attn_steps.corpus import head_tokens

from tools import browser, lab
from .conftest import require_browser
from .segmenter_tables import head_and_table, site_tables

pytestmark = [pytest.mark.browser, pytest.mark.lab]

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "_build" / "screenshots" / "lab"
FAMILY = "Attn Steps CJK"


@pytest.fixture(scope="module")
def jupyter():
    require_browser()
    with lab.server(ROOT / "notebooks") as server, browser.chromium(1280, 1000) as driver:
        driver.set_script_timeout(180)
        yield server, driver


def run_chapter(jupyter, name: str, ui: str = "lab") -> None:
    server, driver = jupyter
    lab.open_notebook(driver, server, name, ui)
    state = lab.run_all(driver, name)
    assert state["errors"] == [], f"{name} in JupyterLab: {state['errors']}"
    assert state["ran"] == state["code"] > 0


def widget(driver, selector: str):
    """The one live widget matching selector, once its script has started it."""
    for _ in range(200):
        roots = driver.find_elements(By.CSS_SELECTOR, f".attn-live {selector}")
        if roots and driver.execute_script("return !!(arguments[0].attnExplorer || arguments[0].attnPoet)", roots[-1]):
            return roots
        time.sleep(0.1)
    raise AssertionError(f"no live widget {selector} started in JupyterLab")


def typed(driver, root, text: str) -> dict:
    """Type text into the explorer's field with real keystrokes; its typed() state once every stage is computed."""
    field = root.find_element(By.CSS_SELECTOR, "[data-role=typed]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)
    field.clear()
    field.send_keys(text)
    for _ in range(600):  # the kernel makes the tables on the first keystroke: a few seconds
        state = driver.execute_script("return arguments[0].attnExplorer.typed()", root)
        if state and state["text"] == text and (state.get("tokens") or state.get("message")):
            if state.get("message") is None or "载入" not in state["message"]:
                return state
        time.sleep(0.1)
    raise AssertionError(f"typing {text!r} gave no result: {state}")


def finish(jupyter, name: str, root, shot: str) -> None:
    """A screenshot of the widget (or the page) to look at; no request left 127.0.0.1; the notebook's kernel shut down."""
    driver = jupyter[1]
    SHOTS.mkdir(parents=True, exist_ok=True)
    if root is not None:
        root.screenshot(str(SHOTS / shot))
    else:
        driver.save_screenshot(str(SHOTS / shot))
    urls = driver.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert [u for u in urls if urlsplit(u).hostname not in ("127.0.0.1", None) and not u.startswith(("data:", "blob:"))] == []
    lab.shut_down(driver, name)


def test_chapter_2_runs_and_its_field_computes_a_typed_sentence_as_python(jupyter):
    driver = jupyter[1]
    run_chapter(jupyter, "02_walkthrough.ipynb")
    roots = [r for r in widget(driver, "[data-attn-explorer]") if r.find_elements(By.CSS_SELECTOR, "[data-role=typed]")]
    assert len(roots) == 1, "chapter 2 has one explorer with a text field"
    root, text = roots[0], "我用苹果手机拍照"
    state = typed(driver, root, text)
    d = sg.site_dictionary()
    _, vec_json = site_tables()
    words = [w for w in sg.cut(text, d) if not w.isspace()]
    assert state["message"] is None and state["words"] == words
    X, missing = wv.lookup(words, wv.load_table(vec_json, d))
    stages = driver.execute_script("return arguments[0].attnExplorer.state().stages", root)
    s = ats.self_attention(X, ats.init_weights(10, 6, seed=0))
    worst = max(float(np.abs(np.array(stages[name]) - frame.to_numpy()).max()) for name, frame in dict(s.stages()).items())
    print(f"\nJupyterLab, chapter 2: {text} cut {words}; every stage within {worst:.1g} of Python")
    assert missing == [] and worst < 1e-9
    # The Chinese of the widget is drawn with the font the widget brought from the kernel, whatever the system has.
    font = driver.execute_script(f"""
        const r = arguments[0], faces = [...document.fonts].filter((f) => f.family.replace(/"/g, '') === '{FAMILY}');
        return {{loaded: faces.some((f) => f.status === 'loaded'), check: document.fonts.check('16px "{FAMILY}"', '苹果拍照'),
                 family: getComputedStyle(r).fontFamily}};""", root)
    assert font["loaded"] and font["check"] and font["family"].replace('"', "").startswith(FAMILY), font
    finish(jupyter, "02_walkthrough.ipynb", root, "chapter2-typed.png")


def test_chapter_4_runs_and_its_field_gives_the_trained_heads_verdict(jupyter):
    driver = jupyter[1]
    run_chapter(jupyter, "04_learning.ipynb")
    roots = [r for r in widget(driver, "[data-attn-explorer]") if r.find_elements(By.CSS_SELECTOR, "[data-role=typed]")]
    assert len(roots) == 1, "chapter 4 has one explorer with a text field"
    head, _ = head_and_table()  # trained as the chapter trains it
    assert driver.execute_script("return arguments[0].attnExplorer.data.typing.head_id", roots[0]) == wv.head_id(head)
    compared = 0
    for text in ["我喜欢的水果是橙子和苹果", "相比苹果我更加喜欢国产的华为", "我用苹果手机拍照"]:
        state = typed(driver, roots[0], text)
        if state["tokens"] != head_tokens(text):  # the stand-in cuts with jieba's HMM: only like cuts compare
            continue
        sense, p = head.predict(text)
        assert state["verdict"]["sense"] == sense and abs(state["verdict"]["p"] - p) < 2e-3, (text, state["verdict"], p)
        compared += 1
    assert compared >= 2
    assert roots[0].find_element(By.CSS_SELECTOR, "[data-role=verdict]").text.startswith("判为「")
    finish(jupyter, "04_learning.ipynb", roots[0], "chapter4-typed.png")


WRITE = """
const done = arguments[arguments.length - 1], r = arguments[0];
r.querySelector('[data-role=timing]').textContent = '';
r.querySelector('[data-action=write]').click();
const t0 = Date.now(), look = () => {
  const m = r.querySelector('[data-role=message]');
  if (!m.hidden && m.textContent) return done({message: m.textContent});
  if (r.querySelector('[data-role=timing]').textContent && !r.dataset.busy) return done({poem: r.querySelector('[data-role=poem]').textContent});
  if (Date.now() - t0 > 150000) return done({timeout: true, status: (r.querySelector('[data-role=status]') || {}).textContent});
  setTimeout(look, 100);
};
look();
"""


def test_chapter_9_runs_and_its_poet_writes_as_python_with_every_head_open(jupyter):
    driver = jupyter[1]
    run_chapter(jupyter, "09_poet.ipynb")
    root = widget(driver, "[data-attn-poet]")[-1]
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", root)
    prefix, seed, temperature, top_k = "春", 3, 0.8, 20
    for role, value in (("prefix", prefix), ("seed", seed), ("temperature", temperature), ("top_k", top_k)):
        box = root.find_element(By.CSS_SELECTOR, f"[data-role={role}]")
        box.clear()
        box.send_keys(str(value))
    out = driver.execute_async_script(WRITE, root)
    expected = ats.load_poet().generate(prefix, seed=seed, temperature=temperature, top_k=top_k)
    assert "".join(out.get("poem", "").split()) == expected, out
    # Every head at every step: step back to the first character written, open the last layer's last head.
    shown = driver.execute_script("""
        const p = arguments[0].attnPoet; p.step(1);
        arguments[0].querySelector('[data-cell="3,3"]').click();
        const h = p.shown(); return h && {layer: h.layer, head: h.head, tokens: h.tokens, stages: Object.keys(h.stages).length};""",
                                  root)
    assert shown and (shown["layer"], shown["head"]) == (3, 3) and shown["tokens"][:2] == ["<s>", prefix], shown
    assert shown["stages"] > 0, shown
    finish(jupyter, "09_poet.ipynb", root, "chapter9-poet.png")


def test_chapter_8_runs_in_notebook_7_and_its_tile_widget_steps_to_plain_attention(jupyter):
    """Notebook 7's interface (the `notebook` package, /notebooks/…) runs the same live widgets."""
    driver = jupyter[1]
    run_chapter(jupyter, "08_tiles_and_cache.ipynb", ui="notebook")
    roots = driver.find_elements(By.CSS_SELECTOR, ".attn-live [data-attn-tiles]")
    assert roots and driver.execute_script("return !!arguments[0].attnTiles", roots[0])
    state = driver.execute_script("const t = arguments[0].attnTiles; t.go(t.state().total); return t.state();", roots[0])
    assert state["k"] == state["total"] > 0
    prose = driver.execute_script("return getComputedStyle(document.querySelector('.jp-RenderedMarkdown')).fontFamily")
    assert prose.replace('"', "").startswith(FAMILY), prose  # the chapter's Chinese too, with the widget's font
    finish(jupyter, "08_tiles_and_cache.ipynb", None, "chapter8-notebook7.png")
