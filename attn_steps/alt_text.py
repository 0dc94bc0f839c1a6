"""Figures -> words: the alt text of every figure the book draws, written from the numbers it shows.

Each plotting helper (plotting, poet_plots, tile_plots) describes what it drew
with `describe(fig_or_ax, short, long)`: `heatmap` its Axes (stage, sentence,
shape, largest cells, from `matrix`), a whole figure its Figure (a strip of
stages also gets a long description, one line per panel). A figure made of
several described Axes (plt.subplots in a chapter, then ats.heatmap(ax=…)) is
described by its panels in order (`figure_alt`).

How the text reaches the site's <img alt="…">: myst-nb takes an image's alt
only from cell metadata, written by hand, so the text travels in the figure's
own output instead. Imported in IPython, `show_in_notebooks` makes a Figure's
text/plain representation (the text a notebook keeps beside the PNG, and shows
where it cannot show images) its description: the short alt on the first line,
the long description on the lines after it. The Sphinx extension
_ext/figure_alt.py reads that text from each output's mime bundle, sets the
image's alt and puts the long description under the figure. A figure no helper
described keeps matplotlib's "<Figure size …>", and the extension fails the
build (-W) naming its page: a new figure cannot ship without an alt.
"""

from __future__ import annotations

import re
import sys
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

# What each stage is called when read aloud (the titles show formulas: Q·Kᵀ/√d_k).
STAGE_NAMES = {
    "X": "输入嵌入 X", "Q": "查询 Q", "K": "键 K", "V": "值 V", "scores": "注意力分数",
    "scaled": "缩放后的分数", "masked": "遮挡后的分数", "weights": "注意力权重", "output": "注意力输出",
    "Wq": "权重矩阵 Wq", "Wk": "权重矩阵 Wk", "Wv": "权重矩阵 Wv",
}
AXIS_NAMES = {"token": "词元", "query": "查询", "key": "键", "position": "位置"}
MAX_LISTED = 12  # labels listed one by one up to this many; a longer list is cut with "…"
TOP_CELLS = 3  # a matrix of weights names its three largest cells
SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"
SPECIAL = re.compile(r"<[^<>]+>|\[[^\[\]]+\]")  # <s>, <pad>, [PAD]: a model's markers among the tokens
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
UNDESCRIBED = "<Figure size"  # matplotlib's own repr: the figure has no description


@dataclass(frozen=True)
class Alt:
    """A figure's or a panel's description: `short` for alt=, `long` (or None) for the text under it.

    A heatmap also keeps its text without the sentence (`bare`) and the sentence, so a figure of
    several panels of one sentence names it once."""
    short: str
    long: str | None = None
    bare: str | None = None
    sentence: str | None = None


_DESCRIBED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def describe(target, short: str | Alt, long: str | None = None):
    """Attach a description to a Figure or an Axes; returns the target."""
    alt = short if isinstance(short, Alt) else Alt(short.strip(), long)
    if not alt.short:
        raise ValueError("an alt text must say something")
    _DESCRIBED[target] = alt
    return target


def described(target) -> Alt | None:
    return _DESCRIBED.get(target)


def figure_alt(fig) -> Alt | None:
    """The figure's description: its own, or its panels' in order; None when a panel has none."""
    if fig in _DESCRIBED:
        return _DESCRIBED[fig]
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    alts = [_DESCRIBED.get(ax) for ax in panels]
    if not alts or None in alts:
        return None
    if len(alts) == 1:
        return alts[0]
    sentences = {a.sentence for a in alts}
    shared = sentences.pop() if len(sentences) == 1 and None not in sentences else None
    parts = [(a.bare if shared and a.bare else a.short).rstrip("。") for a in alts]
    head = f"{len(alts)} 幅图并排" + (f"，都是句子「{shared}」" if shared else "")
    return Alt(head + "：" + "；".join(f"（{i}）{p}" for i, p in enumerate(parts, 1)) + "。")


def plain_text(fig) -> str:
    """The text/plain a notebook keeps for fig: its alt, then its long description; matplotlib's repr when undescribed."""
    alt = figure_alt(fig)
    if alt is None:
        return repr(fig)
    return alt.short if not alt.long else f"{alt.short}\n{alt.long}"


def show_in_notebooks() -> None:
    """In IPython (a notebook's kernel), make a described Figure's text/plain its description (module docstring).

    Through the mime-bundle formatter: IPython drops every per-mime printer of Figure when the inline backend
    is set up (`%config InlineBackend.figure_format`, after the chapters import attn_steps), not this one."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    if shell is None:
        return
    from matplotlib.figure import Figure

    def bundle(fig):
        return {"text/plain": plain_text(fig)} if figure_alt(fig) else None

    shell.display_formatter.mimebundle_formatter.for_type(Figure, bundle)


def number(v: float, fmt: str = "{:.2f}") -> str:
    """v as the figure writes it, with a true minus and no −0."""
    text = fmt.format(v)
    if float(text) == 0:
        text = fmt.format(0.0)
    return text.replace("-", "−")


def sentence(labels) -> str | None:
    """The labels joined into the sentence or poem they spell ("我喜欢的水果是橙子和苹果"), when they are its
    tokens: two or more, each a short run of Chinese (its subscript dropped) or a marker such as <s> or [PAD]."""
    plain = [str(x).rstrip(SUBSCRIPTS) for x in labels]
    words = [x for x in plain if not SPECIAL.fullmatch(x)]
    if len(plain) >= 2 and words and all(CJK.search(x) and len(x) <= 4 for x in words):
        return "".join(plain)
    return None


def label_text(labels) -> str:
    """Row or column labels read aloud: the sentence they spell, else listed (Chinese), else a range (q1–q6)."""
    joined = sentence(labels)
    if joined:
        return joined
    labels = [str(x) for x in labels]
    if all(CJK.search(x) for x in labels):
        return "、".join(labels[:MAX_LISTED]) + ("…" if len(labels) > MAX_LISTED else "")
    return labels[0] if len(labels) == 1 else f"{labels[0]}–{labels[-1]}"


def matrix(df: pd.DataFrame, title: str, kind: str, fmt: str) -> Alt:
    """A heatmap's description: what it shows, the sentence, the shape, and its largest cells (row → column).

    kind "prob": the TOP_CELLS largest weights; "signed": the largest and the smallest value.
    fmt: how the figure writes its values (so the alt and the cells agree)."""
    values = df.to_numpy(dtype=np.float64)
    blocked = np.isneginf(values)
    name = STAGE_NAMES.get(df.attrs.get("stage"), "")
    title = " ".join(title.split())
    what = f"热力图「{title}」" + (f"（{name}）" if name and name not in title else "")
    rows = sentence(df.index)
    axes = []
    for axis, labels in (("行", df.index), ("列", df.columns)):
        role = AXIS_NAMES.get(labels.name, labels.name or "")
        joined = sentence(labels)
        if axis == "列" and joined and joined == rows:
            axes.append(f"{axis}{('是' + role) if role else ''}，同一句")
        elif axis == "行" and rows:
            axes.append(f"{axis}{('是' + role) if role else ''}")
        else:
            axes.append(f"{axis}{('是' + role) if role else ''}" + (f"「{joined}」" if joined else f" {label_text(labels)}"))
    shape = f"{df.shape[0]} 行 × {df.shape[1]} 列（{'，'.join(axes)}）"
    cells = _cells(df, values, blocked, kind, fmt)
    bare = f"{what}，{shape}。{cells}"
    if rows is None:
        return Alt(bare, bare=bare)
    return Alt(f"{what}，句子「{rows}」，{shape}。{cells}", bare=bare, sentence=rows)


def cell_name(df: pd.DataFrame, i: int, j: int) -> str:
    return f"{df.index[i]} → {df.columns[j]}"


def _cells(df, values, blocked, kind: str, fmt: str) -> str:
    finite = np.where(blocked, np.nan, values)
    if kind == "prob":
        order = np.argsort(np.nan_to_num(finite, nan=-np.inf), axis=None, kind="stable")[::-1]
        cells = [np.unravel_index(k, values.shape) for k in order[:(~blocked).sum()]]
        best = number(values[cells[0]], fmt)
        ties = sorted(c for c in cells if number(values[c], fmt) == best)
        if len(ties) > TOP_CELLS:  # saturated rows: every cell the figure shows at the top value, in row order
            listed = "，".join(cell_name(df, i, j) for i, j in ties[:MAX_LISTED]) + ("…" if len(ties) > MAX_LISTED else "")
            text = f"有 {len(ties)} 格是 {best}：{listed}"
        else:
            shown = [c for c in cells[:TOP_CELLS] if float(number(values[c], fmt))] or cells[:1]  # no "0.00" cells
            text = "最大的格：" + "，".join(f"{cell_name(df, i, j)} {number(values[i, j], fmt)}" for i, j in shown)
    else:
        hi = np.unravel_index(np.nanargmax(finite), values.shape)
        lo = np.unravel_index(np.nanargmin(finite), values.shape)
        text = (f"最大 {number(values[hi], fmt)}（{cell_name(df, *hi)}），"
                f"最小 {number(values[lo], fmt)}（{cell_name(df, *lo)}）")
    if blocked.any():
        text += f"；{int(blocked.sum())} 格被遮挡（−∞，灰色斜线）"
    return text + "。"


def strip(panels: list[Alt], what: str, spelled: str | None, highlight: str) -> Alt:
    """A figure of many panels (the stages of one pass, the heads of a layer): a short alt naming them and the
    number a reader looks for (`highlight`), the long description one panel per line."""
    head = what + (f"，句子「{spelled}」" if spelled else "")
    long = "\n".join(f"（{i}）{p.bare or p.short}" for i, p in enumerate(panels, 1))
    return Alt(f"{head}。{highlight}", long)
