"""The poem chapter's figures: the block diagram, every head at once, the training curve, the next characters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import attn_steps as ats
from attn_steps import poet_plots as pp


def Config(n_layer=4, n_embd=96):
    return ats.PoetConfig(n_layer=n_layer, n_head=4, n_embd=n_embd, block_size=66, vocab_size=3004)


def _texts(fig) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts) + " " + " ".join(
        ax.get_title() for ax in fig.axes)


def test_block_diagram_writes_the_models_sizes():
    """If this broke, the chapter's picture of a Transformer block would show sizes of some other model."""
    text = _texts(pp.plot_block(Config()))
    for expected in ("× 4 层", "4 个头 × 每头 24 维", "96 → 384", "3004", "66"):
        assert expected in text, expected
    assert "× 2 层" in _texts(pp.plot_block(Config(n_layer=2, n_embd=64)))


def _grid(n_layer=2, n_head=3, n=5):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((n, 4)), index=[f"字{i}" for i in range(n)])
    return [[ats.self_attention(X, ats.init_weights(4, 2, seed=10 * layer + head), causal=True)
             for head in range(n_head)] for layer in range(n_layer)]


def test_head_grid_has_one_panel_per_head_and_layer():
    """If this broke, a head would be missing from the chapter's grid, or drawn twice."""
    fig = pp.plot_head_grid(_grid(), title="t")
    panels = [ax for ax in fig.axes if ax.get_title().startswith("第")]
    assert sorted(ax.get_title() for ax in panels) == sorted(
        f"第 {layer} 层 · 头 {head}" for layer in range(2) for head in range(3))
    assert all(not ax.texts for ax in panels)  # no numbers at this size


@pytest.mark.parametrize("bad", [[], [[]], "heads"])
def test_head_grid_refuses_what_is_not_run_heads(bad):
    with pytest.raises(ValueError, match="run.heads"):
        pp.plot_head_grid(bad)


def test_training_curve_shows_every_baseline():
    """If this broke, the curve would lose the unigram/bigram lines the chapter compares against."""
    log = pd.DataFrame({"step": [0, 10, 20], "train_loss": [8.0, 6.0, 5.0], "val_loss": [8.0, 6.1, 5.2]})
    fig = pp.plot_training(log, {"一元": 6.4, "二元": 5.45})
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert any("6.40" in label for label in labels) and any("5.45" in label for label in labels)
    with pytest.raises(ValueError, match="val_loss"):
        pp.plot_training(log.drop(columns="val_loss"), {})


def test_next_char_bars_are_the_top_k_in_order():
    """If this broke, the bars would not be the most likely characters, or the chosen one unmarked."""
    probs = pd.Series([0.1, 0.5, 0.05, 0.35], index=list("月风花雪"))
    fig = pp.plot_next_char(probs, chosen="雪", k=3)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["风", "雪", "月"]
    colours = [tuple(round(c, 3) for c in bar.get_facecolor()[:3]) for bar in ax.patches]
    assert colours[1] != colours[0] and colours[0] == colours[2]
    with pytest.raises(TypeError, match="Series"):
        pp.plot_next_char([0.5, 0.5])


def test_head_grid_labels_the_characters_on_its_outer_edges():
    """If this broke, a reader could not tell which row of a head's grid is which character (issue 27: no labels)."""
    fig = pp.plot_head_grid(_grid(n_layer=2, n_head=2), title="t")
    panels = [ax for ax in fig.axes if ax.get_title().startswith("第")]
    shown = {ax.get_title(): ([t.get_text() for t in ax.get_yticklabels() if t.get_visible() and ax.yaxis.get_tick_params()["labelleft"]],
                              [t.get_text() for t in ax.get_xticklabels() if ax.xaxis.get_tick_params()["labelbottom"]])
             for ax in panels}
    assert "字0" in shown["第 0 层 · 头 0"][0] and not shown["第 0 层 · 头 1"][0]  # queries on the left column only
    assert "字0" in shown["第 1 层 · 头 1"][1] and not shown["第 0 层 · 头 1"][1]  # keys on the bottom row only
    assert all(ax.title.get_fontsize() >= 11 for ax in panels)


POEM = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"


def test_poem_attention_writes_each_weight_under_its_character():
    """If this broke, the chapter's rhyme figure would shade the wrong characters or show weights a query cannot have."""
    labels = ["<s>"] + [f"{c}{i}" for i, c in enumerate(POEM)]
    row = pd.Series(np.zeros(len(POEM) + 1), index=labels)
    row.iloc[11] = 0.9  # 霜
    row.iloc[0] = 0.1
    q = len(POEM) - 2
    text = _texts(pp.plot_poem_attention(POEM, row, q, "t"))
    assert "霜" in text and "0.90" in text and "0.10" in text
    assert text.count("看不到") == len(POEM) - q  # the characters after the query, hatched
    with pytest.raises(ValueError, match="len\\(poem\\) \\+ 1"):
        pp.plot_poem_attention(POEM, row.iloc[:-1], q)
    with pytest.raises(ValueError, match="from 0 to"):
        pp.plot_poem_attention(POEM, row, 99)


def test_rhyme_rates_bar_every_head_and_say_when_too_few_pairs():
    """If this broke, the bars of rhyme rates would lose a head, or show a rate over two pairs as if it meant something."""
    rows = [dict(layer=l, head=h, poems=100, of_form=2 if (l, h) == (0, 0) else 99, pairs=2 if (l, h) == (0, 0) else 120,
                 rhymed=1 if (l, h) == (0, 0) else (12 if (l, h) == (1, 1) else 110),
                 rhyme_rate=0.5 if (l, h) == (0, 0) else (0.1 if (l, h) == (1, 1) else 110 / 120),
                 intact_rhyme_rate=0.92, intact_rhymed=110, intact_pairs=119) for l in range(2) for h in range(2)]
    fig = pp.plot_rhyme_rates(pd.DataFrame(rows), 0.05)
    text = _texts(fig)
    assert "不谈押韵" in text and "0.10（12/120 对押韵）" in text and "0.92（110/119 对押韵）" in text and "0.05" in text
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[0] == "不拿掉任何头" and labels[-1] == "随机两行的末字" and len(labels) == 6
    with pytest.raises(TypeError, match="knockout_poems"):
        pp.plot_rhyme_rates(pd.DataFrame({"layer": [0]}), 0.05)
