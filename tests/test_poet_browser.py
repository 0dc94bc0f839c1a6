"""The poet's widget in headless Chromium: the same numbers and poems as numpy, every head open, bad input answered.

If these fail, a reader of the static site would see probabilities or poems that
differ from `poet.run` and `poet.generate` in Python (with every head, or with some
removed), a head whose stages are not `run.heads[layer][head]`, a step they cannot go
back to, a head they cannot switch off, a traceback instead of a Chinese message,
weights downloaded before they are needed (or from another host), or a model other
than the page's. The page is a bare one, served on 127.0.0.1 as a static host serves
the site, with the widget of a small random model and its exported site files;
the chapter's page is not needed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attn_steps as ats
from attn_steps import poet_web

from tools import browser
from .conftest import require_browser
from tools.poet_random import write_tiny_poet

pytestmark = pytest.mark.browser

PACKAGE = Path(ats.__file__).resolve().parent
SCREENSHOTS = PACKAGE.parent / "_build" / "screenshots" / "poet"
FONT = "NotoSansCJKsc-Regular-GB2312.otf"
VOCAB = {line.split("\t")[0] for line in (poet_web.DATA / "vocab.tsv").read_text(encoding="utf-8").splitlines()[4:]}
# Test poems (not trained on), 5- and 7-character lines, 4 and 8 lines, every character in the vocabulary.
POEMS = [p for p in (poet_web.DATA / "test_poems.txt").read_text(encoding="utf-8").split() if set(p) <= VOCAB]
POEMS = [next(p for p in POEMS if len(p) == n) for n in (24, 32, 48, 64)]


def page_html(widget, theme: str = "light") -> str:
    return (f'<!doctype html><html data-content_root="./" data-theme="{theme}"><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>poet</title><link rel="icon" href="data:,"><style>@font-face {{ font-family: "Book CJK"; '
            f'src: url("{FONT}") format("opentype"); }} body {{ font-family: "Book CJK", sans-serif; margin: 8px; '
            f'background: {"#121212" if theme == "dark" else "#fff"}; }}</style><body>{widget.html}</body></html>')


def with_head_means(folder: Path, seed: int = 0) -> Path:
    """The random model's model.json with each head's mean output (as tools/train_poet.py records a trained one's),
    unless it has them already: what a knock-out puts in a head's place, in Python and in the page."""
    info = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    if "head_means" not in info:
        hs = info["n_embd"] // info["n_head"]
        info["head_means"] = (0.3 * np.random.default_rng(seed).standard_normal((info["n_layer"], info["n_head"], hs))).tolist()
        (folder / "model.json").write_text(json.dumps(info), encoding="utf-8")
    return folder


def effects_table(poet) -> pd.DataFrame:
    """A table shaped as ats.head_effects returns it: layer 1 · head 0 costs 2.5 nats at rhyme slots."""
    slots = poet_web.EFFECT_SLOTS
    rows = [dict(layer=l, head=h, slot=s, intact=-2.0 - k / 10, delta=-2.5 if (l, h, s) == (1, 0, "韵脚") else -0.01 * (l + h))
            for l in range(poet.config.n_layer) for h in range(poet.config.n_head) for k, s in enumerate(slots)]
    table = pd.DataFrame(rows)
    table.attrs["poems"] = 200
    return table


def explorer_pair(first, second):
    """Two widgets as one, for page_html."""
    return type("Pair", (), {"html": first.html + second.html})()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_browser()
    # some poems end with </s>, some fill the context; int8, packed and float16 matrices, every kind the page reads
    tiny = with_head_means(write_tiny_poet(tmp_path_factory.mktemp("tiny-poet"), end_boost=4, float16=["transformer.wpe.weight"]))
    poet = ats.load_poet(tiny)
    site = tmp_path_factory.mktemp("poet-site")
    poet_web.export_site(site / "_static" / "attn-poet", tiny)
    shutil.copy(PACKAGE / "data" / FONT, site / FONT)
    roles = pd.DataFrame([dict(role="previous character", layer=0, head=1, score=0.4, untrained=0.08, uniform=0.1)])
    widget = ats.poet_widget(poet, roles=roles, weights=tiny, effects=effects_table(poet))
    # The page shows each step for 60 ms as it writes; here 1 ms, so the many poems of these tests take a tenth
    # of the time (chapter 9's page keeps the reader's pace: test_poet_chapter_browser.py).
    widget = type(widget).of({**widget.data, "delay_ms": 1}, weights=widget.weights)
    (site / "index.html").write_text(page_html(widget), encoding="utf-8")
    (site / "dark.html").write_text(page_html(widget, "dark"), encoding="utf-8")
    second = ats.poet_widget(poet, weights=tiny, title="第二个小诗人")  # two poets on one page, each with its own link
    (site / "two.html").write_text(page_html(explorer_pair(widget, second)), encoding="utf-8")
    # A page built with another model: the site's files must be refused.
    other_folder = write_tiny_poet(tmp_path_factory.mktemp("other"), seed=5)
    other = ats.poet_widget(ats.load_poet(other_folder), weights=other_folder)
    (site / "other.html").write_text(page_html(other), encoding="utf-8")
    return site, poet


@pytest.fixture(scope="module")
def page(site):
    folder, poet = site
    with browser.serve(folder) as url, browser.chromium() as driver:
        browser.open_page(driver, url + "index.html")
        yield driver, poet
        assert browser.console_errors(driver) == []


def call(driver, code: str, *args):
    """Run an async expression on the page's poet (p); its result, or {'error': message}."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1], p = document.querySelector('[data-attn-poet]').attnPoet;"
        f"Promise.resolve().then(() => {code}).then(done, (e) => done({{error: String(e.message || e)}}));", *args)


def weight_requests(driver) -> list[str]:
    return [u for u in browser.requested_urls(driver) if "attn-poet" in u]


def test_weights_load_only_when_first_used_and_never_from_elsewhere(page):
    """If this broke, every reader of the chapter would download the weights, used or not, or the page would call a CDN."""
    driver, _ = page
    assert weight_requests(driver) == [] and call(driver, "p.loaded()") is False
    driver.execute_script("const s = document.querySelector('[data-attn-poet] [data-role=status]'); window.said = [];"
                          "new MutationObserver(() => window.said.push(s.textContent)).observe(s, {childList: true, subtree: true, characterData: true})")
    assert call(driver, "p.run('床前').then((r) => r.tokens)") == ["<s>", "床", "前"]
    said = driver.execute_script("return window.said")
    assert any("KB" in t and "/" in t for t in said), said  # the bytes loaded, as they arrive
    urls = browser.requested_urls(driver)
    assert sorted(u.rsplit("/", 1)[1] for u in urls if "attn-poet" in u) == ["poet.bin", "poet.json"]
    assert browser.foreign(urls) == []


def test_float16_decodes_as_numpy_does(page):
    """If this broke, the browser would read the float16 matrices as other numbers than numpy reads them."""
    driver, _ = page
    bits = np.array([0, 0x8000, 1, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x3555, 0x7BFF, 0xFBFF, 0x2E66],
                    dtype=np.uint16)
    drawn = np.random.default_rng(0).integers(0, 0x7C00, 500).astype(np.uint16)  # every finite exponent, both signs
    bits = np.concatenate([bits, drawn | (0x8000 * (np.arange(500) % 2)).astype(np.uint16)])
    theirs = driver.execute_script("return arguments[0].map((b) => window.AttnPoetMath.float16(b));", bits.tolist())
    ours = bits.view(np.float16).astype(np.float64)
    assert [float(x) for x in ours] == theirs


def test_packed_integers_decode_as_numpy_does(page):
    """If this broke, the browser would read the 10- and 12-bit matrices as other numbers than numpy reads them."""
    from attn_steps.poet_weights import pack, unpack

    driver, _ = page
    rng = np.random.default_rng(2)
    for bits in (9, 10, 12, 16):
        v = rng.integers(0, 2 ** bits, 999)
        data = pack(v, bits)
        theirs = driver.execute_script("return Array.from(window.AttnPoetMath.unpackSigned(new Uint8Array(arguments[0]), "
                                       "arguments[1], arguments[2]));", data.tolist(), bits, len(v))
        assert theirs == (unpack(data, bits, len(v)) - 2 ** (bits - 1)).tolist(), bits


def test_probabilities_equal_numpy(page):
    """If this broke, the bars a reader sees would not be the model's probabilities as Python computes them."""
    driver, poet = page
    worst = 0.0
    for text in POEMS:
        theirs = call(driver, "p.run(arguments[0])", text)
        run = poet.run(text)
        assert theirs["tokens"][1:] == list(text)
        worst = max(worst, np.abs(np.array(theirs["probs"]) - run.next_char.to_numpy()).max())
        for layer in range(poet.config.n_layer):
            for head in range(poet.config.n_head):
                assert np.allclose(theirs["heads"][layer][head], run.heads[layer][head].weights.to_numpy(), atol=1e-9, rtol=0)
    print(f"\npoet in Chromium: largest difference from numpy's next-character probabilities {worst:.1e}")
    assert worst < 1e-9


@pytest.mark.parametrize("prefix, seed, temperature, top_k, cache", [
    ("床前", 0, 0.8, 20, True), ("", 1, 1.0, None, True), ("白日", 2, 0.5, 5, False), ("春眠", 7, 1.3, 100, True),
    ("空山", 3, 0.8, 1, False)])
def test_seeded_poem_equals_python(page, prefix, seed, temperature, top_k, cache):
    """If this broke, the same seed would write one poem on the page and another in the chapter's code."""
    driver, poet = page
    theirs = call(driver, "p.generate(arguments[0])",
                  {"prefix": prefix, "seed": seed, "temperature": temperature, "top_k": top_k, "cache": cache})
    ours = poet.generate(prefix, seed=seed, temperature=temperature, top_k=top_k)
    assert theirs == ours


def test_a_poem_that_ends_early_ends_there_in_both(page):
    """If this broke, the page would write past the end token where Python stops (or stop where Python goes on)."""
    driver, poet = page
    seed = next((s for s in range(50) if len(poet.generate("白日", seed=s, temperature=0.5, top_k=5)) < 30), None)
    assert seed is not None, "no seed of 50 ends before 30 characters: the tiny model's end_boost no longer works"
    settings = {"prefix": "白日", "seed": seed, "temperature": 0.5, "top_k": 5}
    for cache in (True, False):
        assert call(driver, "p.generate(arguments[0])", {**settings, "cache": cache}) == poet.generate(
            "白日", seed=seed, temperature=0.5, top_k=5)


def click_write(driver, text: str, cache: bool = True):
    driver.execute_script("const r = document.querySelector('[data-attn-poet]');"
                          "r.querySelector('[data-role=prefix]').value = arguments[0];"
                          "r.querySelector('[data-role=cache]').checked = arguments[1];"
                          "r.querySelector('[data-action=write]').click();", text, cache)


def wait_written(driver, timeout: float = 30.0):
    """Until the page has finished a poem (its timing line is written) or shows a message."""
    return driver.execute_async_script("""
const done = arguments[arguments.length - 1], r = document.querySelector('[data-attn-poet]'), t0 = Date.now();
const look = () => {
  const msg = r.querySelector('[data-role=message]'), timing = r.querySelector('[data-role=timing]');
  if (!msg.hidden) return done({message: msg.textContent});
  if (timing.textContent && !r.dataset.busy) return done({poem: r.querySelector('[data-role=poem]').textContent, timing: timing.textContent});
  if (Date.now() - t0 > arguments[0] * 1000) return done({timeout: true});
  setTimeout(look, 50);
};
look();""", timeout)


def test_writing_shows_each_step_and_a_head_opens_on_its_stages(page):
    """If this broke, a reader could not watch the poem being written, see the candidates or open a head."""
    driver, poet = page
    driver.execute_script("document.querySelector('[data-attn-poet] [data-role=timing]').textContent = ''")
    click_write(driver, "床前")
    out = wait_written(driver)
    assert out.get("poem", "").startswith("床前") and "ms" in out["timing"], out
    poem = out["poem"]
    assert poem == poet.generate("床前", seed=0, temperature=0.8, top_k=20)
    assert driver.execute_script("return document.querySelectorAll('[data-attn-poet] .ap-bar.ap-chosen').length") == 1
    cells = driver.execute_script("return [...document.querySelectorAll('[data-attn-poet] [data-cell]')].map((c) => c.dataset.cell)")
    assert cells == [f"{l},{h}" for l in range(poet.config.n_layer) for h in range(poet.config.n_head)]
    labelled = driver.execute_script("return [...document.querySelectorAll('[data-attn-poet] [data-cell] i')].map((i) => [i.closest('[data-cell]').dataset.cell, i.textContent])")
    assert labelled == [["0,1", "前一字"]]
    driver.execute_script("document.querySelector('[data-attn-poet] [data-cell=\"1,1\"]').click()")
    shown = call(driver, "p.shown()")
    t = len(shown["tokens"])
    run = poet.run(poem[:t - 1])
    steps = run.heads[1][1]
    assert shown["layer"] == 1 and shown["head"] == 1
    for name in ("Q", "K", "V", "weights", "output"):
        assert np.allclose(shown["stages"][name], getattr(steps, name).to_numpy(), atol=1e-9, rtol=0), name
    assert np.allclose(shown["stages"]["X"], steps.X.to_numpy(), atol=1e-12, rtol=0)
    panels = driver.execute_script("return [...document.querySelectorAll('[data-attn-poet] [data-role=head] .ae-panel')].map((p) => p.dataset.panel)")
    assert panels == ["X", "Q", "K", "V", "scores", "scaled", "masked", "weights", "output"]
    rows = driver.execute_script("const p = document.querySelector('[data-attn-poet] [data-panel=K]');"
                                 "return [p.querySelectorAll('tr.ap-cached').length, p.querySelectorAll('tr.ap-new').length]")
    assert rows == [t - 1, 1]  # the earlier keys came from the cache, the last one is new
    driver.execute_script("document.querySelector('[data-attn-poet] [data-stop]').click();"
                          "document.querySelector('[data-attn-poet] td[data-stage=X][data-row=\"0\"][data-col=\"3\"]').click()")
    prov = driver.execute_script("return document.querySelector('[data-attn-poet] [data-role=prov-body]').textContent")
    assert "LayerNorm" in prov and "第 1 层" in prov  # layers and heads counted from 0, as run.heads and the chapter count them
    csv = driver.execute_async_script("""
const done = arguments[arguments.length - 1], made = URL.createObjectURL;
URL.createObjectURL = (blob) => { URL.createObjectURL = made; blob.text().then(done); return made(blob); };
document.querySelector('[data-attn-poet] [data-export=weights][data-format=csv]').click();""")
    lines = csv.strip().splitlines()
    assert len(lines) == t + 1 and lines[0].split(",")[1:] == [str(c) for c in steps.weights.columns]


def test_without_the_cache_the_same_poem_and_both_timings(page):
    """If this broke, the page could not show what the KV cache saves, or would write another poem without it."""
    driver, poet = page
    driver.execute_script("document.querySelector('[data-attn-poet] [data-role=timing]').textContent = ''")
    click_write(driver, "床前", cache=False)
    out = wait_written(driver)
    assert out["poem"] == poet.generate("床前", seed=0, temperature=0.8, top_k=20)
    ms = call(driver, "p.ms()")
    assert set(ms) == {"cache", "none"} and all(v > 0 for v in ms.values())
    print(f"\npoet in Chromium, tiny model: {ms['cache']:.2f} ms per character with the cache, {ms['none']:.2f} without")


@pytest.mark.parametrize("text, words", [
    ("床前明月光疑是地", "最多 7 个字"), ("abc", "字母"), ("床前12", "数字"), ("月😀", "表情符号"),
    ("，。", "只有标点"), ("床前龘", "不在小诗人认识")])
def test_bad_input_gets_a_message_and_the_page_keeps_working(page, text, words):
    """If this broke, a reader typing a name, a number or an emoji would see nothing happen, or a broken page."""
    driver, _ = page
    click_write(driver, text)
    out = wait_written(driver)
    assert words in out.get("message", ""), out
    if words == "不在小诗人认识":  # the unknown character is marked, not dropped
        marked = driver.execute_script("return [...document.querySelectorAll('[data-attn-poet] .ap-unknown')].map((s) => s.textContent)")
        assert marked == ["龘"]
    assert browser.console_errors(driver) == []
    click_write(driver, "白日")
    assert wait_written(driver).get("poem", "").startswith("白日")


def test_files_of_another_model_are_refused(site):
    """If this broke, a page built with one model would silently run another model's weights."""
    folder, _ = site
    with browser.serve(folder) as url, browser.chromium() as driver:
        browser.open_page(driver, url + "other.html")
        assert "拒绝使用" in call(driver, "p.run('床前')")["error"]
        click_write(driver, "床前")
        assert "拒绝使用" in wait_written(driver)["message"]
        assert browser.console_errors(driver) == []


@pytest.mark.parametrize("width, theme", [(375, "light"), (375, "dark"), (1100, "dark"), (1100, "light")])
def test_narrow_and_dark_pages_do_not_scroll_sideways(site, width, theme):
    """If this broke, a phone reader would scroll sideways, or a dark-theme reader could not read the buttons."""
    folder, _ = site
    with browser.serve(folder) as url, browser.chromium(width=width, height=1400) as driver:
        browser.open_page(driver, url + ("dark.html" if theme == "dark" else "index.html"))
        click_write(driver, "白日")
        assert wait_written(driver).get("poem")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / f"poet-{width}-{theme}-written.png"))
        driver.execute_script("document.querySelector('[data-attn-poet] [data-cell=\"0,1\"]').click()")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
        ink = driver.execute_script("const b = document.querySelector('[data-attn-poet] [data-action=stop]');"
                                    "const s = getComputedStyle(b); return [s.color, s.backgroundColor]")
        assert ink[0] != ink[1]
        driver.save_screenshot(str(SCREENSHOTS / f"poet-{width}-{theme}-head.png"))
        assert browser.console_errors(driver) == []


def test_stop_ends_the_poem_where_it_is(page):
    """If this broke, 停 would not stop the writing, or the page would stay busy."""
    driver, poet = page
    click_write(driver, "床前", cache=False)
    driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                "setTimeout(() => { document.querySelector('[data-attn-poet] [data-action=stop]').click(); done(); }, 400)")
    before = driver.execute_script("return document.querySelector('[data-attn-poet] [data-role=poem]').textContent")
    driver.execute_async_script("setTimeout(arguments[arguments.length - 1], 600)")
    after = driver.execute_script("const r = document.querySelector('[data-attn-poet]');"
                                  "return [r.querySelector('[data-role=poem]').textContent, r.dataset.busy || '']")
    assert after == [before, ""] and before.startswith("床前")
    assert len(before) < len(poet.generate("床前", seed=0, temperature=0.8, top_k=20))


@pytest.mark.parametrize("role, value, words", [("temperature", "0", "温度"), ("top_k", "0", "top-k"),
                                                ("seed", "1.5", "种子")])
def test_bad_settings_get_a_message(page, role, value, words):
    """If this broke, a temperature of 0 or a fractional seed would fail silently or write with a wrong setting."""
    driver, _ = page
    box = f"document.querySelector('[data-attn-poet] [data-role={role}]')"
    old = driver.execute_script(f"const b = {box}, v = b.value; b.value = arguments[0]; return v", value)
    click_write(driver, "床前")
    assert words in wait_written(driver).get("message", "")
    driver.execute_script(f"{box}.value = arguments[0]", old)
    click_write(driver, "床前")
    assert wait_written(driver).get("poem", "").startswith("床前")
    assert browser.console_errors(driver) == []


def test_script_hook_refuses_what_python_refuses(page):
    """If this broke, a script calling attnPoet.generate with a temperature of 0 or a bad seed would get a poem
    where poet.generate raises, or a traceback instead of a sentence."""
    driver, _ = page
    for bad, words in [({"temperature": 0}, "温度"), ({"top_k": 0}, "top-k"), ({"seed": -1}, "种子"),
                       ({"prefix": "abc"}, "字母"), ({"prefix": "龘"}, "不在小诗人认识")]:
        assert words in call(driver, "p.generate(arguments[0])", {"prefix": "床前", **bad})["error"]
    assert browser.console_errors(driver) == []


# ---- heads removed (issue 27): the page's model equals Python's, the reader's switches, every step revisited ----

KNOCKS = [([[1, 1]], "mean"), ([[0, 0], [1, 0]], "mean"), ([[1, 1]], "zero"), ([[0, 0], [1, 0]], "zero")]


@pytest.mark.parametrize("knock, mode", KNOCKS)
def test_with_heads_removed_the_page_writes_and_reads_as_python(page, knock, mode):
    """If this broke, a reader who removes a head would see a poem or probabilities that Python's poet.generate and
    poet.run with the same knock do not give: the page's claim about what a head does would be another model's."""
    driver, poet = page
    pairs = [tuple(p) for p in knock]
    for prefix, seed, cache in (("床前", 0, True), ("", 3, False), ("白日", 11, True)):
        theirs = call(driver, "p.generate(arguments[0])", {"prefix": prefix, "seed": seed, "temperature": 0.8, "top_k": 20,
                                                          "cache": cache, "knock": knock, "knock_mode": mode})
        assert theirs == poet.generate(prefix, seed=seed, temperature=0.8, top_k=20, knock=pairs, knock_mode=mode), (prefix, seed)
    text = POEMS[1]
    theirs = call(driver, "p.run(arguments[0], arguments[1])", text, {"knock": knock, "knock_mode": mode})
    run = poet.run(text, knock=pairs, knock_mode=mode)
    assert np.abs(np.array(theirs["probs"]) - run.next_char.to_numpy()).max() < 1e-9
    assert np.abs(np.array(theirs["probs"]) - poet.run(text).next_char.to_numpy()).max() > 1e-6  # the knock changed something
    for layer, head in pairs:  # the removed head still attends, as in Python
        assert np.allclose(theirs["heads"][layer][head], run.heads[layer][head].weights.to_numpy(), atol=1e-9, rtol=0)


@pytest.mark.parametrize("knock, mode, words", [
    ([[2, 0]], "mean", "层 0–1，头 0–1"), ([[0, 2]], "mean", "层 0–1，头 0–1"), ([[0, -1]], "mean", "层 0–1"),
    ([[1, 1], [1, 1]], "mean", "两次"), ([[0.5, 1]], "mean", "整数"), ([["0", 1]], "mean", "整数"), ([0, 1], "mean", "[层, 头]"),
    ("1,1", "mean", "数组"), ([[1, 1]], "avg", "knock_mode")])
def test_a_bad_knock_is_refused_in_chinese_and_nothing_is_computed(page, knock, mode, words):
    """If this broke, a script asking for head 7 of a 2-head layer would get a poem (of some other model) or a traceback."""
    driver, _ = page
    for code in ("p.generate(arguments[0])", "p.run('床前', arguments[0])"):
        out = call(driver, code, {"prefix": "床前", "knock": knock, "knock_mode": mode})
        assert words in out.get("error", ""), (code, out)
    assert browser.console_errors(driver) == []


def written(driver) -> dict:
    return driver.execute_script("""
const r = document.querySelector('[data-attn-poet]'), q = (s) => [...r.querySelectorAll(s)];
return {steps: q('[data-role=poem] [data-step]').map((b) => b.dataset.step), label: r.querySelector('[data-role=step-label]').textContent,
        chosen: r.querySelector('.ap-bar.ap-chosen .ap-char').textContent, at: q('.ap-ch.ap-at').map((b) => b.dataset.step),
        prev: r.querySelector('[data-action=prev]').disabled, next: r.querySelector('[data-action=next]').disabled,
        position: Number(r.querySelector('[data-role=grid]').dataset.position)};""")


def row_of(driver, layer: int, head: int) -> list[float]:
    """The tile's colours are not numbers: the row a tile draws, read from its cells' tooltips (2 decimals)."""
    return driver.execute_script("return [...document.querySelectorAll(`[data-attn-poet] [data-cell=\\\"${arguments[0]},${arguments[1]}\\\"] .ap-row span`)]"
                                 ".map((s) => Number(s.title.split(' ').pop()))", layer, head)


def test_every_step_can_be_revisited_and_says_whose_row_it_is(page):
    """If this broke, once the poem is written a reader could not go back to see why the model wrote a character:
    its candidates then, and every head's row at the character it had just read."""
    driver, poet = page
    click_write(driver, "床前")
    poem = wait_written(driver)["poem"]
    assert poem == poet.generate("床前", seed=0, temperature=0.8, top_k=20)
    state = written(driver)
    n = len(poem) - 2 + (1 if len(poem) < poet.config.block_size - 1 else 0)  # every character written, and </s> if drawn
    assert state["steps"] == [str(k) for k in range(n)] and state["at"] == [str(n - 1)] and state["next"]
    run = poet.run(poem)
    for k in (0, 3, n // 2):
        driver.execute_script(f"document.querySelector('[data-attn-poet] [data-role=poem] [data-step=\"{k}\"]').click()")
        state, t = written(driver), 2 + k  # step k read the character at position 2 + k (<s> is 0) and wrote the next
        assert state["at"] == [str(k)] and state["position"] == t and state["prev"] == (k == 0)
        assert state["chosen"] == poem[t] and f"写「{poem[t]}」" in state["label"] and f"读到 「{poem[t - 1]}」" in state["label"]
        assert f"第 {k + 1} / {n} 步" in state["label"]
        for layer in range(poet.config.n_layer):
            for head in range(poet.config.n_head):  # the tile is that character's row, not the last one's
                assert np.allclose(row_of(driver, layer, head), run.heads[layer][head].weights.to_numpy()[t, :t + 1], atol=0.006)
    driver.execute_script("document.querySelector('[data-attn-poet] [data-action=next]').click()")
    assert written(driver)["at"] == [str(n // 2 + 1)]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    stops = driver.execute_script("return [...document.querySelectorAll('[data-attn-poet] [data-role=poem] .ap-ch')]"
                                  ".filter((b) => b.tabIndex === 0).map((b) => b.dataset.step)")
    assert stops == [str(n // 2 + 1)]  # one Tab stop in the poem: the step shown; ← → walk from it
    driver.find_element(By.CSS_SELECTOR, "[data-attn-poet] .ap-ch.ap-at").send_keys(Keys.ARROW_LEFT, Keys.ARROW_LEFT, Keys.ARROW_RIGHT)
    assert written(driver)["at"] == [str(n // 2)]
    assert driver.execute_script("return document.activeElement.dataset.step") == str(n // 2)
    driver.execute_script("document.querySelector('[data-attn-poet] [data-action=prev]').click();"
                          "document.querySelector('[data-attn-poet] [data-action=prev]').click()")
    assert written(driver)["at"] == [str(n // 2 - 2)]


def test_one_verse_per_line(page):
    """If this broke, the poem would run on as one paragraph: a reader could not see its lines, nor where they rhyme."""
    driver, poet = page
    click_write(driver, "床前明月光，疑")  # the random model seldom writes punctuation: the reader's ends a verse
    poem = wait_written(driver)["poem"]
    tops = driver.execute_script("""
const chars = [...document.querySelectorAll('[data-attn-poet] [data-role=poem] .ap-given, [data-attn-poet] [data-role=poem] .ap-ch:not(.ap-end)')];
return chars.map((c) => [c.textContent, Math.round(c.getBoundingClientRect().top)]);""")
    assert "".join(c for c, _ in tops) == poem
    for (c, y), (_, below) in zip(tops, tops[1:]):  # a verse ends at its punctuation, the next starts on a new line
        assert below > y if c in "，。" else True, poem  # (the random model's verses may be wider than the page: they wrap)


def test_switches_remove_heads_and_the_two_poems_are_compared(page):
    """If this broke, a reader could not take a head away to see what it does: no switch (or one a keyboard cannot
    reach), no intact poem beside the other, or no measured cost of the heads removed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, poet = page
    click_write(driver, "床前")
    intact = wait_written(driver)["poem"]
    switch = driver.find_element(By.CSS_SELECTOR, '[data-attn-poet] [data-knock="1,0"]')
    assert switch.tag_name == "button" and switch.get_attribute("aria-label") == "去掉第 1 层 · 头 0"
    assert switch.get_attribute("aria-pressed") == "false"
    switch.send_keys(Keys.ENTER)  # the keyboard reaches it; the focus stays on it after the grid is redrawn
    pressed = driver.execute_script("return [document.activeElement.dataset.knock, document.activeElement.getAttribute('aria-pressed')]")
    assert pressed == ["1,0", "true"]
    driver.execute_script("document.querySelector('[data-attn-poet] [data-role=timing]').textContent = ''")
    click_write(driver, "床前")
    knocked = wait_written(driver)["poem"]
    page_state = driver.execute_script("""
const r = document.querySelector('[data-attn-poet]'), t = (s) => r.querySelector(s).textContent;
return {twin: t('[data-role=twin]'), twinShown: !r.querySelector('[data-role=twin-col]').hidden, title: t('[data-role=main-title]'),
        effects: [...r.querySelectorAll('.ap-effects-table tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent)),
        gone: [...r.querySelectorAll('.ap-cell.ap-removed [data-cell]')].map((b) => b.dataset.cell)};""")
    assert knocked == call(driver, "p.generate(arguments[0])", {"prefix": "床前", "knock": [[1, 0]]}) != intact
    assert page_state["twinShown"] and page_state["twin"] == intact and "第 1 层 · 头 0" in page_state["title"]
    assert page_state["effects"][1] == ["第 1 层 · 头 0", "−2.50", "−0.01", "−0.01", "−0.01", "−0.01"]
    assert page_state["effects"][0][1:] == ["−2.00", "−2.10", "−2.20", "−2.30", "−2.40"]  # the intact model's log p
    assert page_state["gone"] == ["1,0"]
    driver.execute_script("document.querySelector('[data-attn-poet] [data-cell=\"1,0\"]').click()")
    shown = call(driver, "p.shown()")
    assert shown["removed"] == "mean" and "没有交给下一层" in driver.execute_script(
        "return document.querySelector('[data-attn-poet] [data-role=head]').textContent")
    driver.execute_script("document.querySelector('[data-attn-poet] [data-role=twin] [data-step=\"2\"]').click()")
    assert "完整的模型" in written(driver)["label"]  # the intact poem's steps open too
    driver.execute_script("document.querySelector('[data-attn-poet] [data-action=restore]').click()")
    assert driver.execute_script("return [...document.querySelectorAll('[data-attn-poet] [aria-pressed=true][data-knock]')].length") == 0
    click_write(driver, "床前")
    assert wait_written(driver)["poem"] == intact
    assert driver.execute_script("return document.querySelector('[data-attn-poet] [data-role=twin-col]').hidden")
    assert browser.console_errors(driver) == []


def test_rhyme_characters_are_marked_as_python_judges_them(page):
    """If this broke, the page would mark other characters as the rhyme, with other 平水韵 groups, or call a pair
    rhyming that ats.rhymes does not (the table would not have come with the weights, or verse.js not been used)."""
    from attn_steps import verse

    driver, _ = page
    assert call(driver, "p.run('床前').then(() => Boolean(p.model().verse))") is True  # the table came with the weights
    for poem in POEMS:
        got = driver.execute_script("return window.AttnPoetCompare.rhymeMarks(arguments[0], "
                                    "document.querySelector('[data-attn-poet]').attnPoet.model().verse)", poem)
        L, n = verse.verse_form(poem)
        ends = verse.even_line_ends(poem, (L, n))
        assert [m["char"] for m in got["marks"]] == ends and [poem[m["index"]] for m in got["marks"]] == ends
        assert [m["rhymes"] for m in got["marks"][1:]] == [verse.rhymes(a, b) for a, b in verse.rhyme_pairs(poem)]
        assert all(m["group"] in (verse.rhyme_groups(m["char"]) or (None,)) for m in got["marks"])
    odd = driver.execute_script("return window.AttnPoetCompare.rhymeMarks('床前明月光', "
                                "document.querySelector('[data-attn-poet]').attnPoet.model().verse)")
    assert odd == {"form": None, "marks": []}


# Poet k of the page (from 0): its boxes filled, 写诗 pressed, and its poem once finished (or its message).
WRITE_NTH = """
const done = arguments[arguments.length - 1], r = document.querySelectorAll('[data-attn-poet]')[arguments[0]];
for (const [role, value] of Object.entries(arguments[1])) r.querySelector(`[data-role=${role}]`).value = value;
if (Object.keys(arguments[1]).length) r.querySelector('[data-action=write]').click();
const t0 = Date.now(), look = () => {
  const m = r.querySelector('[data-role=message]'), timing = r.querySelector('[data-role=timing]').textContent;
  if (!m.hidden) return done({message: m.textContent});
  if (timing && !r.dataset.busy) return done({poem: r.querySelector('[data-role=poem]').textContent});
  if (Date.now() - t0 > 30000) return done({timeout: true});
  setTimeout(look, 50);
};
look();
"""


def test_two_poets_on_one_page_keep_their_own_links(site):
    """If this broke, two poets on one page would share one link: opening it would give both the same poem, or lose one."""
    from urllib.parse import parse_qs, urlsplit

    folder, poet = site
    with browser.serve(folder) as url, browser.chromium() as driver:
        browser.open_page(driver, url + "two.html")
        one = driver.execute_async_script(WRITE_NTH, 0, {"prefix": "床前", "seed": "1"})
        two = driver.execute_async_script(WRITE_NTH, 1, {"prefix": "白日", "seed": "2"})
        assert one["poem"] == poet.generate("床前", seed=1) and two["poem"] == poet.generate("白日", seed=2)
        link = driver.current_url
        kept = parse_qs(urlsplit(link).fragment)
        assert kept["p1.text"] == ["床前"] and kept["p2.text"] == ["白日"] and kept["p1.seed"] == ["1"] and kept["p2.seed"] == ["2"]
        driver.get("about:blank")
        browser.open_page(driver, link)
        assert driver.execute_async_script(WRITE_NTH, 0, {}) == one and driver.execute_async_script(WRITE_NTH, 1, {}) == two
        assert browser.console_errors(driver) == []
