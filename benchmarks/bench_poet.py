"""The poet in the browser, issue 23's budgets (weights on the wire, click to first character, ms per character)
and issue 27's (the data heads removed need, ms per character with heads removed, the tiles' layout).

Called by benchmarks/bench.py. The shipped weights when attn_steps ships them,
else a random model of tools/train_poet.py's default size (4 × 4 × 96), whose
sizes and timings are a trained model's (its poems are noise; the figure's name says so).
Measured on a bare page with the widget, served on 127.0.0.1, in headless Chromium.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import attn_steps as ats
from attn_steps import poet_web
from tools import browser
from tools.poet_random import CONFIG, write_tiny_poet

# The widget's first character after a click, once the weights are loaded; then its timings per character.
FIRST = """
const done = arguments[arguments.length - 1], r = document.querySelector('[data-attn-poet]');
r.querySelector('[data-role=prefix]').value = arguments[0];
r.querySelector('[data-role=cache]').checked = arguments[1];
const poem = r.querySelector('[data-role=poem]'), t0 = performance.now();
new MutationObserver((_, obs) => {
  if (poem.querySelector('.ap-new-char')) { obs.disconnect(); done(performance.now() - t0); }
}).observe(poem, {childList: true});
r.querySelector('[data-action=write]').click();
"""
WAIT = """
const done = arguments[arguments.length - 1], r = document.querySelector('[data-attn-poet]');
const look = () => (r.dataset.busy ? setTimeout(look, 50) : done(r.attnPoet.ms()));
look();
"""
# 64 characters written with (or without) the cache, </s> never drawn, the best of three.
POEM64 = """
const P = window.AttnPoetMath, model = document.querySelector('[data-attn-poet]').attnPoet.model(), cache = arguments[0];
let best = Infinity;
for (let k = 0; k < 3; k++) {
  const t0 = performance.now(), w = P.writer(model, [P.START], {seed: k, temperature: 0.8, top_k: 20, cache});
  for (let n = 0; n < 64; n++) { const out = w.next(); if (out === null || out.id === P.END) break; }
  best = Math.min(best, performance.now() - t0);
}
return best;
"""


# Issue 27: heads removed. The widget's switch for one head, then a poem written without it (the cache on).
KNOCK = """
const done = arguments[arguments.length - 1], r = document.querySelector('[data-attn-poet]');
r.querySelector('[data-role=knock_mode]').value = arguments[1];
const b = r.querySelector(`[data-knock="${arguments[0]}"]`);
if (b.getAttribute('aria-pressed') !== 'true') b.click();
r.querySelector('[data-role=cache]').checked = true;
r.querySelector('[data-action=write]').click();
const look = () => (r.dataset.busy ? setTimeout(look, 50) : done(r.attnPoet.ms()));
look();
"""
POEM64_KNOCKED = POEM64.replace("cache});", "cache, knock: arguments[1], knock_mode: arguments[2]});")
# Per layer: are its name and all its head tiles on one line? And does anything stick out of the window?
LAYOUT = """
const layers = [...document.querySelectorAll('[data-attn-poet] .ap-layer')];
const boxes = (l) => [...l.children].map((c) => c.getBoundingClientRect());  // one row: every box overlaps every other's height
const oneRow = layers.filter((l) => Math.max(...boxes(l).map((b) => b.top)) < Math.min(...boxes(l).map((b) => b.bottom))).length;
const out = [...document.querySelectorAll('[data-attn-poet] .ap-cell, [data-attn-poet] .ap-poem-col, [data-attn-poet] .ap-switch')]
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5).length;
return {layers: layers.length, oneRow, out, scroll: document.documentElement.scrollWidth - window.innerWidth};
"""


def effects_stand_in(poet) -> pd.DataFrame:
    """A table of ats.head_effects' shape (every head × every slot, 3-decimal values): the payload's size depends on
    the shape, not on the measured numbers, and measuring them here would take minutes."""
    rng = np.random.default_rng(0)
    c = poet.config
    return pd.DataFrame([dict(layer=l, head=h, slot=s, delta=-abs(rng.normal(0, 1)), intact=-2.0 - k / 7)
                         for l in range(c.n_layer) for h in range(c.n_head) for k, s in enumerate(poet_web.EFFECT_SLOTS)])


def knock_figures(url: str, poet, driver, manifest: dict, label: str) -> list:
    """Issue 27's budgets: the extra data, ms per character with a head removed, the tiles at 1280 and 375 px."""
    from benchmarks.figures import Figure

    dumps = lambda v: len(json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode())  # noqa: E731
    means = dumps(manifest.get("head_means")) if manifest.get("head_means") is not None else 0
    rhyme = dumps(manifest["rhyme"]) if manifest.get("rhyme") is not None else 0
    effects = dumps(poet_web.effects_payload(effects_stand_in(poet), manifest["config"]))
    extra = (means + rhyme + effects) / 1000
    mode = "mean" if manifest.get("head_means") is not None else "zero"
    last = f"{poet.config.n_layer - 1},{poet.config.n_head - 1}"
    ms = driver.execute_async_script(KNOCK, last, mode)
    knock = [[poet.config.n_layer - 1, poet.config.n_head - 1]]
    knocked64 = driver.execute_script(POEM64_KNOCKED, True, knock, mode)
    at1280 = driver.execute_script(LAYOUT)
    with browser.chromium(width=375, height=2400) as phone:
        browser.open_page(phone, url + "index.html")
        phone.execute_async_script(FIRST, "床前", True)
        phone.execute_async_script(WAIT)
        phone.execute_async_script(KNOCK, last, mode)
        at375 = phone.execute_script(LAYOUT)
    print(f"  poet ({label}), heads removed: extra data {extra:.1f} kB (head means {means / 1000:.1f}, rhyme table "
          f"{rhyme / 1000:.1f}, measured effects {effects / 1000:.1f}); {ms['knock-cache']:.1f} ms per character with "
          f"layer {last.replace(',', ' · head ')} removed ({mode}); 64 characters {knocked64:.0f} ms; "
          f"1280 px: {at1280['oneRow']}/{at1280['layers']} layers on one row; 375 px: {at375['out']} parts outside, "
          f"{at375['scroll']} px of sideways scroll")
    return [
        Figure(f"poet ({label}): data for heads removed (means, rhyme table, effects)", extra, "kB", "≤ 60"),
        Figure(f"poet ({label}): per character, a head removed (KV cache)", ms["knock-cache"], "ms", "≤ 30"),
        Figure(f"poet ({label}): 64 characters, a head removed (KV cache)", knocked64 / 1000, "s"),
        Figure(f"poet ({label}): layers whose heads share one labelled row at 1280 px", at1280["layers"] - at1280["oneRow"],
               "rows broken", "≤ 0"),
        Figure(f"poet ({label}): parts outside a 375 px window + sideways scroll", at375["out"] + max(at375["scroll"], 0),
               "count + px", "≤ 0"),
    ]


def measure(folder: Path, label: str) -> list:
    from benchmarks.figures import Figure

    poet = ats.load_poet(folder)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        sizes = poet_web.export_site(site / "_static" / "attn-poet", folder)
        raw = sum(sizes.values()) / 1000  # GitHub Pages may not compress .bin: the budget is on the raw bytes
        wire = sum(len(gzip.compress((site / "_static" / "attn-poet" / n).read_bytes(), 6)) for n in sizes) / 1000
        widget = ats.poet_widget(poet, weights=folder)
        (site / "index.html").write_text('<!doctype html><html data-content_root="./"><meta charset="utf-8">'
                                         f'<link rel="icon" href="data:,"><body>{widget.html}</body></html>', encoding="utf-8")
        page = len(gzip.compress((site / "index.html").read_bytes(), 6)) / 1000
        with browser.serve(site) as url, browser.chromium() as driver:
            browser.open_page(driver, url + "index.html")
            firsts = []
            for k in range(4):  # the first click loads the weights: not counted
                firsts.append(driver.execute_async_script(FIRST, "床前", True))
                driver.execute_async_script(WAIT)
            first = min(firsts[1:])
            driver.execute_async_script(FIRST, "床前", False)
            ms = driver.execute_async_script(WAIT)
            cached, uncached = driver.execute_script(POEM64, True), driver.execute_script(POEM64, False)
            manifest = json.loads((site / "_static" / "attn-poet" / "poet.json").read_text(encoding="utf-8"))
            knocked = knock_figures(url, poet, driver, manifest, label)
    print(f"  poet ({label}): weights {raw:.0f} kB ({wire:.0f} kB gzipped); first character {first:.0f} ms after the click; "
          f"{ms['cache']:.1f} ms per character with the cache, {ms['none']:.1f} without; "
          f"64 characters {cached:.0f} ms with the cache, {uncached:.0f} without")
    return [
        Figure(f"poet ({label}): weights on the wire (uncompressed)", raw, "kB", "≤ 1000"),
        Figure(f"poet ({label}): weights on the wire (gzip)", wire, "kB"),
        Figure(f"poet ({label}): widget HTML (gzip)", page, "kB", "≤ 200"),
        Figure(f"poet ({label}): click to 1st character (loaded)", first, "ms", "≤ 300"),
        Figure(f"poet ({label}): per character, KV cache", ms["cache"], "ms", "≤ 30"),
        Figure(f"poet ({label}): per character, no cache", ms["none"], "ms"),
        Figure(f"poet ({label}): 64-character poem, KV cache", cached / 1000, "s", "≤ 1.5"),
        Figure(f"poet ({label}): 64 characters, no cache ÷ cache", uncached / cached, "×", "≥ 1.2"),
        *knocked,
    ]


def poet_figures() -> list:
    print("the poet in headless Chromium (issue 23's budgets) ...", flush=True)
    if poet_web.weights_file().is_file():
        return measure(poet_web.weights_file().parent, "shipped model")
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_tiny_poet(Path(tmp) / "random", config={**CONFIG, "n_layer": 4, "n_head": 4, "n_embd": 96})
        return measure(folder, "random 4×4×96")
