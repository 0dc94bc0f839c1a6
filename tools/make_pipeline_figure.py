"""Draw the one-picture overview of self-attention shown on the book's first page.

Boxes and arrows from X through the projections Wq, Wk, Wv to Q, K, V, then
Q·Kᵀ, ÷√d_k, softmax and ·V to the output, each box with a short Chinese
label and its shape for text1 (我喜欢的水果是橙子和苹果: 8 tokens,
d_model = 10, d_k = d_v = 6).

The PNG is committed; the book does not run this script. Rerun it after
changing the picture (from the repository root):

    .venv/bin/python tools/make_pipeline_figure.py

It writes book/images/pipeline.png, 1600 px wide: the page shows it at its
text width (about 650 px at a 1280 px window), so it stays sharp on high-density
screens; its smallest text, 12 pt, is then 9.7 px tall. A narrower screen keeps
those 650 px and scrolls the figure inside its box (_static/figures.css).  Chinese labels use
attn_steps.use_cjk_font() (an installed CJK font, else the shipped subset).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

import attn_steps as ats  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "book" / "images" / "pipeline.png"

N_TOKENS, D_MODEL, D_K = 8, 10, 6  # text1 with emb_dim = 10, d_k = 6

# The colours of the book's heatmaps: signed stages red/blue, probabilities blue.
INPUT = "#eeeeee"
SIGNED = "#fde0d6"
PROB = "#d6e6f5"
OUTPUT = "#e2f0d9"

BOX_W, BOX_H = 1.62, 1.05
LANES = {"top": 2.45, "mid": 1.2, "bottom": -0.05}
# Gaps of 1 unit between boxes: room for an arrow's label clear of both boxes.
COLUMNS = [0.0, 2.62, 5.24, 7.86, 10.48, 13.1]
XLIM = (-0.1, COLUMNS[-1] + BOX_W + 0.1)
YLIM = (-0.2, 4.15)
INCH_PER_UNIT = 0.7
WIDTH_PX = 1600

# name: (column, lane, Chinese label, formula, shape, fill)
BOXES = {
    "X": (0, "mid", "输入嵌入", "X", f"{N_TOKENS}×{D_MODEL}", INPUT),
    "Q": (1, "top", "查询", r"$Q = XW_q$", f"{N_TOKENS}×{D_K}", SIGNED),
    "K": (1, "mid", "键", r"$K = XW_k$", f"{N_TOKENS}×{D_K}", SIGNED),
    "V": (1, "bottom", "值", r"$V = XW_v$", f"{N_TOKENS}×{D_K}", SIGNED),
    "S": (2, "mid", "注意力分数", r"$QK^{\mathsf{T}}$", f"{N_TOKENS}×{N_TOKENS}", SIGNED),
    "scaled": (3, "mid", "缩放", r"$QK^{\mathsf{T}}/\sqrt{d_k}$", f"{N_TOKENS}×{N_TOKENS}", SIGNED),
    "weights": (4, "mid", "注意力权重", "softmax", f"{N_TOKENS}×{N_TOKENS}", PROB),
    "out": (5, "mid", "输出", "权重 · V", f"{N_TOKENS}×{D_K}", OUTPUT),
}

# (from, to, label above the arrow)
ARROWS = [
    ("X", "Q", r"$\times W_q$"),
    ("X", "K", r"$\times W_k$"),
    ("X", "V", r"$\times W_v$"),
    ("Q", "S", ""),
    ("K", "S", r"$K^{\mathsf{T}}$"),
    ("S", "scaled", r"$\div\sqrt{6}$"),
    ("scaled", "weights", ""),
    ("weights", "out", r"$\cdot V$"),
]


def centre(name: str) -> tuple[float, float]:
    column, lane, *_ = BOXES[name]
    return COLUMNS[column] + BOX_W / 2, LANES[lane] + BOX_H / 2


def draw_box(ax, name: str) -> None:
    column, lane, label, formula, shape, fill = BOXES[name]
    x, y = COLUMNS[column], LANES[lane]
    ax.add_patch(FancyBboxPatch((x, y), BOX_W, BOX_H, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=fill, edgecolor="#444444", linewidth=1.2))
    cx = x + BOX_W / 2
    ax.text(cx, y + 0.80, label, ha="center", va="center", fontsize=14.5, weight="bold")
    ax.text(cx, y + 0.50, formula, ha="center", va="center", fontsize=13.5)
    ax.text(cx, y + 0.20, shape, ha="center", va="center", fontsize=12, color="#333333")


def draw_arrow(ax, start: str, end: str, label: str) -> None:
    (x0, y0), (x1, y1) = centre(start), centre(end)
    # From edge to edge, not centre to centre.
    x0 += BOX_W / 2
    x1 -= BOX_W / 2
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=18,
                                 linewidth=1.6, color="#333333", shrinkA=2, shrinkB=2))
    if label:
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        if y1 == y0 and start == "X":  # the middle of the fan: by the arrow's head, clear of the slanted arrows
            ax.text(x1 - 0.08, my + 0.08, label, ha="right", va="bottom", fontsize=12.5, color="#222222")
        elif y1 == y0 and end == "S":  # Q's slanted arrow meets S at the same point: label by K, where it is far
            ax.text(x0 + 0.1, my + 0.08, label, ha="left", va="bottom", fontsize=12.5, color="#222222")
        elif y1 == y0:
            ax.text(mx, my + 0.08, label, ha="center", va="bottom", fontsize=12.5, color="#222222")
        else:  # the fan from X: label on the outer side of the slanted arrow
            ax.text(mx - 0.12, my + (0.12 if y1 > y0 else -0.12), label, ha="right",
                    va="bottom" if y1 > y0 else "top", fontsize=12, color="#222222")


def draw_v_to_output(ax) -> None:
    # V runs below the score stages and joins at the output: weights · V.
    vx, vy = centre("V")
    ox, oy = centre("out")
    corner = (ox, vy)
    ax.plot([vx + BOX_W / 2, corner[0]], [vy, vy], color="#333333", linewidth=1.6)
    ax.add_patch(FancyArrowPatch(corner, (ox, oy - BOX_H / 2), arrowstyle="-|>", mutation_scale=18,
                                 linewidth=1.6, color="#333333", shrinkA=0, shrinkB=2))
    ax.text((vx + ox) / 2, vy + 0.08, "V：按注意力权重加权求和", ha="center", va="bottom",
            fontsize=12, color="#222222")


def main() -> None:
    ats.use_cjk_font()
    width, height = XLIM[1] - XLIM[0], YLIM[1] - YLIM[0]
    fig = plt.figure(figsize=(width * INCH_PER_UNIT, height * INCH_PER_UNIT))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(*XLIM)
    ax.set_ylim(*YLIM)
    ax.axis("off")

    for start, end, label in ARROWS:
        draw_arrow(ax, start, end, label)
    draw_v_to_output(ax)
    for name in BOXES:
        draw_box(ax, name)
    wx, wy = centre("weights")
    ax.text(wx, wy - BOX_H / 2 - 0.08, "逐行计算，每行和为 1", ha="center", va="top", fontsize=12, color="#333333")

    ax.text((XLIM[0] + XLIM[1]) / 2, 3.72,
            r"$\mathrm{Attention}(Q,K,V) = \mathrm{softmax}\left(QK^{\mathsf{T}}/\sqrt{d_k}\right)V$",
            ha="center", va="center", fontsize=16)

    OUT.parent.mkdir(parents=True, exist_ok=True)
    # No "Software" stamp, so that regenerating with another matplotlib gives no spurious diff.
    fig.savefig(OUT, dpi=WIDTH_PX / fig.get_figwidth(), facecolor="white", metadata={"Software": None})
    plt.close(fig)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
