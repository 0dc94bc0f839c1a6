"""A widget that steps through the tiles of `tiled_attention` in the reader's browser (chapter 8).

`tile_widget(X, W, block_q=, block_k=, causal=)` returns an object whose
HTML holds Q, K and V (those `tiled_attention` computes, in Python) as JSON and a small
JavaScript file (attn_steps/web/tiles.js, inlined) that runs the tiled loop of
tiles.py and shows, tile by tile, the score grid and every query row's m, l
and unnormalised O; after the last tile, the output O / l beside plain attention
(attention.py, computed here) and their largest difference. No kernel, server or
network once the HTML exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from . import checks
from .attention import Weights, fitted, self_attention
from .embeddings import SHORT_SOURCE
from .tiles import tiled_attention
from .widget import Kind, Widget

MAX_TOKENS = 24  # a wider grid of numbers no longer fits a page
# The legend names each kind of cell by its role, beside a swatch drawn with the grid's own class:
# the colours differ between the light and the dark theme, a role does not.
LEGEND = (("at-done", "已经算过的块"), ("at-now", "刚算的块（右表里这样标出的行，是它改变的行）"),
          ("at-wait", "还没算"), ("at-skip", "整块被遮挡，跳过不算"))


@dataclass(frozen=True)
class TileWidget(Widget):
    """The widget's HTML (`html`) and its data (`data`); displays itself in Jupyter."""

    KIND: ClassVar[Kind] = Kind("tiles", "attn-tiles", ("tiles.js",), ("tiles.css",), "AttnTiles")

    def __repr__(self) -> str:
        return f"<attn_steps tile widget, {len(self.data['tokens'])} tokens: open it in Jupyter or a browser>"


def tile_widget(X, W: Weights, block_q: int = 3, block_k: int = 3, causal: bool = False,
                title: str = "按块计算注意力：一块一块地看 m、l、O 怎样变") -> TileWidget:
    """The tiled loop of `ats.tiled_attention(X, W, block_q, block_k, causal)`, one tile per click."""
    causal = checks.flag(causal, "causal")
    X = fitted(X, W)
    if len(X) > MAX_TOKENS:
        raise ValueError(f"the tile widget shows at most {MAX_TOKENS} tokens legibly, X has {len(X)}")
    run = tiled_attention(X, W, block_q, block_k, causal)  # its errors for bad blocks; its Q, K, V for the page
    source = X.attrs.get("source")
    data = {
        "title": title,
        "tokens": [str(t) for t in X.index],
        "Q": _rows(run.steps.Q), "K": _rows(run.steps.K), "V": _rows(run.steps.V),
        "block_q": int(block_q), "block_k": int(block_k), "causal": causal,
        "note": (f"{SHORT_SOURCE.get(source, source)}；" if source else "")
        + f"查询块 {int(block_q)} 行，键块 {int(block_k)} 列" + ("，因果遮挡" if causal else "") + "。",
        "legend": [list(item) for item in LEGEND],
        "legend_note": "c = exp(m旧 − m新)：这一行的最大值变大时小于 1，没变时是 1；—：还没有以前的和要缩放。",
        # Plain attention (one softmax over whole rows), for the exactness check after the last tile.
        "plain": _rows(self_attention(X, W, causal=causal).output),
    }
    return TileWidget.of(data)


def _rows(df) -> list:
    """A matrix as nested lists of Python floats, which JSON writes exactly (shortest round-trip form)."""
    return [[float(v) for v in r] for r in df.to_numpy()]
