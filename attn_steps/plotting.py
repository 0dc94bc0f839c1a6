"""Stages -> figures: labeled heatmaps, and the whole step-through on one page.

After matplotlib's gallery example "Creating annotated heatmaps": `heatmap`
draws one labeled matrix into an Axes and returns it; `plot_steps` and
`plot_heads` are built from it. Labels come from the DataFrame's index and
columns, titles and colour scales from the stage it holds (df.attrs).
"""

from __future__ import annotations

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .fonts import use_cjk_font

ANNOTATE_MAX_CELLS = 400  # beyond this, numbers would be unreadably small
ANNOTATE_MAX_SIDE = 24
MAX_TICK_LABELS = 40  # a 300-token text keeps every 8th label, not a black smear
SIGNED_CMAP = "RdBu_r"  # diverging, centred on 0: red positive, blue negative
PROB_CMAP = "Blues"  # sequential 0..1 for softmax weights


def _value_format(values: np.ndarray) -> str:
    if np.allclose(values, np.round(values)) and np.abs(values).max() < 1e5:
        return "{:.0f}"
    biggest = np.abs(values).max()
    if biggest >= 100:
        return "{:.0f}"
    if biggest >= 10:
        return "{:.1f}"
    return "{:.2f}"


def _ticks(ax, labels, axis: str) -> None:
    n = len(labels)
    step = max(1, int(np.ceil(n / MAX_TICK_LABELS)))
    positions = np.arange(0, n, step)
    texts = [str(labels[i]) for i in positions]
    if axis == "x":
        ax.set_xticks(positions, texts, rotation=90 if n > 12 or max(map(len, texts)) > 4 else 0)
    else:
        ax.set_yticks(positions, texts)


def _annotate(ax, im, values: np.ndarray, fontsize: float) -> None:
    fmt = _value_format(values)
    for (i, j), v in np.ndenumerate(values):
        r, g, b, _ = im.cmap(im.norm(v))
        # Relative luminance: white text on dark cells, black on light ones.
        dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5
        ax.text(j, i, fmt.format(v).replace("-", "−"), ha="center", va="center",
                fontsize=fontsize, color="white" if dark else "black")


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
    if not np.isfinite(values).all():
        raise ValueError("heatmap got NaN or inf: the stage it shows has overflowed (see ats.softmax)")
    use_cjk_font()
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 + 0.55 * df.shape[1], 0.8 + 0.45 * df.shape[0]), layout="constrained")
    if kind is None:
        kind = df.attrs.get("kind") or ("prob" if values.min() >= 0 and values.max() <= 1 else "signed")
    if kind == "prob":
        cmap, norm = PROB_CMAP, mcolors.Normalize(0.0, 1.0 if vmax is None else vmax)
    elif kind == "signed":
        half = vmax if vmax is not None else (np.abs(values).max() or 1.0)
        cmap, norm = SIGNED_CMAP, mcolors.Normalize(-half, half)
    else:
        raise ValueError(f"kind must be 'signed' or 'prob', got {kind!r}")
    im = ax.imshow(values, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    _ticks(ax, list(df.columns), "x")
    _ticks(ax, list(df.index), "y")
    ax.tick_params(length=0)
    if df.columns.name:
        ax.set_xlabel(df.columns.name)
    if df.index.name:
        ax.set_ylabel(df.index.name)
    if annotate is None:
        annotate = df.size <= ANNOTATE_MAX_CELLS and max(df.shape) <= ANNOTATE_MAX_SIDE
    if annotate:
        _annotate(ax, im, values, fontsize)
    if title is None:
        title = df.attrs.get("formula", "")
        title = f"{title}  ({df.shape[0]}×{df.shape[1]})".strip()
    ax.set_title(title, fontsize=fontsize + 3)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.85, pad=0.02)
    return ax


_ROWS = (("X", "Q", "K", "V"), ("scores", "scaled", "weights", "output"))


def plot_steps(steps, title: str | None = None) -> Figure:
    """The whole step-through, one panel per stage in reading order.

    Top row: X → Q, K, V; bottom row: Q·Kᵀ → /√d_k → softmax → output.
    """
    use_cjk_font()
    stages = steps.stages()
    n, m = stages["scores"].shape
    widths = [max(stages[name].shape[1] for name in col) for col in zip(*_ROWS)]
    cell_w = 0.55 if max(n, m) <= ANNOTATE_MAX_SIDE else 0.06
    row_h = max(2.6, (0.42 if n <= ANNOTATE_MAX_SIDE else 0.04) * max(n, m) + 1.4)
    fig = plt.figure(figsize=(sum(w * cell_w + 1.6 for w in widths), 2 * row_h + 1.2), layout="constrained")
    axes = fig.subplots(2, 4, gridspec_kw={"width_ratios": widths})
    for row, names in zip(axes, _ROWS):
        for ax, name in zip(row, names):
            heatmap(stages[name], ax=ax)
    source = steps.X.attrs.get("source")
    if title is None:
        title = "Attention(Q, K, V) = softmax(Q·Kᵀ/√d_k)·V"
    fig.suptitle(title + (f"\nX: {source}" if source else ""), fontsize=13)
    return fig


def plot_heads(mh, stage: str = "weights") -> Figure:
    """One stage (default: the softmax weights) of every head of a MultiHead, side by side."""
    use_cjk_font()
    h = len(mh.heads)
    n, m = mh.heads[0].weights.shape
    fig, axes = plt.subplots(1, h, figsize=(h * (0.55 * m + 1.8), 0.45 * n + 1.6), layout="constrained", squeeze=False)
    for i, (ax, s) in enumerate(zip(axes[0], mh.heads)):
        df = s.stages()[stage]
        heatmap(df, ax=ax, title=f"head {i + 1}: {df.attrs.get('formula', stage)}", colorbar=i == h - 1)
    return fig
