"""The table of stages: each stage's name, formula, colour kind and caption, read by every other module.

`attention` titles its DataFrames from it, `plotting` colours and titles its
panels from it, and `explorer` sends it to the browser, where explorer_view.js
draws the same titles, captions and colours. Nothing else spells a formula.

A formula may hold {scale} (how the scores were divided: "/√d_k", "/τ", both
or nothing) and {mask} (" + M" when some keys are blocked); `formula` fills
them from the options that made the stages, and explorer_view.js fills them
the same way from `FORMULA_PARTS`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Stage:
    name: str  # the attribute of ats.Steps and the data-stage of the explorer's cells
    formula: str  # its title; see the module docstring for {scale} and {mask}
    kind: str  # "signed": a diverging colour scale centred on 0; "prob": 0..1
    caption: str  # what the step does, in the book's language ("第 k 步：…" in the explorer)
    note: str  # the explorer's short label under the title
    stop: str  # the explorer's navigator button; stages sharing one (Q, K, V) are shown together


STAGES = (
    Stage("X", "X", "signed", "每个词一行向量，得到输入 X", "每个词的嵌入向量，不是算出来的", "X"),
    Stage("Q", "Q = X·Wq", "signed", "Q = X·Wq，每个词的查询 (query)", "查询", "Q/K/V"),
    Stage("K", "K = X·Wk", "signed", "K = X·Wk，每个词的键 (key)", "键", "Q/K/V"),
    Stage("V", "V = X·Wv", "signed", "V = X·Wv，每个词的值 (value)", "值；左列是跟随的词分给每一行的权重", "Q/K/V"),
    Stage("scores", "Q·Kᵀ", "signed", "Q·Kᵀ，每个查询与每个键的点积", "分数", "分数"),
    Stage("scaled", "Q·Kᵀ{scale}", "signed", "除以 √d_k，让分数的尺度不随 d_k 变大", "缩放后的分数", "缩放"),
    # M is 0 where a query may attend to a key and −∞ where it is blocked.
    Stage("masked", "Q·Kᵀ{scale} + M", "signed", "加上遮挡 M：不许看的位置变成 −∞（灰色斜线格）", "挡住的格子是 −∞", "遮挡"),
    Stage("weights", "softmax(Q·Kᵀ{scale}{mask})", "prob", "按行做 softmax，每行变成和为 1 的注意力权重", "每行和为 1", "softmax"),
    Stage("output", "softmax(Q·Kᵀ{scale}{mask})·V", "signed", "权重 · V，每个词得到其他词的值的加权和", "输出", "输出"),
)
STAGE = {s.name: s for s in STAGES}

# The pieces `formula` puts into {scale} and {mask}. The scaled stage of an
# unscaled pass says so, rather than repeating the scores' title.
FORMULA_PARTS = {"sqrt_d_k": "/√d_k", "temperature": "/τ", "mask": " + M", "not_scaled": " (not scaled)"}


def formula(name: str, scale: bool = True, temperature: float = 1.0, masked: bool = False) -> str:
    """The title of stage `name` for these options, e.g. formula("weights", masked=True) == "softmax(Q·Kᵀ/√d_k + M)"."""
    divided = (FORMULA_PARTS["sqrt_d_k"] if scale else "") + (FORMULA_PARTS["temperature"] if temperature != 1 else "")
    if name == "scaled" and not divided:
        divided = FORMULA_PARTS["not_scaled"]
    return STAGE[name].formula.format(scale=divided, mask=FORMULA_PARTS["mask"] if masked else "")


# How each kind is coloured: the matplotlib colormap, and the stops the
# explorer interpolates (11 for RdBu_r, 9 for Blues: ColorBrewer's own
# colours, from which matplotlib builds these maps).
COLORMAPS = {"signed": ("RdBu_r", 11), "prob": ("Blues", 9)}

# Text on a coloured cell: white where the cell is dark, black where it is light, by the
# cell's WCAG relative luminance (sRGB r, g, b in 0..1 made linear, then weighted). Below
# 0.179 white contrasts more than black, above it black does; so every value has at least
# 4.58:1 against its cell, WCAG AA. Python and JavaScript apply this rule.
TEXT_COLOUR = {"luminance": [0.2126, 0.7152, 0.0722], "dark_below": 0.179, "on_dark": "white", "on_light": "black"}


def _linear(v: float) -> float:
    """An sRGB component (0..1) as linear light, as WCAG 2 defines relative luminance."""
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def text_colour(r: float, g: float, b: float) -> str:
    """The colour of a value written on a cell of colour (r, g, b), each 0..1."""
    wr, wg, wb = TEXT_COLOUR["luminance"]
    dark = wr * _linear(r) + wg * _linear(g) + wb * _linear(b) < TEXT_COLOUR["dark_below"]
    return TEXT_COLOUR["on_dark"] if dark else TEXT_COLOUR["on_light"]


def colour_stops(kind: str) -> list[str]:
    """The colours of `kind`'s scale at evenly spaced points from its low end to its high end, as #rrggbb."""
    import matplotlib
    import matplotlib.colors as mcolors

    name, n = COLORMAPS[kind]
    cmap = matplotlib.colormaps[name]
    return [mcolors.to_hex(cmap(k / (n - 1))) for k in range(n)]


def with_stage(df, stage: str, title: str | None = None):
    """df (a DataFrame) marked as stage `stage`: its formula (the table's, unless `title` is given) and colour
    kind in df.attrs, which ats.heatmap reads for the title and colour scale."""
    df.attrs.update(stage=stage, formula=title or formula(stage), kind=STAGE[stage].kind)
    return df


def table() -> list[dict]:
    """The stages as plain dicts, for the explorer's JSON."""
    return [asdict(s) for s in STAGES]
