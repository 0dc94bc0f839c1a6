"""Figures: labels from the DataFrame, values in small matrices, the right colour scale."""

import io

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import attn_steps as ats

TOKENS = ["我", "喜欢", "的", "水果", "是", "橙子", "和", "苹果"]


@pytest.fixture
def steps():
    X = pd.DataFrame(np.random.default_rng(0).standard_normal((8, 10)), index=TOKENS)
    return ats.self_attention(X, ats.init_weights(10, 6, seed=0))


def cell_texts(ax):
    return [t.get_text() for t in ax.texts]


def test_heatmap_labels_come_from_the_dataframe(steps):
    """The reader must see which cell is 我→苹果."""
    ax = ats.heatmap(steps.weights)
    assert [t.get_text() for t in ax.get_yticklabels()] == TOKENS
    assert [t.get_text() for t in ax.get_xticklabels()] == TOKENS
    assert ax.get_title() == "softmax(Q·Kᵀ/√d_k)  (8×8)"


def test_heatmap_writes_values_in_small_matrices(steps):
    ax = ats.heatmap(steps.weights)
    texts = cell_texts(ax)
    assert len(texts) == 64
    assert texts[0] == f"{steps.weights.iloc[0, 0]:.2f}"


def test_values_use_a_true_minus_and_readable_colours(steps):
    ax = ats.heatmap(steps.Q)
    values = steps.Q.to_numpy().ravel()
    negative = [t for t, v in zip(ax.texts, values) if v < 0]
    assert negative and all(t.get_text().startswith("−") for t in negative)
    # The most extreme cells are the darkest: their text is white.
    darkest = int(np.argmax(np.abs(values)))
    assert ax.texts[darkest].get_color() == "white"


def test_signed_stages_get_a_diverging_scale_centred_on_zero(steps):
    ax = ats.heatmap(steps.scores)
    im = ax.images[0]
    assert im.get_cmap().name == "RdBu_r"
    assert im.norm.vmin == -im.norm.vmax == -np.abs(steps.scores.to_numpy()).max()


def test_softmax_weights_get_a_sequential_zero_to_one_scale(steps):
    im = ats.heatmap(steps.weights).images[0]
    assert im.get_cmap().name == "Blues" and (im.norm.vmin, im.norm.vmax) == (0.0, 1.0)


def test_kind_is_guessed_for_plain_frames_and_can_be_forced():
    probs = pd.DataFrame([[0.2, 0.8], [0.5, 0.5]])
    assert ats.heatmap(probs).images[0].get_cmap().name == "Blues"
    assert ats.heatmap(probs, kind="signed").images[0].get_cmap().name == "RdBu_r"
    with pytest.raises(ValueError, match="kind"):
        ats.heatmap(probs, kind="rainbow")


def test_integers_are_written_as_integers():
    ax = ats.heatmap(pd.DataFrame([[2, 4, 4], [4, 16, 12]]))
    assert cell_texts(ax) == ["2", "4", "4", "4", "16", "12"]


def test_heatmap_draws_into_a_given_axes_and_returns_it(steps):
    fig, (a, b) = plt.subplots(1, 2)
    assert ats.heatmap(steps.K, ax=b) is b
    assert not a.images


def test_large_matrices_skip_values_and_thin_labels_but_still_render():
    """A 300-token text must still render (in seconds), as a picture rather than a wall of digits."""
    n = 300
    df = pd.DataFrame(np.random.default_rng(1).random((n, n)), index=[f"t{i}" for i in range(n)], columns=[f"t{i}" for i in range(n)])
    ax = ats.heatmap(df)
    assert cell_texts(ax) == []
    assert 0 < len(ax.get_xticklabels()) <= 40
    ax.figure.savefig(io.BytesIO(), format="png")


def test_heatmap_refuses_what_it_cannot_draw():
    with pytest.raises(TypeError, match="DataFrame"):
        ats.heatmap(np.ones((2, 2)))
    with pytest.raises(ValueError, match="empty"):
        ats.heatmap(pd.DataFrame())
    with pytest.raises(ValueError, match="NaN or inf"):
        ats.heatmap(pd.DataFrame([[np.nan, 1.0]]))


def test_plot_steps_shows_every_stage_in_reading_order(steps):
    fig = ats.plot_steps(steps)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == [
        "X  (8×10)",
        "Q = X·Wq  (8×6)",
        "K = X·Wk  (8×6)",
        "V = X·Wv  (8×6)",
        "Q·Kᵀ  (8×8)",
        "Q·Kᵀ/√d_k  (8×8)",
        "softmax(Q·Kᵀ/√d_k)  (8×8)",
        "softmax(Q·Kᵀ/√d_k)·V  (8×6)",
    ]
    assert "softmax(Q·Kᵀ/√d_k)·V" in fig.get_suptitle()
    fig.savefig(io.BytesIO(), format="png")


def test_plot_heads_draws_one_panel_per_head():
    X = np.random.default_rng(0).standard_normal((5, 10))
    fig = ats.plot_heads(ats.multi_head_attention(X, heads=3, d_k=2))
    assert [ax.get_title().split(":")[0] for ax in fig.axes if ax.get_title()] == ["head 1", "head 2", "head 3"]
    assert fig.get_figwidth() <= 10, "wider figures shrink on a book page until their values are unreadable"


def test_axes_made_before_any_helper_still_get_chinese_glyphs():
    """A reader's own plt.subplots() followed by ats.heatmap(..., ax=ax) must not draw boxes."""
    import warnings

    fig, ax = plt.subplots()
    ats.heatmap(pd.DataFrame([[0.2, 0.8]], index=["苹果"], columns=["我", "华为"]), ax=ax)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_single_characters_stay_upright_and_long_labels_turn():
    chars = pd.DataFrame(np.zeros((1, 14)), columns=list("相比苹果我更加喜欢国产的华为"))
    assert ats.heatmap(chars).get_xticklabels()[0].get_rotation() == 0
    long = pd.DataFrame(np.zeros((1, 3)), columns=["h1.z1", "h1.z2", "h2.z1"])
    assert ats.heatmap(long).get_xticklabels()[0].get_rotation() == 90


def test_weights_always_show_two_decimals():
    ax = ats.heatmap(pd.DataFrame([[0.0, 1.0], [1.0, 0.0]]), kind="prob")
    assert cell_texts(ax) == ["0.00", "1.00", "1.00", "0.00"]


# ---- the masked stage (chapter 7) ----


def masked_steps() -> ats.Steps:
    """A causal pass over four tokens: 6 of the 16 query-key pairs are blocked."""
    X = pd.DataFrame(np.random.default_rng(7).standard_normal((4, 3)), index=list("我想吃鱼"))
    return ats.self_attention(X, ats.init_weights(3, 2, seed=0), causal=True)


def test_blocked_cells_are_grey_and_hatched_without_values():
    """On the page, −∞ must read as 'blocked', not as the darkest blue, and carry no number."""
    s = masked_steps()
    ax = ats.heatmap(s.masked)
    assert len(ax.texts) == 10, "4×4 cells minus the 6 blocked ones"
    assert not any("inf" in t.get_text() or "∞" in t.get_text() for t in ax.texts)
    (shade,) = ax.collections
    assert len(shade.get_paths()) == 6 and shade.get_hatch() == "////"
    lo, hi = ax.images[0].norm.vmin, ax.images[0].norm.vmax
    finite = s.masked.to_numpy()[np.isfinite(s.masked.to_numpy())]
    assert hi == -lo == np.abs(finite).max(), "the colour scale comes from the scores that are not blocked"


def test_plot_steps_draws_the_masked_stage():
    s = masked_steps()
    fig = ats.plot_steps(s)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert titles[6:] == ["Q·Kᵀ/√d_k + M  (4×4)", "softmax(Q·Kᵀ/√d_k + M)  (4×4)", "softmax(Q·Kᵀ/√d_k + M)·V  (4×2)"]
    assert "+ M" in fig.get_suptitle()
    fig.savefig(io.BytesIO(), format="png")


def test_plot_steps_wraps_into_rows_that_fit_a_book_page(steps):
    """If this broke, chapter 2's panorama would be shrunk to the text column until its values were ~5 px."""
    fig = ats.plot_steps(steps)
    assert fig.get_figwidth() <= ats.plotting.PAGE_WIDTH
    small = ats.plot_steps(ats.self_attention(np.eye(3, 4), ats.init_weights(4, 3, seed=0)))
    assert small.get_figwidth() <= ats.plotting.PAGE_WIDTH
    rows = {round(ax.get_position().y0, 3) for ax in small.axes if ax.get_visible() and ax.get_title()}
    assert len(rows) < 8, "small stages share rows"
    wide = ats.plot_steps(steps, ncols=4)
    assert wide.get_figwidth() > ats.plotting.PAGE_WIDTH, "an explicit ncols is kept"


def test_plot_steps_of_many_large_stages_is_not_too_tall_for_the_site():
    """If this broke, chapter 4's panorama (9 stages, X 96 wide) would be over 8,000 px tall at 2×."""
    X = np.random.default_rng(0).standard_normal((8, 96))
    s = ats.self_attention(X, ats.init_weights(96, 8, seed=0), causal=True)
    fig = ats.plot_steps(s)
    assert fig.get_figheight() <= ats.plotting.MAX_HEIGHT + 1


# ---- legible at the size the page shows a figure (issue 20) ----


def wide_steps() -> ats.Steps:
    """Chapter 4's shape: 8 words × 192 features, d_k = 16, d_v = 4, 苹果 masked from its own row."""
    names = [str(i) for i in range(96)] + [f"字{i}" for i in range(96)]
    X = pd.DataFrame(np.random.default_rng(0).standard_normal((8, 192)), index=TOKENS, columns=names)
    rng = np.random.default_rng(1)
    W = ats.Weights(*(rng.standard_normal((192, d)) * 0.1 for d in (16, 16, 4)))
    mask = np.ones((8, 8), dtype=bool)
    mask[7, 7] = False
    return ats.self_attention(X, W, mask=mask)


def side_by_side(steps):
    """Two weight matrices in one 10-inch figure, as chapter 2 compares weight scales."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), layout="constrained")
    ats.heatmap(steps.weights, ax=axes[0], colorbar=False)
    ats.heatmap(ats.softmax(steps.scaled / 10), ax=axes[1])
    return fig


def overlaps(labels) -> bool:
    boxes = [t.get_window_extent() for t in labels if t.get_visible() and t.get_text()]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


@pytest.mark.parametrize("make", [lambda s: ats.plot_steps(s), lambda s: ats.plot_steps(wide_steps()), side_by_side,
                                  lambda s: ats.plot_heads(ats.multi_head_attention(s.X, heads=4, d_k=3))],
                         ids=["panorama", "chapter-4-panorama", "side-by-side", "heads"])
def test_values_show_at_least_9_px_on_the_page_or_the_colour_bar_reads_them(steps, make):
    """If this broke, a figure's numbers would be a few pixels tall on a 1280 px screen (chapter 4's panorama once
    wrote 4 px values into an 8 × 192 panel), or its tick labels would run into each other."""
    fig = make(steps)
    fig.canvas.draw()
    assert fig.get_figwidth() <= ats.plotting.PAGE_WIDTH + 1e-9, "wider figures shrink on the page"
    colour_bars = [ax for ax in fig.axes if hasattr(ax, "_colorbar")]
    panels = [ax for ax in fig.axes if ax.images and ax.get_visible()]
    assert panels and colour_bars
    for ax in panels:
        sizes = {ats.plotting.shown_px(fig, t.get_fontsize()) for t in ax.texts}
        assert not sizes or min(sizes) >= ats.plotting.MIN_VALUE_PX, (ax.get_title(), sizes)
        assert not overlaps(ax.get_xticklabels()) and not overlaps(ax.get_yticklabels()), ax.get_title()
    if make is side_by_side:
        assert all(ax.texts for ax in panels), "two 8×8 weight matrices in 10 inches have room for their values"
    plt.close(fig)


def test_shown_px_is_the_height_on_a_1280_px_page():
    """If this broke, the legibility rule above would measure text at a size the page does not show."""
    narrow, wide = plt.figure(figsize=(5, 3)), plt.figure(figsize=(2 * ats.plotting.COLUMN_PX / 100, 3))
    assert ats.plotting.shown_px(narrow, 72) == 100  # a 1-inch letter at 100 CSS px per inch
    assert ats.plotting.shown_px(wide, 72) == 50  # shrunk to half to fit the column
    plt.close("all")
