"""Figures of chapter 8: an online softmax block by block, the tile grid, the KV cache, the cost of decoding.

Each takes what attn_steps.tiles computed and returns a matplotlib Figure
with Chinese labels, described in words from the same numbers (its alt text,
attn_steps.alt_text); none computes a stage itself.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import alt_text
from .fonts import use_cjk_font
from .tiles import KVDecode, OnlineSoftmax, TiledAttention, decode_multiply_adds

DONE, NOW, WAIT, SKIP = "#b6dcf5", "#f5c542", "#f3f4f6", "#d0d0d0"


def plot_online_softmax(online: OnlineSoftmax, title: str = "在线 softmax：一块一块地读一行分数") -> Figure:
    """The row's scores as bars, the blocks shaded, the running maximum m after each block as a step line."""
    use_cjk_font()
    steps = online.steps
    labels = [str(k) for k in online.weights.index]
    scores = np.concatenate([s.scores for s in steps])
    fig, ax = plt.subplots(figsize=(max(5.0, 0.75 * len(scores) + 1.5), 3.6), layout="constrained")
    x = np.arange(len(scores))
    for b, s in enumerate(steps):
        ax.axvspan(s.keys.start - 0.5, s.keys.stop - 0.5, color=DONE if b % 2 == 0 else "#e3f1fb", zorder=0)
        ax.text((s.keys.start + s.keys.stop - 1) / 2, 1.0, f"第 {b + 1} 块", transform=ax.get_xaxis_transform(),
                ha="center", va="bottom", fontsize=9)
        ax.hlines(s.m_after, s.keys.start - 0.5, s.keys.stop - 0.5, color="#cf222e", linewidth=2.2,
                  label="读完这一块后的 m（目前见到的最大分数）" if b == 0 else None)
    finite = np.where(np.isfinite(scores), scores, np.nan)
    ax.bar(x, finite, color=["#0969da" if v >= 0 else "#8c959f" for v in np.nan_to_num(finite)], width=0.6,
           label="分数")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xticks(x, labels)
    ax.set_xlabel("键")
    ax.set_ylabel("缩放后的分数")
    ax.set_title(title, pad=18)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    best = int(np.nanargmax(finite))
    alt_text.describe(fig, (
        f"条形图「{title}」：{len(scores)} 个键（{alt_text.label_text(labels)}）的缩放后分数，分成 {len(steps)} 块读；"
        f"最大的分数 {alt_text.number(scores[best])} 在键 {labels[best]}；读完每一块后的最大值 m 依次是 "
        + "、".join(alt_text.number(s.m_after) for s in steps) + "。"))
    return fig


def _draw_grid(ax, tiled: TiledAttention, upto: int | None, labels) -> None:
    """The n × n score matrix cut into tiles: the order computed, which are done, the current one, the skipped."""
    n = len(tiled.m)
    finished = upto is None
    upto = len(tiled.tiles) if finished else upto
    for t in tiled.tiles:
        colour = NOW if t.order == upto - 1 and not finished else DONE if t.order < upto else WAIT
        ax.add_patch(Rectangle((t.cols.start, t.rows.start), len(t.cols), len(t.rows), facecolor=colour,
                               edgecolor="black", linewidth=1.2))
        ax.text(t.cols.start + len(t.cols) / 2, t.rows.start + len(t.rows) / 2, str(t.order + 1),
                ha="center", va="center", fontsize=14, fontweight="bold")
        if tiled.causal:  # cells of a diagonal tile that the mask blocks: computed, then set to −∞
            for r, c in zip(*np.nonzero(np.isneginf(t.S))):
                ax.add_patch(Rectangle((t.cols.start + c, t.rows.start + r), 1, 1, facecolor="none",
                                       edgecolor="#8c8c8c", hatch="..", linewidth=0))
    bq, bk = tiled.block_q, tiled.block_k
    for i, j in tiled.skipped:
        rows, cols = min(bq, n - i * bq), min(bk, n - j * bk)
        ax.add_patch(Rectangle((j * bk, i * bq), cols, rows, facecolor=SKIP, edgecolor="black", hatch="////",
                               linewidth=1.2))
        ax.text(j * bk + cols / 2, i * bq + rows / 2, "跳过", ha="center", va="center", fontsize=9,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    for k in range(1, n):  # thin lines between single cells, so a reader can count tokens
        ax.axhline(k, color="white", linewidth=0.5, zorder=0.5)
        ax.axvline(k, color="white", linewidth=0.5, zorder=0.5)
    ax.set_xlim(0, n)
    ax.set_ylim(n, 0)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(n) + 0.5, labels, fontsize=9)
    ax.set_yticks(np.arange(n) + 0.5, labels, fontsize=9)
    ax.tick_params(length=0)
    ax.set_xlabel("键（K、V 的行）")
    ax.set_ylabel("查询（Q 的行）")


def plot_tile_grid(tiled: TiledAttention, upto: list[int] | None = None, ncols: int = 2) -> Figure:
    """The tile grid after `upto` tiles (one panel each; default: the finished grid), numbers = order computed."""
    use_cjk_font()
    labels = [str(t) for t in tiled.steps.X.index]
    moments = [len(tiled.tiles)] if upto is None else list(upto)
    ncols = min(ncols, len(moments))
    nrows = -(-len(moments) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 4.6 * nrows), layout="constrained",
                             squeeze=False)
    for ax, k in zip(axes.flat, moments):
        _draw_grid(ax, tiled, None if upto is None else k, labels)
        if k == len(tiled.tiles) and upto is None:
            ax.set_title(f"{tiled.block_q}×{tiled.block_k} 的块：{len(tiled.tiles)} 块计算"
                         + (f"，{len(tiled.skipped)} 块跳过" if tiled.skipped else ""), fontsize=11)
        elif k == 0:
            ax.set_title("还没开始", fontsize=11)
        else:
            t = tiled.tiles[k - 1]
            ax.set_title(f"第 {k} 块：查询 {t.rows.start + 1}–{t.rows.stop}，键 {t.cols.start + 1}–{t.cols.stop}\n"
                         f"此刻手里：Q 的 {len(t.rows)} 行，K、V 的 {len(t.cols)} 行，\n这 {len(t.rows)} 行的 m、l、O",
                         fontsize=11)
    for ax in list(axes.flat)[len(moments):]:
        ax.set_visible(False)
    n = len(tiled.m)
    what = (f"分块示意图：{n}×{n} 的分数矩阵（查询与键都是「{alt_text.label_text(labels)}」）切成 "
            f"{tiled.block_q}×{tiled.block_k} 的块，{len(tiled.tiles)} 块计算"
            + (f"，{len(tiled.skipped)} 块被因果遮挡整块跳过" if tiled.skipped else "")
            + "，块上的数字是计算的顺序")
    if upto is None:
        alt_text.describe(fig, what + "。")
    else:
        panels = [alt_text.Alt(ax.get_title().replace("\n", "")) for ax in axes.flat[:len(moments)]]
        alt_text.describe(fig, alt_text.strip(panels, what + f"；{len(moments)} 幅图依次是算完第 "
                                              + "、".join(map(str, moments)) + " 块时", None, ""))
    return fig


def plot_kv_cache(kv: KVDecode) -> Figure:
    """Left: the cache after each step (rows of K, V held). Right: each step's one query row of weights."""
    use_cjk_font()
    n = len(kv.steps)
    labels = [s.token for s in kv.steps]
    held = np.array([[1.0 if j <= s.t else np.nan for j in range(n)] for s in kv.steps])
    weights = np.array([[s.weights[j] if j <= s.t else np.nan for j in range(n)] for s in kv.steps])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.4), layout="constrained")
    left.imshow(held, cmap="Greens", vmin=0, vmax=1.6, aspect="auto")
    for s in kv.steps:
        left.text(s.t, s.t, "新", ha="center", va="center", fontsize=9, color="white", fontweight="bold")
    left.set_title("KV 缓存：每一步多存一行 k、v", fontsize=11)
    held_numbers = left.twinx()  # what the cache holds after each step, read off on the right
    held_numbers.set_ylim(left.get_ylim())
    held_numbers.set_yticks(range(n), [f"{s.K.size + s.V.size} 个数" for s in kv.steps], fontsize=8)
    held_numbers.tick_params(length=0)
    im = right.imshow(weights, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(weights):
        if np.isfinite(v):
            right.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white" if v > 0.6 else "black")
    right.set_title("每一步只算一行：新词的查询对缓存里所有键的权重", fontsize=11)
    fig.colorbar(im, ax=right, shrink=0.85)
    for ax in (left, right):
        ax.set_xticks(range(n), labels, fontsize=8)
        ax.set_yticks(range(n), [f"第 {s.t + 1} 步：{s.token}" for s in kv.steps], fontsize=8)
        ax.set_xlabel("缓存里的键、值（来自哪个词）")
        ax.tick_params(length=0)
    last = kv.steps[-1]
    rows = "；".join(f"第 {s.t + 1} 步「{s.token}」最重的是「{labels[int(np.argmax(s.weights))]}」"
                     f" {np.max(s.weights):.2f}" for s in kv.steps)
    alt_text.describe(fig, (
        f"两幅图，{n} 个词「{alt_text.label_text(labels)}」逐个生成：左，KV 缓存每一步多存一行 k、v，"
        f"从 {kv.steps[0].K.size + kv.steps[0].V.size} 个数到 {last.K.size + last.V.size} 个数；"
        f"右，每一步新词的查询对缓存里各个键的权重，一步一行。"), rows + "。")
    return fig


def plot_decode_cost(ns, d_model: int, d_k: int, d_v: int | None = None) -> Figure:
    """Multiply-adds to generate n tokens with and without a KV cache, as n grows (log-log)."""
    use_cjk_font()
    ns = np.asarray(list(ns))
    counts = [decode_multiply_adds(int(n), d_model, d_k, d_v) for n in ns]
    fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    ax.loglog(ns, [c["without cache"] for c in counts], "o-", color="#cf222e", label="不用缓存：每一步把前面的词全部重算")
    ax.loglog(ns, [c["with cache"] for c in counts], "s-", color="#0969da", label="KV 缓存：每一步只算新词的一行")
    ax.set_xlabel("生成的词元数 n")
    ax.set_ylabel("乘加次数（一个注意力头）")
    ax.set_title(f"生成 n 个词元的计算量（d_model = {d_model}，d_k = d_v = {d_k if d_v is None else d_v}）", fontsize=11)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=9)
    big, small = counts[-1]["without cache"], counts[-1]["with cache"]
    alt_text.describe(fig, (
        f"双对数折线图「{ax.get_title()}」：n 从 {ns[0]} 到 {ns[-1]}，不用缓存的乘加次数从 "
        f"{counts[0]['without cache']:,} 增长到 {big:,}，用 KV 缓存的从 {counts[0]['with cache']:,} 增长到 "
        f"{small:,}；n = {ns[-1]} 时相差 {big / small:.0f} 倍。"))
    return fig
