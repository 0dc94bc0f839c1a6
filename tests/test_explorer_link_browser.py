"""The explorer's live checks and its link, in headless Chromium on the built site.

If these fail, the checks a reader should make beside the softmax (rows sum to 1,
masked cells are 0, the output a weighted mean of V's rows) would show numbers that
are not the page's, or never say when one fails; and a copied link would not reopen
the view it was copied from, or a hand-edited one would break the page.
"""

from __future__ import annotations

import functools
import operator
import re
from pathlib import Path

import numpy as np
import pytest
from selenium.webdriver.common.by import By

import attn_steps as ats

from tools import browser
from .conftest import TEXT1

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "_build" / "screenshots" / "link"
CHAPTER2 = "notebooks/02_walkthrough.html"
BUILT_PAGE = CHAPTER2  # for the conftest's base and driver fixtures
RESTORED = """
const done = arguments[arguments.length - 1];
arguments[0].attnExplorer.restored.then((r) => done(r), (e) => done("error: " + e));
"""
TYPE = """
const done = arguments[arguments.length - 1];
arguments[0].attnExplorer.type(arguments[1], arguments[2]).then(done, (e) => done("error: " + e));
"""


def js_exp(v: float) -> str:
    """A number as explorer_checks.js writes it: toExponential(1), a true minus; 0 as 0."""
    if v == 0:
        return "0"
    mantissa, exponent = f"{v:.1e}".split("e")
    return f"{mantissa}e{int(exponent):+d}".replace("-", "−")


def first_explorer(driver):
    return driver.find_elements(By.CSS_SELECTOR, "[data-attn-explorer]")[0]


def open_at(driver, url):
    """A fresh load of url (a link with only another hash would not reload the page), the link's view restored."""
    driver.get("about:blank")
    browser.open_page(driver, url)
    root = first_explorer(driver)
    restored = driver.execute_async_script(RESTORED, root)
    assert not str(restored).startswith("error"), restored
    return root, restored


def add(values) -> float:
    return functools.reduce(operator.add, values)  # left to right, as the page adds


@pytest.mark.parametrize("changes", [{}, {"temperature": 0.25, "d_k": 24, "seed": 5}])
def test_the_checks_beside_the_softmax_and_the_output_are_the_pages_numbers(driver, base, changes):
    root, _ = open_at(driver, base + CHAPTER2)
    st = driver.execute_script("return arguments[0].attnExplorer.set(arguments[1])", root, changes)
    W, V, O = (np.array(st["stages"][k]) for k in ("weights", "V", "output"))
    checks = st["checks"]
    row_sum = max(abs(add(row) - 1) for row in W)
    gap = max(abs(add(W[i, j] * V[j, c] for j in range(len(V))) - O[i, c]) for i in range(len(O)) for c in range(O.shape[1]))
    assert checks["rowSum"] == row_sum <= 1e-12 and checks["meanGap"] == gap <= 1e-12
    inside = ((O >= V.min(axis=0) - 1e-12) & (O <= V.max(axis=0) + 1e-12)).sum()
    assert checks["outputs"] - checks["outside"] == inside == O.size and checks["negative"] == 0
    driver.execute_script("arguments[0].attnExplorer.show('all')", root)
    weights = root.find_element(By.CSS_SELECTOR, "[data-role=check-weights]").text
    output = root.find_element(By.CSS_SELECTOR, "[data-role=check-output]").text
    assert f"与 1 最多差 {js_exp(row_sum)}" in weights and "✓" in weights and "✗" not in weights, weights
    assert f"与输出最多差 {js_exp(gap)}" in output and f"{O.size} / {O.size} 个" in output and "✗" not in output, output
    driver.execute_script("arguments[0].attnExplorer.show('softmax')", root)
    assert root.find_element(By.CSS_SELECTOR, "[data-role=check-weights]").is_displayed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    panel = root.find_element(By.CSS_SELECTOR, "[data-panel=weights]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", panel)
    panel.screenshot(str(SHOTS / f"checks-weights-{len(changes)}.png"))
    assert browser.console_errors(driver) == []


def test_a_masked_explorer_checks_its_masked_cells_and_a_failing_check_says_so(driver, base):
    open_at(driver, base + CHAPTER2)
    X = ats.embed(TEXT1, dim=10)
    browser.append_html(driver, ats.explore(ats.self_attention(X, ats.init_weights(10, 4, seed=3), causal=True)).html)
    masked = driver.find_elements(By.CSS_SELECTOR, "[data-attn-explorer]")[-1]
    st = driver.execute_script("return arguments[0].attnExplorer.state()", masked)
    assert st["checks"]["masked"] == {"cells": 28, "max": 0}
    text = masked.find_element(By.CSS_SELECTOR, "[data-role=check-weights]").get_attribute("textContent")
    assert "被遮挡的 28 格，权重最大是 0（要求正好是 0）✓" in text, text
    # the same checks on numbers that are wrong: a row summing to 0.9, a masked cell of 0.1, an output off V's hull
    bad = driver.execute_script("""
      const C = window.AttnChecks;
      const m = C.measure({weights: [[0.5, 0.4], [0.1, 0.9]], V: [[1, 2], [3, 4]], output: [[9, 2], [2.8, 3.8]]},
                          [[true, true], [false, true]]);
      return [m, C.html(m).weights + C.html(m).output];""")
    m, html = bad
    assert m["rowSum"] == pytest.approx(0.1) and m["masked"] == {"cells": 1, "max": 0.1} and m["outside"] >= 1
    assert html.count("✗") >= 3, html


def test_a_copied_link_reopens_the_same_view(driver, base):
    """Sentence, cut, seed, d_k, τ, stage and followed word survive a reload from the copied address."""
    root, restored = open_at(driver, base + CHAPTER2)
    assert restored is False and driver.execute_script("return location.hash") == "", "the address changes only after the reader does"
    typed = driver.execute_async_script(TYPE, root, "我的苹果手机没电了", "char")
    assert typed["tokens"] == list("我的苹果手机没电了")
    driver.execute_script("arguments[0].attnExplorer.set({seed: 7, d_k: 12, temperature: 0.5, scale: false, query: '电'})", root)
    driver.execute_script("arguments[0].attnExplorer.show('分数')", root)
    want = driver.execute_script("return arguments[0].attnExplorer.state()", root)
    link = driver.current_url
    assert "#" in link and "e1.seed=7" in link
    root, restored = open_at(driver, link)
    got = driver.execute_script("return arguments[0].attnExplorer.state()", root)
    assert restored is True
    assert got["settings"] == want["settings"] and got["view"] == want["view"] == "分数" and got["tokens"] == want["tokens"]
    assert got["stages"] == want["stages"]
    back = driver.execute_script("return arguments[0].attnExplorer.typed()", root)
    assert back["text"] == "我的苹果手机没电了" and back["mode"] == "char"
    assert driver.find_element(By.CSS_SELECTOR, "[data-role=message]").get_attribute("hidden") is not None
    shown = [td.get_attribute("textContent") for td in root.find_elements(By.CSS_SELECTOR, "td[data-stage]")]
    assert any(-0.5 < v < 0 for row in got["stages"]["scores"] for v in row)  # a score that rounds to zero
    assert not [t for t in shown if re.fullmatch(r"−0(\.0+)?", t)], "a signed zero, as ats.heatmap never writes"
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.execute_script("arguments[0].scrollIntoView()", root)
    root.screenshot(str(SHOTS / "restored.png"))
    assert browser.console_errors(driver) == []


MANGLED = {
    "e1.seed=-3": "种子", "e1.d_k=abc": "d_k", "e1.d_k=500": "d_k", "e1.temperature=0": "温度",
    "e1.view=nonsense": "没有「nonsense」这一步", "e1.q=%E4%B8%8D%E5%AD%98%E5%9C%A8": "跟随的词",
    "e1.text=%E6%88%91&e1.cut=xyz": "分词方式", "e1.scale=maybe": "scale", "e1.seed=%E4%B8": "种子",
}


@pytest.fixture(scope="module")
def default_view(driver, base):
    """Chapter 2's first explorer as the page opens without a link: read once for every mangled link below."""
    open_at(driver, base + CHAPTER2)
    return driver.execute_script("return arguments[0].attnExplorer.state()", first_explorer(driver))


@pytest.mark.parametrize("fragment", [*MANGLED, "section-id", "%%%", "e1.seed", "e2.seed=3&e9.x=1"])
def test_a_mangled_link_gets_the_usual_message_and_the_default_view(driver, base, default_view, fragment):
    default = default_view
    root, restored = open_at(driver, f"{base}{CHAPTER2}#{fragment}")
    got = driver.execute_script("return arguments[0].attnExplorer.state()", root)
    assert got["settings"] == default["settings"] and got["view"] == default["view"] and got["stages"] == default["stages"]
    message = root.find_element(By.CSS_SELECTOR, "[data-role=message]")
    if fragment in MANGLED:
        assert restored is False and message.is_displayed()
        assert message.text.startswith("这个链接里的设置用不了") and MANGLED[fragment] in message.text, message.text
    else:  # an anchor, or no value for this explorer: nothing to restore, nothing to say
        assert not message.is_displayed()
    assert browser.console_errors(driver) == []


def test_outside_the_site_an_explorer_leaves_the_address_alone(driver, tmp_path):
    """If this broke, an explorer in Jupyter would read or rewrite Jupyter's own address."""
    page = tmp_path / "notebook.html"
    page.write_text(f'<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><body>{ats.explore(TEXT1).html}</body>', encoding="utf-8")
    with browser.serve(tmp_path) as url:
        root, restored = open_at(driver, url + "notebook.html#e1.seed=3")
        assert restored is False
        assert driver.execute_script("return arguments[0].attnExplorer.set({seed: 5}).settings.seed", root) == 5
        assert driver.execute_script("return location.hash") == "#e1.seed=3"
    assert browser.console_errors(driver) == []
