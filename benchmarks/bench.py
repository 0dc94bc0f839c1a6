"""Speed figures of attn_steps, printed (not asserted: machines here are shared and noisy).

    .venv/bin/python benchmarks/bench.py

Each comparison is measured side by side in one run and reported as a ratio,
which survives a busy machine better than seconds do.
"""

from __future__ import annotations

import io
import time

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import attn_steps as ats  # noqa: E402


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    print("softmax: the blog's row loop vs the stable vectorized form (best of 5)")
    for n in (8, 100, 300):
        S = pd.DataFrame(np.random.default_rng(0).standard_normal((n, n)))
        loop, vec = best_of(lambda: ats.softmax_loop(S)), best_of(lambda: ats.softmax(S))
        print(f"  {n:4d}×{n:<4d} loop {loop * 1e3:8.2f} ms   vectorized {vec * 1e3:7.3f} ms   ratio {loop / vec:7.1f}×")

    t = time.perf_counter()
    ats.embed("我")
    print(f"\nfirst embed (loads the pipeline once): {time.perf_counter() - t:.2f} s   source: {ats.embedding_source()}")
    text1 = "我喜欢的水果是橙子和苹果"
    long_text = "。".join([text1] * 30)
    emb1 = best_of(lambda: ats.embed(text1))
    emb_long = best_of(lambda: ats.embed(long_text), repeat=3)
    print(f"embed text1 (8 tokens): {emb1 * 1e3:.1f} ms   {len(ats.embed(long_text))} tokens: {emb_long * 1e3:.1f} ms")

    W = ats.init_weights(10, 6, seed=0)
    for label, text in (("text1", text1), ("long", long_text)):
        s = ats.self_attention(ats.embed(text), W)
        steps = best_of(lambda: ats.self_attention(ats.embed(text), W), repeat=3)

        def render():
            fig = ats.plot_steps(s)
            fig.savefig(io.BytesIO(), format="png", dpi=100)
            matplotlib.pyplot.close(fig)

        draw = best_of(render, repeat=2)
        print(f"{label:5s} n={len(s.X):3d}: embed+attention {steps * 1e3:7.1f} ms   step-through figure to PNG {draw:5.2f} s")


if __name__ == "__main__":
    main()
