"""Alt texts written from the numbers: each figure says what it shows, and the numbers it names are the data's.

If these broke, a reader using a screen reader would hear a wrong cell, a wrong value or a file hash
instead of what the sighted reader sees (issue 31).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import attn_steps as ats
from attn_steps import alt_text
from attn_steps import poet_plots as pp

from .conftest import TEXT1

TOKENS = ["我", "喜欢", "的", "水果", "是", "橙子", "和", "苹果"]


@pytest.fixture
def steps():
    X = pd.DataFrame(np.random.default_rng(0).standard_normal((8, 10)), index=TOKENS)
    return ats.self_attention(X, ats.init_weights(10, 6, seed=0, std=0.3))


def alt_of(fig) -> str:
    return alt_text.figure_alt(fig).short


def test_softmax_heatmap_names_stage_sentence_shape_and_its_largest_cells(steps):
    w = steps.weights
    alt = alt_of(ats.heatmap(w).figure)
    assert "softmax(Q·Kᵀ/√d_k)" in alt and "注意力权重" in alt
    assert f"句子「{TEXT1}」" in alt and "8 行 × 8 列" in alt and "行是查询" in alt
    values = w.to_numpy()
    order = np.argsort(values, axis=None)[::-1][:3]
    cells = [f"{w.index[i]} → {w.columns[j]} {values[i, j]:.2f}" for i, j in (np.unravel_index(k, w.shape) for k in order)]
    assert "最大的格：" + "，".join(cells) in alt  # the three largest, largest first


def test_saturated_weights_name_every_cell_at_the_top_value():
    """Softmax of large scores puts 1.00 in one cell of each row: the alt names them all, as the figure shows."""
    w = pd.DataFrame(np.eye(4)[[2, 0, 3, 1]] * 0.999 + 0.00025, index=list("我想吃鱼"), columns=list("我想吃鱼"))
    w.attrs.update(stage="weights", kind="prob")
    alt = alt_of(ats.heatmap(w).figure)
    assert "有 4 格是 1.00：我 → 吃，想 → 我，吃 → 鱼，鱼 → 想" in alt


def test_labels_that_are_not_tokens_are_listed_not_read_as_a_sentence():
    """Chapter 3's rows "text1 的苹果", "text2 的苹果" name two vectors; one row 苹果 is a word, not a sentence."""
    df = pd.DataFrame(np.ones((2, 3)), index=["text1 的苹果", "text2 的苹果"])
    assert "行 text1 的苹果、text2 的苹果，列 0–2" in alt_of(ats.heatmap(df).figure)
    row = pd.DataFrame([[0.2, 0.8]], index=pd.Index(["苹果"], name="query"), columns=pd.Index(["吃", "苹果"], name="key"))
    alt = alt_of(ats.heatmap(row).figure)
    assert "句子" not in alt and "行是查询 苹果，列是键「吃苹果」" in alt and "苹果 → 苹果 0.80，苹果 → 吃 0.20。" in alt
    one = row.copy()
    one.iloc[0] = [0.0001, 0.9999]
    assert "最大的格：苹果 → 苹果 1.00。" in alt_of(ats.heatmap(one).figure)  # a weight that shows as 0.00 is not named
    assert alt_text.label_text(["我", "想", "酸菜鱼", "[PAD]₁", "[PAD]₂"]) == "我想酸菜鱼[PAD][PAD]"


def test_signed_heatmap_names_its_largest_and_smallest_value_as_the_cells_write_them(steps):
    Q = steps.Q
    ax = ats.heatmap(Q)
    alt = alt_of(ax.figure)
    i, j = np.unravel_index(np.argmax(Q.to_numpy()), Q.shape)
    k, m = np.unravel_index(np.argmin(Q.to_numpy()), Q.shape)
    written = {t.get_text() for t in ax.texts}
    biggest, smallest = alt_text.number(Q.iloc[i, j]), alt_text.number(Q.iloc[k, m])
    assert f"最大 {biggest}（{Q.index[i]} → {Q.columns[j]}）" in alt
    assert f"最小 {smallest}（{Q.index[k]} → {Q.columns[m]}）" in alt
    assert {biggest, smallest} <= written  # the alt's numbers are the ones in the cells
    assert "查询 Q" in alt and "8 行 × 6 列" in alt and "q1–q6" in alt


def test_masked_scores_say_how_many_cells_are_blocked():
    X = pd.DataFrame(np.random.default_rng(1).standard_normal((5, 4)), index=list("我想吃酸菜"))
    causal = ats.self_attention(X, ats.init_weights(4, 3, seed=0), causal=True)
    alt = alt_of(ats.heatmap(causal.masked).figure)
    assert "10 格被遮挡" in alt and "遮挡后的分数" in alt
    top = causal.weights.to_numpy().argmax(axis=None)
    i, j = np.unravel_index(top, (5, 5))
    assert j <= i  # sanity: the largest weight is one a causal query may see...
    assert f"{'我想吃酸菜'[i]} → {'我想吃酸菜'[j]}" in alt_of(ats.heatmap(causal.weights).figure)  # ...and the alt names it


def test_a_figure_of_panels_names_each_in_order_and_the_sentence_once(steps):
    fig, axes = plt.subplots(1, 2)
    ats.heatmap(steps.weights, ax=axes[0], title="seed=0", colorbar=False)
    ats.heatmap(steps.scores, ax=axes[1], title="分数")
    alt = alt_of(fig)
    assert alt.startswith(f"2 幅图并排，都是句子「{TEXT1}」：")
    assert alt.index("seed=0") < alt.index("分数") and alt.count(TEXT1) == 1


def test_a_figure_with_an_undescribed_panel_has_no_alt(steps):
    """A figure drawn past the helpers must not get half an alt: the site build then fails (_ext/figure_alt.py)."""
    fig, axes = plt.subplots(1, 2)
    ats.heatmap(steps.weights, ax=axes[0])
    axes[1].plot([1, 2, 3])
    assert alt_text.figure_alt(fig) is None
    assert alt_text.plain_text(fig).startswith(alt_text.UNDESCRIBED)
    with pytest.raises(ValueError):
        alt_text.describe(fig, "  ")


def test_strip_of_stages_has_a_short_alt_and_one_line_per_stage(steps):
    fig = ats.plot_steps(steps)
    alt = alt_text.figure_alt(fig)
    names = list(steps.stages())
    assert f"{len(names)} 幅热力图" in alt.short and f"句子「{TEXT1}」" in alt.short
    w = steps.weights
    i, j = np.unravel_index(np.argmax(w.to_numpy()), w.shape)
    assert f"注意力权重最大的格：{w.index[i]} → {w.columns[j]} {w.iloc[i, j]:.2f}" in alt.short
    lines = alt.long.splitlines()
    assert len(lines) == len(names) and "输入嵌入 X" in lines[0] and "注意力输出" in lines[-1]
    assert "\n" not in alt.short


def test_heads_strip_names_each_heads_largest_weight():
    X = ats.as_frame(np.random.default_rng(2).standard_normal((4, 6)))
    mh = ats.multi_head_attention(X, heads=2, d_k=3, seed=0)
    alt = alt_text.figure_alt(ats.plot_heads(mh))
    for h, s in enumerate(mh.heads, 1):
        i, j = np.unravel_index(np.argmax(s.weights.to_numpy()), s.weights.shape)
        assert f"头 {h} 最大 {s.weights.iloc[i, j]:.2f}（{s.weights.index[i]} → {s.weights.columns[j]}）" in alt.short
    assert len(alt.long.splitlines()) == 2


def test_row_bars_list_the_weights_largest_first(steps):
    row = steps.weights.loc["苹果"]
    alt = alt_of(ats.plot_row(row))
    listed = "，".join(f"{k} {v:.2f}" for k, v in row.sort_values(ascending=False).items())
    assert listed in alt and "「苹果」这一行的注意力权重" in alt


def test_training_history_gives_the_first_and_last_numbers():
    history = pd.DataFrame({"loss": [0.69, 0.3, 0.12], "train_accuracy": [0.5, 0.9, 0.98],
                            "test_accuracy": [0.5, 0.8, 0.91]}, index=pd.RangeIndex(3, name="epoch"))
    alt = alt_of(ats.plot_history(history))
    assert "从 0.69 降到 0.12" in alt and "训练集从 0.50 到 0.98" in alt and "测试集（留出）从 0.50 到 0.91" in alt


def test_tile_figures_describe_their_numbers():
    X = ats.embed(TEXT1, dim=10)
    W = ats.init_weights(10, 6, seed=0)
    s = ats.self_attention(X, W)
    online = ats.online_softmax(s.scaled.iloc[0], block=3)
    alt = alt_of(ats.plot_online_softmax(online))
    assert f"分成 {len(online.steps)} 块" in alt
    assert "、".join(alt_text.number(step.m_after) for step in online.steps) in alt
    tiled = ats.tiled_attention(X, W, block_q=3, block_k=3, causal=True)
    assert f"{len(tiled.tiles)} 块计算，{len(tiled.skipped)} 块被因果遮挡整块跳过" in alt_of(ats.plot_tile_grid(tiled))
    strip = alt_text.figure_alt(ats.plot_tile_grid(tiled, upto=[1, 2]))
    assert len(strip.long.splitlines()) == 2 and "第 1 块" in strip.long
    kv = ats.kv_cache_decode(X, W)
    alt = alt_text.figure_alt(ats.plot_kv_cache(kv))
    assert f"到 {kv.cache_numbers} 个数" in alt.short and len(alt.long.split("；")) == len(kv.steps)
    cost = ats.decode_multiply_adds(64, 10, 6)
    alt = alt_of(ats.plot_decode_cost([8, 64], d_model=10, d_k=6))
    assert f"{cost['without cache']:,}" in alt and f"{cost['with cache']:,}" in alt


def test_poem_figures_describe_their_numbers():
    config = ats.PoetConfig(n_layer=2, n_head=4, n_embd=96, block_size=66, vocab_size=3004)
    assert "2 层 Transformer 块" in alt_of(pp.plot_block(config)) and "96 → 384 → 96" in alt_of(pp.plot_block(config))
    probs = pd.Series([0.1, 0.5, 0.05, 0.35], index=list("月风花雪"))
    assert "「风」0.50，「雪」0.35，「月」0.10；选中的是「雪」" in alt_of(pp.plot_next_char(probs, chosen="雪", k=3))
    poem = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    row = pd.Series(np.zeros(len(poem) + 1), index=["<s>", *poem])
    row.iloc[11], row.iloc[0] = 0.9, 0.1
    q = len(poem) - 2
    alt = alt_of(pp.plot_poem_attention(poem, row, q))
    assert f"第 {q} 个位置「{poem[q - 1]}」" in alt and "「霜」0.90，「<s>」0.10" in alt and "后面 2 个字它看不到" in alt


def test_head_grid_alt_names_the_heads_leaning_on_the_previous_character():
    X = pd.DataFrame(np.random.default_rng(0).standard_normal((5, 4)), index=list("床前明月光"))
    heads = [[ats.self_attention(X, ats.init_weights(4, 2, seed=10 * layer + head), causal=True)
              for head in range(2)] for layer in range(2)]
    alt = alt_text.figure_alt(pp.plot_head_grid(heads, title="训练后"))
    share = {(l, h): np.diagonal(s.weights.to_numpy(), -1).mean() for l, row in enumerate(heads) for h, s in enumerate(row)}
    best = max(share, key=share.get)
    assert f"最偏向前一个字的是第 {best[0]} 层 · 头 {best[1]}（平均 {share[best]:.2f}）" in alt.short
    assert "诗「床前明月光」" in alt.short and len(alt.long.splitlines()) == 4


def test_a_notebook_keeps_the_alt_as_the_figures_text_even_after_the_inline_backend_is_set_up(steps):
    """The chapters set `%config InlineBackend.figure_format` after importing attn_steps; IPython then drops every
    per-mime printer of Figure. The alt must still be the figure's text/plain, which _ext/figure_alt.py reads."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats

    shell = InteractiveShell.instance()
    try:
        alt_text.show_in_notebooks()
        select_figure_formats(shell, {"retina"})
        fig = ats.heatmap(steps.weights).figure
        data, _ = shell.display_formatter.format(fig)
        assert data["text/plain"] == alt_of(fig) and "image/png" in data
        strip = ats.plot_steps(steps)
        text = shell.display_formatter.format(strip)[0]["text/plain"]
        assert text.splitlines()[0] == alt_text.figure_alt(strip).short and len(text.splitlines()) > 1
        bare, _ = plt.subplots()
        assert shell.display_formatter.format(bare)[0]["text/plain"].startswith(alt_text.UNDESCRIBED)
    finally:
        InteractiveShell.clear_instance()
