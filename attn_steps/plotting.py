"""Stages -> figures: labeled heatmaps, and the whole step-through on one page.

After matplotlib's gallery example "Creating annotated heatmaps": `heatmap`
draws one labeled matrix into an Axes and returns it; `plot_steps` and
`plot_heads` are built from it. Labels come from the DataFrame's index and
columns, titles and colour scales from the stage it holds (df.attrs). Every
figure is described in words as it is drawn (attn_steps.alt_text): the site's
alt text.
"""

from __future__ import annotations

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle

from . import alt_text, checks
from .embeddings import SHORT_SOURCE
from .fonts import use_cjk_font
from .stages import COLORMAPS, text_colour

# Importing attn_steps is enough for Chinese to render, also in figures and
# axes the reader makes with plain matplotlib before calling a helper.
use_cjk_font()
alt_text.show_in_notebooks()

ANNOTATE_MAX_CELLS = 400  # beyond this, numbers would be unreadably small
ANNOTATE_MAX_SIDE = 24
MAX_TICK_LABELS = 40  # a 300-token text keeps every 8th label, not a black smear
SIGNED_CMAP = COLORMAPS["signed"][0]  # diverging, centred on 0: red positive, blue negative
PROB_CMAP = COLORMAPS["prob"][0]  # sequential 0..1 for softmax weights
# How a page shows a figure: the notebooks draw at 2× (retina) and the site shows 100 CSS px per
# inch, shrunk to the text column when wider (tests/test_browser.py measures the column at a
# 1280 px window). Values written into cells must be at least MIN_VALUE_PX tall there.
CSS_PX_PER_INCH = 100
COLUMN_PX = 650
MIN_VALUE_PX = 9.0
BLOCKED_COLOR = "#e0e0e0"  # masked cells (−∞): grey is on neither colour scale
BLOCKED_HATCH_COLOR = "#8c8c8c"
MAX_HATCHED_CELLS = 2500


def _value_format(values: np.ndarray, kind: str) -> str:
    if kind == "prob":  # weights read as shares: 0.50, not 0 or 1
        return "{:.2f}"
    if np.allclose(values, np.round(values)) and np.abs(values).max() < 1e5:
        return "{:.0f}"
    biggest = np.abs(values).max()
    if biggest >= 100:
        return "{:.0f}"
    if biggest >= 10:
        return "{:.1f}"
    return "{:.2f}"


def shown_px(fig, points: float) -> float:
    """How many CSS px tall `points`-point text in fig is on a book page at a 1280 px window."""
    scale = min(1.0, COLUMN_PX / (fig.get_figwidth() * CSS_PX_PER_INCH))
    return points / 72 * CSS_PX_PER_INCH * scale


def _cell_inches(ax, shape) -> tuple[float, float]:
    """(width, height) of one cell in inches, before layout; 85 % of the axes is left once labels and a colour bar take theirs."""
    box, (w, h) = ax.get_position(), ax.figure.get_size_inches()
    return 0.85 * box.width * w / shape[1], 0.85 * box.height * h / shape[0]


def _value_points(ax, shape, fontsize: float, widest: int) -> float | None:
    """The point size at which the cells' values show at least MIN_VALUE_PX tall on the page,
    or None when a cell is too small to hold `widest` characters at that size."""
    points = max(fontsize, fontsize * MIN_VALUE_PX / shown_px(ax.figure, fontsize))
    cell_w, cell_h = _cell_inches(ax, shape)
    fits = widest * 0.6 * points / 72 <= cell_w and 1.2 * points / 72 <= cell_h  # digits are about 0.6 em wide
    return points if fits else None


def _ticks(ax, labels, axis: str) -> None:
    n = len(labels)
    cell = _cell_inches(ax, (n, n))[0 if axis == "x" else 1] if n else 1.0
    points = FontProperties(size=matplotlib.rcParams[f"{axis}tick.labelsize"]).get_size_in_points()

    def step(ems: float) -> int:  # every label gets `ems` of its font's size along the axis, and at most MAX_TICK_LABELS show
        return max(1, int(np.ceil(n / MAX_TICK_LABELS)), int(np.ceil(1.15 * ems * points / 72 / cell)))

    positions = np.arange(0, n, step(1))
    texts = [str(labels[i]) for i in positions]
    # Tick labels may predate use_cjk_font (axes made by the caller): give them its fonts.
    family = matplotlib.rcParams["font.family"]
    if axis == "x":
        upright = len(positions) <= 30 and max(map(len, texts)) <= 3  # single characters and short words
        if upright and step(max(map(len, texts))) > step(1):  # side by side they would overlap: turn them
            upright = False
        ax.set_xticks(positions, texts, rotation=0 if upright else 90, fontfamily=family)
    else:
        ax.set_yticks(positions, texts, fontfamily=family)


def _annotate(ax, im, values: np.ndarray, fontsize: float, kind: str) -> None:
    fmt = _value_format(values[np.isfinite(values)], kind)
    widest = max(len(fmt.format(v)) for v in values[np.isfinite(values)])
    fontsize = _value_points(ax, values.shape, fontsize, widest) or fontsize  # an explicit annotate=True keeps its size
    for (i, j), v in np.ndenumerate(values):
        if not np.isfinite(v):  # a blocked cell (−∞) carries no number to read
            continue
        r, g, b, _ = im.cmap(im.norm(v))
        ax.text(j, i, alt_text.number(v, fmt), ha="center", va="center",
                fontsize=fontsize, color=text_colour(r, g, b))


def _shade_blocked(ax, blocked: np.ndarray) -> None:
    """Grey, hatched cells where attention is blocked (−∞): distinct from any colour of the scale."""
    rows, cols = np.nonzero(blocked)
    hatch = "////" if len(rows) <= MAX_HATCHED_CELLS else None  # hatching thousands of cells only makes grey
    cells = [Rectangle((j - 0.5, i - 0.5), 1, 1) for i, j in zip(rows, cols)]
    ax.add_collection(PatchCollection(cells, facecolor=BLOCKED_COLOR, edgecolor=BLOCKED_HATCH_COLOR,
                                      hatch=hatch, linewidth=0))


def _panel_size(rows: int, cols: int) -> tuple[float, float]:
    """Inches for one heatmap: room for written values while small, capped when large."""
    return min(1.6 + 0.55 * cols, 11.0), min(1.0 + 0.42 * rows, 9.0)


def heatmap(
    df: pd.DataFrame,
    ax=None,
    *,
    title: str | None = None,
    kind: str | None = None,
    annotate: bool | None = None,
    colorbar: bool = True,
    fontsize: float = 8,
    vmax: float | None = None,
):
    """Draw df as a labeled heatmap and return the Axes.

    kind: "signed" (diverging colormap centred on 0) or "prob" (0..1); by
    default taken from the stage (df.attrs["kind"]), else "prob" when every
    value lies in [0, 1], else "signed". The title defaults to the stage's
    formula and shape, e.g. "Q·Kᵀ/√d_k  (8×8)". Values are written into the
    cells while the matrix is small (annotate=None decides by size).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"heatmap takes a labeled pandas DataFrame, got {type(df).__name__}")
    if df.empty:
        raise ValueError("heatmap got an empty DataFrame: nothing to draw")
    values = df.to_numpy(dtype=np.float64)
    blocked = np.isneginf(values)  # −∞: a masked (blocked) query-key pair, drawn apart from the scale
    if np.isnan(values).any() or np.isposinf(values).any():
        raise ValueError("heatmap got NaN or inf: the stage it shows has overflowed (see ats.softmax)")
    if blocked.all():
        raise ValueError("heatmap got only −∞ (every cell blocked): nothing to draw")
    finite = values[~blocked]
    use_cjk_font()
    if ax is None:
        _, ax = plt.subplots(figsize=_panel_size(*df.shape), layout="constrained")
    if kind is None:
        kind = df.attrs.get("kind") or ("prob" if finite.min() >= 0 and finite.max() <= 1 else "signed")
    if kind == "prob":
        cmap, norm = PROB_CMAP, mcolors.Normalize(0.0, 1.0 if vmax is None else vmax)
    elif kind == "signed":
        half = vmax if vmax is not None else (np.abs(finite).max() or 1.0)
        cmap, norm = SIGNED_CMAP, mcolors.Normalize(-half, half)
    else:
        raise ValueError(f"kind must be 'signed' or 'prob', got {kind!r}")
    im = ax.imshow(np.ma.masked_array(values, blocked), cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    if blocked.any():
        _shade_blocked(ax, blocked)
    _ticks(ax, list(df.columns), "x")
    _ticks(ax, list(df.index), "y")
    ax.tick_params(length=0)
    if df.columns.name:
        ax.set_xlabel(df.columns.name)
    if df.index.name:
        ax.set_ylabel(df.index.name)
    if annotate is None:  # values only where they show legibly on the page; the colour bar reads the rest
        widest = max(len(_value_format(finite, kind).format(v)) for v in (finite.min(), finite.max()))
        annotate = (df.size <= ANNOTATE_MAX_CELLS and max(df.shape) <= ANNOTATE_MAX_SIDE
                    and _value_points(ax, df.shape, fontsize, widest) is not None)
    if annotate:
        _annotate(ax, im, values, fontsize, kind)
    if title is None:
        title = df.attrs.get("formula", "")
        title = f"{title}  ({df.shape[0]}×{df.shape[1]})".strip()
    ax.set_title(title, fontsize=fontsize + 3, fontfamily=matplotlib.rcParams["font.family"])
    alt_text.describe(ax, alt_text.matrix(df, title, kind, _value_format(finite, kind)))
    for spine in ax.spines.values():
        spine.set_visible(False)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.85, pad=0.02)
    return ax


# A figure wider than this shrinks on a book page (about 7 inches of text column) until
# its 8-point values are smaller than 6 pixels; panoramas wrap into rows instead.
PAGE_WIDTH = 10.0
# ...but a panorama of many large stages (chapter 4: 9 stages, X 96 wide) one per row would be
# over 40 inches tall (8,000 px at 2×); then it takes more panels per row until it is not.
MAX_HEIGHT = 38.0


def _columns_that_fit(sizes: list[tuple[float, float]]) -> int:
    """Panels per row (in reading order): the most whose widest row stays within PAGE_WIDTH
    (at least 1), then more while the figure would be taller than MAX_HEIGHT."""
    def width(ncols):
        return max(sum(w for w, _ in sizes[r:r + ncols]) for r in range(0, len(sizes), ncols))

    def height(ncols):
        return sum(max(h for _, h in sizes[r:r + ncols]) for r in range(0, len(sizes), ncols))

    ncols = next((n for n in range(len(sizes), 0, -1) if width(n) <= PAGE_WIDTH), 1)
    while ncols < len(sizes) and height(ncols) > MAX_HEIGHT:
        ncols += 1
    return ncols


def plot_steps(steps, title: str | None = None, ncols: int | None = None) -> Figure:
    """The whole step-through, one panel per stage, in reading order (left to right, top to bottom).

    X → Q, K, V → Q·Kᵀ → Q·Kᵀ/√d_k (→ + M when masked) → softmax → output.
    ncols: panels per row; by default as many as fit in PAGE_WIDTH inches, so
    every written value stays legible at a book's text-column width (8×10
    stages: one per row), unless that would be taller than MAX_HEIGHT inches:
    then the panels narrow to PAGE_WIDTH and keep only the values that still fit
    (the colour bars read the rest). ncols=4 suits a wide screen.
    """
    use_cjk_font()
    stages = steps.stages()
    names = list(stages)
    auto = ncols is None
    if auto:
        ncols = _columns_that_fit([_panel_size(*stages[name].shape) for name in names])
    ncols = min(checks.positive_int(ncols, "ncols"), len(names))
    grid = [names[r:r + ncols] for r in range(0, len(names), ncols)]
    sizes = [[_panel_size(*stages[name].shape) for name in row] for row in grid]
    col_w = [max(size[c][0] for size in sizes if c < len(size)) for c in range(ncols)]
    if auto and sum(col_w) > PAGE_WIDTH:  # more panels per row than fit (a tall strip): narrower panels, fewer values
        col_w = [w * PAGE_WIDTH / sum(col_w) for w in col_w]
    row_h = [max(h for _, h in size) for size in sizes]
    fig = plt.figure(figsize=(sum(col_w), sum(row_h) + 0.8), layout="constrained")
    axes = fig.subplots(len(grid), ncols, squeeze=False, gridspec_kw={"width_ratios": col_w, "height_ratios": row_h})
    for row, row_names in zip(axes, grid):
        for ax in row[len(row_names):]:  # the last row may have fewer stages than columns
            ax.set_visible(False)
        for c, (ax, name) in enumerate(zip(row, row_names)):
            heatmap(stages[name], ax=ax)
            if c > 0:  # the row labels already say which token each row is
                ax.set_ylabel("")
    source = SHORT_SOURCE.get(steps.X.attrs.get("source"))
    if title is None:
        title = f"Attention(Q, K, V) = {steps.output.attrs.get('formula', 'softmax(Q·Kᵀ/√d_k)·V')}"
    fig.suptitle(title + (f"\n{source}" if source else ""), fontsize=12)
    weights = stages["weights"]
    top = np.unravel_index(np.argmax(weights.to_numpy()), weights.shape)
    highlight = (f"注意力权重最大的格：{alt_text.cell_name(weights, *top)} {weights.iloc[top]:.2f}。"
                 + (f"{source}。" if source else ""))
    what = (f"自注意力一步一步的 {len(names)} 幅热力图，从左到右、从上到下："
            + " → ".join(alt_text.STAGE_NAMES.get(n, n).split(" ")[0] for n in names))
    panels = [alt_text.described(ax) for row in axes for ax in row if ax.get_visible()]
    alt_text.describe(fig, alt_text.strip(panels, what, alt_text.label_text(steps.X.index), highlight))
    return fig


def plot_heads(mh, stage: str = "weights", ncols: int = 2) -> Figure:
    """One stage (default: the softmax weights) of every head of a MultiHead, `ncols` per row.

    At most about 10 inches wide, so the values stay readable on a book page.
    """
    use_cjk_font()
    h = len(mh.heads)
    ncols = min(checks.positive_int(ncols, "ncols"), h)
    nrows = -(-h // ncols)
    n, m = mh.heads[0].stages()[stage].shape
    width = min(10.0, ncols * (0.5 * m + 1.4))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, nrows * (0.42 * n + 1.3)), layout="constrained", squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= h:
            ax.set_visible(False)
            continue
        df = mh.heads[i].stages()[stage]
        last_in_row = i % ncols == ncols - 1 or i == h - 1
        heatmap(df, ax=ax, title=f"head {i + 1}: {df.attrs.get('formula', stage)}", colorbar=last_in_row)
        if i % ncols:
            ax.set_ylabel("")
    panels = [alt_text.described(ax) for ax in axes.flat[:h]]
    tops = []
    for i, steps in enumerate(mh.heads, 1):
        df = steps.stages()[stage]
        hi = np.unravel_index(np.argmax(df.to_numpy()), df.shape)  # −∞ (blocked) is never the largest
        tops.append(f"头 {i} 最大 {alt_text.number(df.iloc[hi])}（{alt_text.cell_name(df, *hi)}）")
    what = f"{h} 个头各自的{alt_text.STAGE_NAMES.get(stage, stage)}，每个头一幅热力图"
    alt_text.describe(fig, alt_text.strip(panels, what, alt_text.label_text(mh.heads[0].X.index), "；".join(tops) + "。"))
    return fig


def plot_row(row: pd.Series, title: str | None = None) -> Figure:
    """One query's row of attention weights as horizontal bars, largest at the top, each with its value (chapter 2)."""
    use_cjk_font()
    if not isinstance(row, pd.Series):
        raise TypeError(f"row must be a pandas Series (one row of a weights table), got {type(row).__name__}")
    ordered = row.sort_values()
    fig, ax = plt.subplots(figsize=(5, 0.3 * len(row) + 0.6), layout="constrained")
    bars = ax.barh([str(k) for k in ordered.index], ordered.to_numpy())
    ax.bar_label(bars, fmt="%.2f")
    ax.set(xlim=(0, 1.15), xlabel="权重", title=title or f"「{row.name}」这一行的注意力权重")
    listed = "，".join(f"{k} {v:.2f}" for k, v in row.sort_values(ascending=False).items())
    alt_text.describe(fig, f"横向条形图「{ax.get_title()}」：{len(row)} 个词分到的权重，从大到小：{listed}。")
    return fig


def plot_history(history: pd.DataFrame) -> Figure:
    """A trained head's loss and accuracies per epoch, side by side (chapter 4; history is TrainedHead.history)."""
    use_cjk_font()
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3), layout="constrained")
    history["loss"].plot(ax=left, color="C3")
    left.set(title="训练集上的损失（交叉熵）", xlabel="轮", ylim=(0, None))
    accuracy = history[["train_accuracy", "test_accuracy"]].rename(
        columns={"train_accuracy": "训练集", "test_accuracy": "测试集（留出）"})
    accuracy.plot(ax=right)
    right.axhline(0.5, color="0.6", lw=0.8, ls=":")
    right.set(title="准确率", xlabel="轮", ylim=(0.4, 1.02))
    first, last = history.iloc[0], history.iloc[-1]
    alt_text.describe(fig, (
        f"两幅折线图，横轴是训练的轮数（0 到 {history.index[-1]}）：左，训练集上的损失从 {first['loss']:.2f} "
        f"降到 {last['loss']:.2f}；右，准确率，训练集从 {first['train_accuracy']:.2f} 到 {last['train_accuracy']:.2f}，"
        f"测试集（留出）从 {first['test_accuracy']:.2f} 到 {last['test_accuracy']:.2f}，虚线是瞎猜的 0.5。"))
    return fig
