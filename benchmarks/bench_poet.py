"""The poet in the browser, issue 23's budgets: weights on the wire, click to first character, ms per character.

Called by benchmarks/bench.py. The shipped weights when attn_steps ships them,
else a random model of tools/train_poet.py's default size (4 × 4 × 96), whose
sizes and timings are a trained model's (its poems are noise; the figure's name says so).
Measured on a bare page with the widget, served on 127.0.0.1, in headless Chromium.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

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
    ]


def poet_figures() -> list:
    print("the poet in headless Chromium (issue 23's budgets) ...", flush=True)
    if poet_web.weights_file().is_file():
        return measure(poet_web.weights_file().parent, "shipped model")
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_tiny_poet(Path(tmp) / "random", config={**CONFIG, "n_layer": 4, "n_head": 4, "n_embd": 96})
        return measure(folder, "random 4×4×96")
