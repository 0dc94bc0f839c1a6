"""`make bench`: every speed, size and weight figure of the book, each with its target.

    make bench            # or, from the repository root: .venv/bin/python -m benchmarks.bench [--quick]

Machines here are shared and noisy, so comparisons are measured side by side
in one run (interleaved, best of several) and reported as ratios; absolute
seconds are printed for orientation only. Nothing here is asserted: the last
table says which targets hold. --quick skips the two book builds and the
page weights, and times the explorer on the site already in _build/html.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import attn_steps as ats  # noqa: E402
from tools import browser, head_robustness, page_weight  # noqa: E402
from benchmarks.bench_poet import poet_figures  # noqa: E402
from benchmarks.figures import Figure, best_of, interleaved  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

TEXT1 = "我喜欢的水果是橙子和苹果"
MB = 1_000_000


# ---- the book's build -------------------------------------------------------


def book_copy(dest: Path) -> Path:
    """The tracked files of the repository in a fresh folder: a build there starts cold."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return dest


def toc_notebooks(book: Path) -> list[Path]:
    import yaml

    toc = yaml.safe_load((book / "_toc.yml").read_text(encoding="utf-8"))
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [book / f"{f}.ipynb" for f in files if (book / f"{f}.ipynb").is_file()]


def execute_bare(notebooks: list[Path]) -> float:
    """Every chapter run by nbclient alone, one kernel each, as the build's executor does (no head cache: each trains)."""
    import nbformat
    from nbclient import NotebookClient

    env = {k: v for k, v in os.environ.items() if k != "ATTN_HEAD_CACHE"}
    t = time.perf_counter()
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
        with _environ(env):
            client.execute()
    return time.perf_counter() - t


@contextlib.contextmanager
def _environ(env: dict[str, str]):
    """os.environ replaced for the block (the kernels nbclient starts inherit it)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def build(book: Path) -> float:
    """The build as `make book` runs it: its command, and its head cache (chapter 4's head, reused by the site tables)."""
    t = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(book), "-W", "--keep-going"],
                   check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(book), "ATTN_HEAD_CACHE": str(book / "_build" / "head-cache")})
    return time.perf_counter() - t


def build_figures(book: Path) -> list[Figure]:
    print("building the book twice in a fresh copy and executing its notebooks bare (a few minutes) ...", flush=True)
    bare = execute_bare(toc_notebooks(book))
    cold = build(book)
    warm = build(book)
    print(f"  bare nbclient {bare:.0f} s, cold build {cold:.0f} s, unchanged rebuild {warm:.1f} s; "
          f"cold build / bare = {cold / bare:.3f}")
    return [
        Figure("cold make book / bare nbclient execution", cold / bare, "ratio", "≤ 1.10"),
        Figure("unchanged rebuild / cold build", warm / cold, "ratio", "≤ 0.10"),
    ]


def page_weight_figures(site: Path) -> list[Figure]:
    """Bytes a first visit downloads, page by page, in a fresh headless Chromium (tools/page_weight.py)."""

    print("loading every page in a fresh headless Chromium profile ...", flush=True)
    measured = page_weight.browser_weight(site, page_weight.pages(site))
    figures = []
    for rel, m in measured.items():
        for url in m["failed"]:
            print(f"  failed request on {rel}: {url}")
        figures.append(Figure(f"page weight, first load: {rel}", m["sent"] / MB, "MB", "≤ 2"))
    figures.append(Figure("whole site on disk", page_weight.site_size(site) / MB, "MB", "≤ 15"))
    return figures


# ---- attention, embeddings, figures, training --------------------------------


def attention_figures() -> list[Figure]:
    from tools import torch_ref

    torch_ref.on_path()  # the tests' reference, from its own folder (requirements-torch.txt)
    import torch

    torch.set_num_threads(1)
    figures = []
    print("self_attention vs torch.nn.functional.scaled_dot_product_attention, float64, d = 64 (best of 7, interleaved)")
    for n in (8, 128, 1024):
        X = pd.DataFrame(np.random.default_rng(0).standard_normal((n, 64)))
        W = ats.init_weights(64, 64, seed=0)
        x, Wq, Wk, Wv = (torch.tensor(a) for a in (X.to_numpy(), W.Wq, W.Wk, W.Wv))

        def reference():
            return torch.nn.functional.scaled_dot_product_attention(x @ Wq, x @ Wk, x @ Wv)

        t = interleaved({"ours": lambda: ats.self_attention(X, W), "torch": reference})
        print(f"  n = {n:5d}: ours {t['ours'] * 1e3:8.3f} ms   torch {t['torch'] * 1e3:8.3f} ms")
        figures.append(Figure(f"self_attention / torch sdpa, n = {n}", t["ours"] / t["torch"], "ratio",
                              "≤ 1.5" if n == 1024 else ""))
    return figures


def softmax_figures() -> list[Figure]:
    figures = []
    for n in (8, 300):
        S = pd.DataFrame(np.random.default_rng(0).standard_normal((n, n)))
        t = interleaved({"loop": lambda: ats.softmax_loop(S), "vec": lambda: ats.softmax(S)}, repeat=5)
        figures.append(Figure(f"softmax: blog's row loop / stable vectorized, n = {n}", t["loop"] / t["vec"], "×"))
    return figures


def embed_figures() -> list[Figure]:
    code = "import time; t = time.perf_counter(); import attn_steps as ats; ats.embed('我'); print(time.perf_counter() - t)"
    first = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 cwd=ROOT).stdout.split()[-1])
    ats.embed("我")
    later = best_of(lambda: ats.embed(TEXT1), repeat=7)
    return [Figure("embed: first call in a process (import + pipeline)", first, "s"),
            Figure("embed text1: later calls", later * 1e3, "ms")]


def plotting_figures() -> list[Figure]:
    figures = []
    W = ats.init_weights(10, 6, seed=0)
    for n in (8, 64, 300):
        X = pd.DataFrame(np.random.default_rng(0).standard_normal((n, 10)), index=[f"t{i}" for i in range(n)])
        s = ats.self_attention(X, W)

        def ours():
            fig = ats.plot_steps(s)
            fig.savefig(io.BytesIO(), format="png", dpi=100)
            plt.close(fig)

        def plain():  # the same matrices with bare imshow: no labels, values or colour logic
            fig, axes = plt.subplots(4, 2, figsize=(12, 12))
            for ax, df in zip(axes.flat, s.stages().values()):
                ax.imshow(df.to_numpy(), aspect="auto")
            fig.savefig(io.BytesIO(), format="png", dpi=100)
            plt.close(fig)

        t = interleaved({"ours": ours, "plain": plain}, repeat=3)
        print(f"  plot_steps n = {n:3d}: {t['ours']:.2f} s, plain imshow {t['plain']:.2f} s")
        figures.append(Figure(f"plot_steps to PNG / plain imshow, n = {n}", t["ours"] / t["plain"], "ratio"))
    return figures


def training_figures() -> list[Figure]:
    corpus = ats.apple_sentences()
    train = corpus[corpus.split == "train"]
    ats.train_head(train, epochs=1)  # embeddings of every word cached, as in the chapter after its first cell
    seconds = best_of(lambda: ats.train_head(train, seed=0), repeat=3)
    return [Figure("train_head on the corpus's training split", seconds, "s", "≤ 10")]


def robustness_figures() -> list[Figure]:
    """Chapter 4's head under stand-ins for another machine (tools/head_robustness.py): mean, min, max."""
    print("chapter 4's head trained 10 times: seeds 0-4, rows reordered, 1e-12 noise, float32 inputs ...", flush=True)
    runs = head_robustness.table()
    holds = runs.apply(head_robustness.verdicts_hold, axis=1)
    print(runs[["test_accuracy", "cue_share", "cue_ratio", "text1_sense", "text1_p", "text1_top",
                "text2_sense", "text2_p", "text2_top"]].to_string(float_format=lambda v: f"{v:.3f}"))
    figures = [Figure("head: runs with text1 水果, text2 品牌 (p ≥ 0.8), a cue on top", float(holds.sum()), "of 10", "≥ 10")]
    for column, name, targets in (("test_accuracy", "head: held-out accuracy", {"mean": "≥ 0.85", "min": "≥ 0.80"}),
                                  ("cue_ratio", "head: cue share after / before training", {"min": "≥ 3"}),
                                  ("text1_p", "head: p(水果) for text1", {"min": "≥ 0.8"}),
                                  ("text2_p", "head: p(品牌) for text2", {"min": "≥ 0.8"})):
        values = runs[column].astype(float)
        for stat in ("mean", "min", "max"):
            figures.append(Figure(f"{name}, {stat} of 10 runs", float(getattr(values, stat)()), "", targets.get(stat, "")))
    return figures


def measure_explorer(site: Path, page: str = "notebooks/02_walkthrough.html", repeat: int = 5) -> dict:
    """Milliseconds to recompute and redraw every stage after a settings change, for 8 and 64 tokens.

    For `make bench` (machines here are shared: never a test). 8 tokens: the
    explorer on `page`; 64 tokens: the same page with a second explorer made
    from 64 random rows, added by script.
    """
    X64 = ats.as_frame(np.random.default_rng(0).standard_normal((64, 10)))
    extra = ats.explore(X64).html
    timing = """
    const root = arguments[0], times = [];
    for (let k = 0; k < arguments[1]; k++) {
      const t = performance.now();
      root.attnExplorer.set({seed: k + 1, d_k: 6 + (k % 3)});
      times.push(performance.now() - t);
    }
    return Math.min(...times);
    """
    with browser.serve(site) as base, browser.chromium() as driver:
        browser.open_page(driver, base + page)
        roots = driver.find_elements("css selector", "[data-attn-explorer]")
        ms8 = driver.execute_script(timing, roots[0], repeat)
        browser.append_html(driver, extra)
        time.sleep(0.5)
        roots = driver.find_elements("css selector", "[data-attn-explorer]")
        ms64 = driver.execute_script(timing, roots[-1], repeat)
    return {"8 tokens": ms8, "64 tokens": ms64}


def measure_typing(site: Path, repeat: int = 5) -> dict:
    """Milliseconds from a keystroke in chapter 2's text field to every stage redrawn, at 12 and 100 characters.

    Real keystrokes (selenium send_keys of the last character); the explorer
    records the time from the input event to the end of its redraw (lastTypedMs).
    The best of `repeat`, after one warm-up that loads the tables.
    """
    from selenium.webdriver.common.by import By

    corpus = " ".join(ats.apple_sentences()["text"]).replace(" ", "")
    out = {}
    with browser.serve(site) as base, browser.chromium() as driver:
        browser.open_page(driver, base + "notebooks/02_walkthrough.html")
        root = [r for r in driver.find_elements(By.CSS_SELECTOR, "[data-attn-explorer]")
                if r.find_elements(By.CSS_SELECTOR, "[data-role=typed]")][0]
        field = root.find_element(By.CSS_SELECTOR, "[data-role=typed]")
        for n in (12, 100):
            times = []
            for k in range(repeat + 1):
                text = corpus[k * 7: k * 7 + n]
                driver.execute_script("arguments[0].value = arguments[1]", field, text[:-1])
                driver.execute_script("arguments[0].attnExplorer.lastTypedMs = null", root)
                field.send_keys(text[-1])
                for _ in range(200):
                    ms = driver.execute_script("return arguments[0].attnExplorer.lastTypedMs", root)
                    if ms is not None:
                        break
                    time.sleep(0.05)
                if k:  # the first loads the tables
                    times.append(ms)
            out[n] = min(times)
    return out


def explorer_figures(site: Path | None) -> list[Figure]:
    """The explorer's weight, and how fast it redraws every stage after a change, in headless Chromium."""
    from attn_steps import explorer
    from attn_steps import segmenter as sg

    code = sum(len(part.encode()) for part in explorer.Explorer.KIND.code()) / 1000
    data = len(json.dumps(ats.explore(TEXT1).data, ensure_ascii=False).encode()) / 1000
    figures = [Figure("explorer: JavaScript + CSS as pages inline it", code, "KB", "≤ 90"),
               Figure("explorer: its data for text1", data, "KB", "≤ 30")]
    if site is None or not (site / "notebooks" / "02_walkthrough.html").is_file():
        print("  no built site: skipping the explorer's timings (run make book, or bench without --quick)")
        return figures

    chapter2 = (site / "notebooks" / "02_walkthrough.html").stat().st_size / MB
    ms = measure_explorer(site)
    print(f"  explorer redraw: {ms['8 tokens']:.1f} ms for 8 tokens, {ms['64 tokens']:.1f} ms for 64")
    typed = measure_typing(site)
    tables = site / "_static" / "attn-tables"
    wire = {name: len(gzip.compress((tables / name).read_bytes(), 9)) / 1000
            for name in ("segmenter-dict.json", "wordvecs-d10.json", "head-ch4.json")}
    return figures + [
        Figure("typing, chapter 2: tables on the wire (gzip)", wire["segmenter-dict.json"] + wire["wordvecs-d10.json"], "kB", "≤ 600"),
        Figure("typing, chapter 4: tables on the wire (gzip)", wire["segmenter-dict.json"] + wire["head-ch4.json"], "kB", "≤ 600"),
        Figure("typing: words in the segmenter's dictionary (jieba's counted ≥ 50 times; 16 000 before)",
               len(sg.site_dictionary().words), "words"),
        Figure("typing: its table on the wire (gzip)", wire["segmenter-dict.json"], "kB", ""),
        Figure("typing: the rest of GB2312's first level, fetched for a typed character the site's font lacks",
               (site / "_static" / "NotoSansCJKsc-Regular-rest.woff2").stat().st_size / 1000, "kB", "≤ 600"),
        Figure("typing: keystroke to every stage redrawn, 12 characters", typed[12], "ms", "≤ 50"),
        Figure("typing: keystroke to every stage redrawn, 100 characters", typed[100], "ms", "≤ 300"),
        Figure("chapter 2 HTML (was 1.7 MB with the PNG animation)", chapter2, "MB", "< 1.7"),
        Figure("explorer: redraw after a change, 8 tokens", ms["8 tokens"], "ms", "≤ 50"),
        Figure("explorer: redraw after a change, 64 tokens", ms["64 tokens"], "ms", "≤ 500"),
    ]


# ---- main -------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the two book builds and the page weights")
    args = parser.parse_args()
    figures: list[Figure] = []
    figures += attention_figures()
    figures += softmax_figures()
    figures += embed_figures()
    figures += plotting_figures()
    figures += training_figures()
    figures += robustness_figures()
    figures += poet_figures()
    if args.quick:
        figures += explorer_figures(ROOT / "_build" / "html")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            book = book_copy(Path(tmp) / "book")
            figures += build_figures(book)
            figures += page_weight_figures(book / "_build" / "html")
            figures += explorer_figures(book / "_build" / "html")
    print()
    print(f"{'figure':<60} {'measured':>10} {'unit':<6} {'target':>8} {'holds':>5}")
    for f in figures:
        print(f.line())
    misses = [f.name for f in figures if f.holds() == "NO"]
    print(f"\n{len(figures)} figures, {sum(1 for f in figures if f.target)} with a target, "
          f"{len(misses)} missed" + (": " + "; ".join(misses) if misses else ""))


if __name__ == "__main__":
    main()
