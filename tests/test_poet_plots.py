"""The poem chapter's figures: the block diagram, every head at once, the training curve, the next characters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import attn_steps as ats
from attn_steps import poet_plots as pp


@dataclass(frozen=True)
class Config:
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 96
    block_size: int = 66
    vocab_size: int = 3004


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
