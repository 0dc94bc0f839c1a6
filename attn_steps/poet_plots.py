"""Figures of the poem chapter: where attention sits in a Transformer, every head at once, training, next characters.

Each takes what the poem model computed (attn_steps.poet) and returns a
matplotlib Figure with Chinese labels, described in words from the same
numbers (its alt text, attn_steps.alt_text); none computes a stage itself.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from . import alt_text, checks
from .fonts import use_cjk_font
from .plotting import PROB_CMAP, heatmap

FEW_PAIRS = 20  # fewer judged rhyme pairs than this: a rate says nothing
ATTENTION_FILL, MLP_FILL, NORM_FILL, IO_FILL = "#fde7c7", "#d8ecd3", "#e6e1f5", "#dbe9f6"


def _box(ax, x: float, y: float, w: float, h: float, text: str, fill: str, size: float = 10) -> None:
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=fill, edgecolor="#57606a", linewidth=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=size, linespacing=1.3)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], color: str = "#24292f") -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=color,
                                 linewidth=1.1, shrinkA=0, shrinkB=0))


def plot_block(config) -> Figure:
    """The model drawn bottom to top: embeddings → L × [LayerNorm → attention → + → LayerNorm → MLP → +] → probabilities.

    The sizes written in the boxes are config's (n_layer, n_head, n_embd, block_size, vocab_size).
    """
    use_cjk_font()
    L, H, C = config.n_layer, config.n_head, config.n_embd
    V, T = config.vocab_size, config.block_size
    fig, ax = plt.subplots(figsize=(7.2, 9.4), layout="constrained")
    x, w = 0.0, 4.2
    ys = {"in": 0.0, "emb": 1.1, "ln1": 2.6, "attn": 3.6, "add1": 4.6, "ln2": 5.5, "mlp": 6.5, "add2": 7.5,
          "lnf": 8.8, "head": 9.8, "out": 10.8}
    _box(ax, x, ys["in"], w, 0.6, f"字的编号（最多 {T} 个，含开头记号）", IO_FILL)
    _box(ax, x, ys["emb"], w, 0.8, f"字嵌入 wte（{V}×{C}）+ 位置嵌入 wpe（{T}×{C}）\n每个字一行 {C} 个数", IO_FILL)
    _box(ax, x, ys["ln1"], w, 0.6, "LayerNorm（ln_1）", NORM_FILL)
    _box(ax, x, ys["attn"], w, 0.8,
         f"因果多头自注意力（attn）\n{H} 个头 × 每头 {C // H} 维：Q、K、V → softmax → 输出", ATTENTION_FILL, 10)
    _box(ax, x, ys["add1"], 0.5, 0.5, "+", "white", 14)
    _box(ax, x, ys["ln2"], w, 0.6, "LayerNorm（ln_2）", NORM_FILL)
    _box(ax, x, ys["mlp"], w, 0.8, f"MLP：{C} → {4 * C}（GELU）→ {C}", MLP_FILL)
    _box(ax, x, ys["add2"], 0.5, 0.5, "+", "white", 14)
    _box(ax, x, ys["lnf"], w, 0.6, "LayerNorm（ln_f）", NORM_FILL)
    _box(ax, x, ys["head"], w, 0.8, f"乘以 wteᵀ（与字嵌入共用）→ softmax\n下一个字的概率（{V} 个记号）", IO_FILL)
    _box(ax, x, ys["out"], w, 0.5, "每个位置：下一个字是什么", "white")
    chain = ["in", "emb", "ln1", "attn", "add1", "ln2", "mlp", "add2", "lnf", "head", "out"]
    half = {"in": 0.3, "emb": 0.4, "ln1": 0.3, "attn": 0.4, "add1": 0.25, "ln2": 0.3, "mlp": 0.4, "add2": 0.25,
            "lnf": 0.3, "head": 0.4, "out": 0.25}
    for a, b in zip(chain, chain[1:]):
        _arrow(ax, (x, ys[a] + half[a]), (x, ys[b] - half[b]))
    # the residual stream: around each sublayer, straight into its "+"
    for start, plus in (("emb", "add1"), ("add1", "add2")):
        y0 = ys[start] + half[start] + 0.15
        ax.plot([x, x + w / 2 + 0.5, x + w / 2 + 0.5], [y0, y0, ys[plus]], color="#0969da", linewidth=1.4)
        _arrow(ax, (x + w / 2 + 0.5, ys[plus]), (x + 0.25, ys[plus]), color="#0969da")
    ax.text(x + w / 2 + 0.6, (ys["ln1"] + ys["attn"]) / 2, "残差：\n原样\n加回", color="#0969da", fontsize=9,
            va="center", ha="left")
    top, bottom = ys["add2"] + 0.45, ys["ln1"] - 0.45
    ax.add_patch(FancyBboxPatch((x - w / 2 - 0.35, bottom), w + 1.75, top - bottom,
                                boxstyle="round,pad=0.02,rounding_size=0.12", facecolor="none",
                                edgecolor="#8c959f", linewidth=1.2, linestyle="--"))
    ax.text(x - w / 2 - 0.45, (top + bottom) / 2, f"× {L} 层\n（Transformer 块）", ha="right", va="center",
            fontsize=11)
    ax.set_xlim(x - w / 2 - 2.2, x + w / 2 + 1.5)
    ax.set_ylim(-0.5, 11.3)
    ax.set_axis_off()
    ax.set_title("注意力在 Transformer 里的位置（本章的小模型）", fontsize=13)
    alt_text.describe(fig, (
        f"结构图「{ax.get_title()}」，自下而上：字的编号（最多 {T} 个）→ 字嵌入 wte（{V}×{C}）加位置嵌入 wpe"
        f"（{T}×{C}）→ {L} 层 Transformer 块，每层是 LayerNorm → {H} 个头的因果多头自注意力（每头 {C // H} 维）"
        f"→ 残差相加 → LayerNorm → MLP（{C} → {4 * C} → {C}）→ 残差相加 → 最后的 LayerNorm → 乘以 wteᵀ 再 "
        f"softmax → 下一个字的概率（{V} 个记号）。"))
    return fig


def plot_head_grid(heads, title: str | None = None, stage: str = "weights") -> Figure:
    """One stage (default: the softmax weights) of every head of every layer: a grid, layers down, heads across.

    heads: a list of layers, each a list of ats.Steps (run.heads). No values in the cells (a 30×30 grid of
    numbers is unreadable at this size): the characters label the grid's left column (queries) and bottom
    row (keys); one shared colour bar from 0 to 1.
    """
    use_cjk_font()
    if not heads or not all(isinstance(layer, (list, tuple)) and layer for layer in heads):
        raise ValueError("heads must be a list of layers, each a non-empty list of ats.Steps (run.heads)")
    n_layer, n_head = len(heads), len(heads[0])
    n = heads[0][0].stages()[stage].shape[0]
    side = min(3.4, max(2.2, 0.1 * n + 0.9))
    fig, axes = plt.subplots(n_layer, n_head, figsize=(n_head * side + 1.4, n_layer * side + 1.0),
                             layout="constrained", squeeze=False)
    for layer, row in enumerate(heads):
        for head, steps in enumerate(row):
            ax = axes[layer, head]
            df = steps.stages()[stage]
            heatmap(df, ax=ax, title=f"第 {layer} 层 · 头 {head}", annotate=False, colorbar=False, fontsize=7)
            ax.title.set_fontsize(12)
            ax.set_xlabel("键（被看的字）" if layer == n_layer - 1 else "", fontsize=9)
            ax.set_ylabel("查询（正在读的字）" if head == 0 else "", fontsize=9)
            # the characters once, on the grid's outer edges: left column (queries) and bottom row (keys)
            ax.tick_params(length=0, pad=1, labelbottom=layer == n_layer - 1, labelleft=head == 0)
    fig.colorbar(plt.cm.ScalarMappable(cmap=PROB_CMAP, norm=plt.Normalize(0, 1)), ax=axes, shrink=0.6,
                 label="注意力权重")
    if title:
        fig.suptitle(title, fontsize=15)
    alt_text.describe(fig, _head_grid_alt(heads, stage, title))
    return fig


def _head_grid_alt(heads, stage: str, title: str | None) -> alt_text.Alt:
    """Where each head's weight goes, as shares of its rows: on <s> (the first column), on the character
    before (the diagonal below the main one), on itself (the main diagonal); the short alt names the heads that
    lean most on <s> and on the character before."""
    shares = {}
    for layer, row in enumerate(heads):
        for head, steps in enumerate(row):
            w = np.nan_to_num(steps.stages()[stage].to_numpy(dtype=np.float64), neginf=0.0)
            n = len(w)
            shares[layer, head] = {"<s>": w[:, 0].mean(), "前一个字": np.diagonal(w, -1).sum() / max(n - 1, 1),
                                   "自己": np.diagonal(w).mean()}
    poem = alt_text.label_text(heads[0][0].stages()[stage].index)
    lines = [f"第 {l} 层 · 头 {h}：" + "，".join(f"看{k}平均 {v:.2f}" for k, v in share.items())
             for (l, h), share in shares.items()]
    lean = [f"最偏向{k}的是第 {best[0]} 层 · 头 {best[1]}（平均 {shares[best][k]:.2f}）"
            for k in ("<s>", "前一个字") for best in [max(shares, key=lambda key: shares[key][k])]]
    what = (f"{len(heads)} 层 × {len(heads[0])} 个头的{alt_text.STAGE_NAMES.get(stage, stage)}网格"
            + (f"（{title}）" if title else "") + f"，每幅 {n}×{n}，行是查询，列是键")
    return alt_text.Alt(f"{what}，诗「{poem}」。{'；'.join(lean)}。", "\n".join(lines))


def plot_training(log: pd.DataFrame, baselines: dict[str, float]) -> Figure:
    """Validation loss (nats per character) against steps, with horizontal lines for the baselines."""
    use_cjk_font()
    for column in ("step", "val_loss"):
        if column not in log.columns:
            raise ValueError(f"the training log needs a {column!r} column, has {list(log.columns)}")
    fig, ax = plt.subplots(figsize=(7.0, 3.8), layout="constrained")
    if "train_loss" in log.columns:
        ax.plot(log["step"], log["train_loss"], color="#8c959f", linewidth=1.0, label="训练集（每批）")
    ax.plot(log["step"], log["val_loss"], color="#0969da", linewidth=2.0, label="验证集")
    for (name, value), style in zip(baselines.items(), ("--", ":", "-.")):
        ax.axhline(value, color="#cf222e", linestyle=style, linewidth=1.2, label=f"{name}：{value:.2f}")
    ax.set_xlabel("训练步数")
    ax.set_ylabel("每个字的损失（nats）")
    ax.legend(loc="upper right", fontsize=9)
    ax.grid(alpha=0.3)
    val = log["val_loss"]
    alt_text.describe(fig, (
        f"折线图：验证集上每个字的损失（nats）随训练步数（{log['step'].iloc[0]} 到 {log['step'].iloc[-1]}）"
        f"从 {val.iloc[0]:.2f} 降到 {val.iloc[-1]:.2f}，最低 {val.min():.2f}；横线是基线："
        + "，".join(f"{name} {value:.2f}" for name, value in baselines.items()) + "。"))
    return fig


def plot_next_char(probs: pd.Series, chosen: str | None = None, k: int = 10, title: str | None = None) -> Figure:
    """The k most likely next characters as bars (the chosen one marked)."""
    use_cjk_font()
    if not isinstance(probs, pd.Series):
        raise TypeError(f"probs must be a pandas Series (one row of run.next_char), got {type(probs).__name__}")
    k = checks.positive_int(k, "k")
    top = probs.sort_values(ascending=False).head(k)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(top) + 1.2), 2.8), layout="constrained")
    colours = ["#cf222e" if str(c) == chosen else "#0969da" for c in top.index]
    ax.bar(np.arange(len(top)), top.to_numpy(), color=colours)
    ax.set_xticks(np.arange(len(top)), [str(c) for c in top.index], fontsize=11)
    for i, p in enumerate(top.to_numpy()):
        ax.text(i, p, f"{p:.2f}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("概率")
    ax.set_ylim(0, min(1.0, top.max() * 1.25))
    if title:
        ax.set_title(title, fontsize=11)
    listed = "，".join(f"「{c}」{p:.2f}" for c, p in top.items())
    alt_text.describe(fig, (f"条形图{f'「{title}」' if title else ''}：下一个字最可能的 {len(top)} 个：{listed}"
                            + (f"；选中的是「{chosen}」" if chosen is not None else "") + "。"))
    return fig


def plot_poem_attention(poem: str, row: pd.Series, query: int, title: str | None = None) -> Figure:
    """One head's attention from one position, drawn on the poem itself: a line of verse per row, each character
    shaded by the weight the query puts on it (value written under it), <s> apart, the query's character outlined
    in red, the characters after it (which a causal head cannot see) hatched.

    row: that query's row of the head's softmax weights (run.heads[l][h].weights.iloc[query]), keys <s> then
    the poem's characters; query: the row's position (0 is <s>; position k + 1 holds character k and writes k + 1).
    """
    use_cjk_font()
    if not isinstance(row, pd.Series) or len(row) != len(poem) + 1:
        raise ValueError(f"row must be a Series of len(poem) + 1 = {len(poem) + 1} weights (<s> and each character)")
    query = checks.positive_int(query, "query") if query else 0
    if query > len(poem):
        raise ValueError(f"query must be a position from 0 to {len(poem)}, got {query}")
    L = poem.index("，") if "，" in poem else len(poem)
    lines = [poem[i:i + L + 1] for i in range(0, len(poem), L + 1)]
    w = row.to_numpy(dtype=np.float64)
    fig, ax = plt.subplots(figsize=(0.62 * (L + 3) + 0.8, 0.62 * len(lines) + 1.2), layout="constrained")
    cmap = plt.get_cmap(PROB_CMAP)

    def cell(x, y, text, k):
        seen = k <= query  # causal: the query cannot see the characters after it
        ax.add_patch(plt.Rectangle((x - 0.45, y - 0.45), 0.9, 0.9, facecolor=cmap(w[k]) if seen else "#f6f8fa",
                                   hatch=None if seen else "///", edgecolor="#cf222e" if k == query else "#d0d7de",
                                   linewidth=2.4 if k == query else 0.6))
        dark = seen and w[k] > 0.55
        ax.text(x, y + 0.08, text, ha="center", va="center", fontsize=15,
                color="white" if dark else ("#24292f" if seen else "#8c959f"))
        ax.text(x, y - 0.3, f"{w[k]:.2f}" if seen else "看不到", ha="center", va="center", fontsize=7,
                color="white" if dark else "#57606a")

    cell(0, 0, "<s>", 0)
    for j, line in enumerate(lines):
        for i, ch in enumerate(line):
            cell(i + 2, -j, ch, j * (L + 1) + i + 1)
    ax.set_xlim(-0.6, L + 2.6)
    ax.set_ylim(-len(lines) + 0.4, 0.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.colorbar(plt.cm.ScalarMappable(cmap=PROB_CMAP, norm=plt.Normalize(0, 1)), ax=ax, shrink=0.8,
                 label="注意力权重")
    if title:
        ax.set_title(title, fontsize=12)
    keys = ["<s>", *poem]
    seen = sorted(range(query + 1), key=lambda k: -w[k])[:alt_text.TOP_CELLS]
    alt_text.describe(fig, (
        f"逐字着色图：诗「{poem}」每个字的颜色是一个头的注意力{f'（{title}）' if title else ''}：正在读的是第 {query} 个位置"
        f"「{keys[query]}」，权重最大的是 " + "，".join(f"「{keys[k]}」{w[k]:.2f}" for k in seen)
        + (f"；后面 {len(poem) - query} 个字它看不到" if query < len(poem) else "") + "。"))
    return fig


def plot_rhyme_rates(samples: pd.DataFrame, random_rate: float) -> Figure:
    """The rhyme rate of poems written intact, with each head removed (one bar per head) and of random pairs of line
    ends: samples is ats.knockout_poems' table. Each bar is labelled with its rate and its pairs; a head whose removal
    leaves fewer than FEW_PAIRS judged pairs gets no bar but a note (its poems lost their form)."""
    use_cjk_font()
    need = {"layer", "head", "rhyme_rate", "rhymed", "pairs", "intact_rhyme_rate", "intact_rhymed", "intact_pairs"}
    if not isinstance(samples, pd.DataFrame) or not need <= set(samples.columns):
        raise TypeError("samples must be the DataFrame ats.knockout_poems(poet) returns")
    first = samples.iloc[0]
    labels = ["不拿掉任何头"] + [f"拿掉第 {r.layer} 层 · 头 {r.head}" for r in samples.itertuples()] + ["随机两行的末字"]
    rates = [first["intact_rhyme_rate"], *samples["rhyme_rate"], random_rate]
    notes = [f"{int(first['intact_rhymed'])}/{int(first['intact_pairs'])}"] + \
            [f"{int(r.rhymed)}/{int(r.pairs)}" for r in samples.itertuples()] + [""]
    few = [False] + [r.pairs < FEW_PAIRS for r in samples.itertuples()] + [False]
    colours = ["#1a7f37"] + ["#cf222e" if r < first["intact_rhyme_rate"] / 2 else "#0969da"
                             for r in samples["rhyme_rate"]] + ["#8c959f"]
    fig, ax = plt.subplots(figsize=(7.6, 0.3 * len(rates) + 1.3), layout="constrained")
    y = np.arange(len(rates))[::-1]
    for yi, rate, colour, thin, note, r in zip(y, rates, colours, few, notes, [None, *samples.itertuples(), None]):
        if thin:  # too few poems of correct form to speak of rhyme: no bar, say why
            ax.text(0.01, yi, f"只有 {r.of_form}/{r.poems} 首格式正确、{r.pairs} 对可判：不谈押韵", va="center",
                    fontsize=8, color="#cf222e")
            continue
        ax.barh(yi, rate, color=colour)
        ax.text(rate + 0.01, yi, f"{rate:.2f}" + (f"（{note} 对押韵）" if note else ""), va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=9)
    ax.set_xlim(0, 1.25)
    ax.set_xlabel("押韵的比例（相邻偶数行末字同属一个平水韵部）")
    ax.grid(axis="x", alpha=0.3)
    bars = [f"{label} {'不谈（格式正确的诗太少）' if thin else f'{rate:.2f}'}"
            for label, rate, thin in zip(labels, rates, few)]
    alt_text.describe(fig, "横向条形图：押韵的比例（相邻偶数行末字同属一个平水韵部），" + "；".join(bars) + "。")
    return fig
