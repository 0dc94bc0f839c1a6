"""attn_steps.tiles: online softmax, tiled attention and the KV cache give the direct result's numbers.

Checked against the book's own self_attention and against torch's
scaled_dot_product_attention (float64), for every block size 1..n.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

import attn_steps as ats

from .conftest import TEXT1

TOL = 1e-12


@pytest.fixture(scope="module")
def X():
    return ats.embed(TEXT1, dim=10)


@pytest.fixture(scope="module")
def W():
    return ats.init_weights(10, 6, seed=0)


def random_case(n, d_model=5, d_k=4, d_v=3, seed=1):
    rng = np.random.default_rng(seed)
    return (ats.as_frame(rng.standard_normal((n, d_model))),
            ats.Weights(rng.standard_normal((d_model, d_k)), rng.standard_normal((d_model, d_k)),
                        rng.standard_normal((d_model, d_v))))


def torch_attention(X, W, causal):
    x = torch.tensor(X.to_numpy(), dtype=torch.float64)
    q, k, v = (x @ torch.tensor(M, dtype=torch.float64) for M in (W.Wq, W.Wk, W.Wv))
    return F.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=causal)[0].numpy()


# ---- online softmax ---------------------------------------------------------


@pytest.mark.parametrize("block", range(1, 10))
def test_online_softmax_equals_softmax_for_every_block_size(block):
    """If this broke, the chapter's block-by-block row would not end at the ordinary softmax."""
    row = pd.Series(np.random.default_rng(block).normal(0, 3, 9), index=list("我喜欢的水果是橙子"))
    out = ats.online_softmax(row, block)
    want = ats.softmax(row.to_frame().T).iloc[0]
    np.testing.assert_allclose(out.weights.to_numpy(), want.to_numpy(), rtol=0, atol=TOL)
    assert list(out.weights.index) == list(row.index)
    assert len(out.steps) == math.ceil(9 / block)
    assert out.m == row.max() and math.isclose(out.l, np.exp(row - row.max()).sum(), rel_tol=1e-14)


def test_a_row_whose_maximum_grows_at_every_block_is_rescaled_every_time():
    """If this broke, the sum kept under an old maximum would not be shrunk when a larger score arrives."""
    row = np.array([0.0, 1.0, 3.0, 2.5, 7.0, 6.0, 11.0])  # blocks of 2: maxima 1, 3, 7, 11
    out = ats.online_softmax(row, 2)
    assert [s.m_after for s in out.steps] == [1.0, 3.0, 7.0, 11.0]
    assert all(s.m_after > s.m_before for s in out.steps)
    np.testing.assert_allclose([s.factor for s in out.steps], [0.0, math.exp(-2), math.exp(-4), math.exp(-4)], rtol=1e-15)
    # l after block 2 by hand: (e^{0-1} + e^{1-1}) e^{1-3} + e^{3-3} + e^{2.5-3}
    assert math.isclose(out.steps[1].l_after, (math.exp(-1) + 1) * math.exp(-2) + 1 + math.exp(-0.5), rel_tol=1e-15)
    np.testing.assert_allclose(out.weights, np.exp(row - 11) / np.exp(row - 11).sum(), rtol=0, atol=TOL)


def test_scores_that_overflow_a_naive_exp_stay_finite_online():
    """If this broke, scores like those of a saturated head would give NaN, as the source blog's loop does."""
    row = np.array([1000.0, 1001.0, 999.0, 1002.0, 5.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(row) / np.exp(row).sum()
    assert np.isnan(naive[:4]).all()  # inf / inf; the small score gives 5 / inf = 0, wrongly
    out = ats.online_softmax(row, 2)
    assert np.isfinite(out.weights).all() and math.isclose(out.weights.sum(), 1.0, rel_tol=1e-15)
    np.testing.assert_allclose(out.weights, torch.softmax(torch.tensor(row), 0).numpy(), rtol=0, atol=TOL)


def test_blocked_keys_get_weight_zero_and_a_block_of_them_changes_nothing():
    row = np.array([-np.inf, -np.inf, 0.5, -np.inf, 2.0])
    out = ats.online_softmax(row, 2)
    assert out.steps[0].m_after == -np.inf and out.steps[0].l_after == 0.0
    np.testing.assert_allclose(out.weights, [0, 0, 1 / (1 + math.e ** 1.5), 0, 1 / (1 + math.e ** -1.5)], atol=TOL)


@pytest.mark.parametrize("row, block, error, match", [
    ([1.0, 2.0], 0, ValueError, "between 1 and 2"),
    ([1.0, 2.0], 3, ValueError, "between 1 and 2"),
    ([1.0, 2.0], 1.5, TypeError, "whole number"),
    ([1.0, 2.0], True, TypeError, "whole number"),
    ([], 1, ValueError, "non-empty"),
    ([[1.0, 2.0], [3.0, 4.0]], 1, ValueError, "one non-empty row"),
    ([1.0, np.nan], 1, ValueError, "NaN"),
    ([-np.inf, -np.inf], 1, ValueError, "all keys blocked"),
    (["a", "b"], 1, TypeError, "numbers"),
])
def test_online_softmax_refuses_bad_input_with_a_message(row, block, error, match):
    with pytest.raises(error, match=match):
        ats.online_softmax(row, block)


# ---- tiles ------------------------------------------------------------------


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_tiled_attention_equals_self_attention_and_torch_for_every_block_size(X, W, causal):
    """If this broke, the chapter's tiles would not reproduce the book's own attention (or torch's)."""
    n = len(X)
    ref = ats.self_attention(X, W, causal=causal)
    want_torch = torch_attention(X, W, causal)
    for bq in range(1, n + 1):
        for bk in range(1, n + 1):
            t = ats.tiled_attention(X, W, block_q=bq, block_k=bk, causal=causal)
            got = t.steps.output.to_numpy()
            np.testing.assert_allclose(got, ref.output.to_numpy(), rtol=0, atol=TOL, err_msg=f"{bq}×{bk}")
            np.testing.assert_allclose(got, want_torch, rtol=0, atol=TOL, err_msg=f"{bq}×{bk}")
            np.testing.assert_allclose(t.steps.weights.to_numpy(), ref.weights.to_numpy(), rtol=0, atol=TOL)
            assert len(t.tiles) + len(t.skipped) == math.ceil(n / bq) * math.ceil(n / bk)


@pytest.mark.parametrize("n, bq, bk", [(7, 3, 2), (10, 4, 3), (13, 5, 13), (1, 1, 1)])
def test_non_dividing_blocks_on_other_shapes_match_torch(n, bq, bk):
    X, W = random_case(n)
    for causal in (False, True):
        t = ats.tiled_attention(X, W, bq, bk, causal=causal)
        np.testing.assert_allclose(t.steps.output.to_numpy(), torch_attention(X, W, causal), rtol=0, atol=TOL)
        assert t.steps.output.shape == (n, 3)


def test_causal_tiles_skip_exactly_the_blocks_above_the_diagonal(X, W):
    """If this broke, the chapter would count skipped tiles wrongly, or compute tiles that add nothing."""
    t = ats.tiled_attention(X, W, 3, 3, causal=True)
    assert t.skipped == ((0, 1), (0, 2), (1, 2)) and len(t.tiles) == 6
    assert ats.tiled_attention(X, W, 3, 3).skipped == ()
    # every skipped tile's keys come after all of its queries
    for i, j in ats.tiled_attention(X, W, 2, 3, causal=True).skipped:
        assert 3 * j > 2 * i + 1
    # multiply-adds: (d_k + d_v) per score cell of each tile computed
    assert ats.tiled_attention(X, W, 3, 3).multiply_adds == 8 * 8 * 12
    assert t.multiply_adds == (9 + 9 + 9 + 6 + 6 + 4) * 12  # rows 1–3: one tile; 4–6: two; 7–8: three


def test_each_tile_records_its_rows_state_and_the_last_state_is_the_result(X, W):
    t = ats.tiled_attention(X, W, 3, 2)
    assert [(x.q_block, x.k_block) for x in t.tiles[:5]] == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0)]
    for x in t.tiles:
        np.testing.assert_allclose(x.l_after, x.factor * x.l_before + np.exp(x.S - x.m_after[:, None]).sum(axis=1))
        assert (x.m_after >= x.m_before).all() and (x.factor <= 1).all()
    final = t.state_after(len(t.tiles))
    np.testing.assert_array_equal(final["m"], t.m)
    np.testing.assert_allclose(final["O"] / final["l"][:, None], t.steps.output.to_numpy(), rtol=0, atol=0)
    start = t.state_after(0)
    assert np.isneginf(start["m"]).all() and (start["l"] == 0).all() and (start["O"] == 0).all()
    np.testing.assert_allclose(t.m, ats.self_attention(X, W).scaled.to_numpy().max(axis=1), rtol=0, atol=TOL)


def test_tiled_stages_are_labelled_like_the_books(X, W):
    s = ats.tiled_attention(X, W, 3, 3, causal=True).steps
    assert list(s.output.index) == list(X.index) and list(s.weights.columns) == list(X.index)
    assert np.isneginf(s.masked.to_numpy()[0, 3:]).all()
    ats.plot_steps(s)  # every stage draws (skipped tiles as blocked cells)


def test_tiles_do_not_overflow_on_large_scores():
    X, W = random_case(6)
    W = ats.Weights(W.Wq * 40, W.Wk * 40, W.Wv)  # scores in the thousands
    t = ats.tiled_attention(X, W, 2, 4)
    assert np.abs(t.steps.scaled.to_numpy()).max() > 800
    np.testing.assert_allclose(t.steps.output.to_numpy(), torch_attention(X, W, False), rtol=0, atol=1e-10)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"block_q": 0}, ValueError, "block_q must be between 1 and 8"),
    ({"block_k": 9}, ValueError, "block_k must be between 1 and 8"),
    ({"block_q": 2.0}, TypeError, "block_q must be a whole number"),
    ({"causal": "yes"}, TypeError, "causal must be True or False"),
])
def test_tiled_attention_refuses_bad_settings_with_a_message(X, W, kwargs, error, match):
    with pytest.raises(error, match=match):
        ats.tiled_attention(X, W, **kwargs)


def test_tiled_attention_refuses_weights_that_do_not_fit(X):
    with pytest.raises(ValueError, match="10 features per token"):
        ats.tiled_attention(X, ats.init_weights(4, 3))
    with pytest.raises(TypeError, match="ats.Weights"):
        ats.tiled_attention(X, np.eye(10))


# ---- KV cache ---------------------------------------------------------------


def test_kv_cache_rows_equal_causal_attention_and_torch(X, W):
    """If this broke, decoding token by token would not give what the decoder computes all at once."""
    kv = ats.kv_cache_decode(X, W)
    causal = ats.self_attention(X, W, causal=True)
    np.testing.assert_allclose(kv.output.to_numpy(), causal.output.to_numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(kv.output.to_numpy(), torch_attention(X, W, True), rtol=0, atol=TOL)
    for s in kv.steps:
        assert s.K.shape == (s.t + 1, 6) and s.V.shape == (s.t + 1, 6)
        np.testing.assert_allclose(s.weights, causal.weights.to_numpy()[s.t, : s.t + 1], rtol=0, atol=TOL)
    # the cache only grows: each step's K is the previous one plus one row
    for a, b in zip(kv.steps, kv.steps[1:]):
        np.testing.assert_array_equal(b.K[:-1], a.K)
    assert kv.cache_numbers == 8 * 12 and kv.cache_bytes == 768


def test_multiply_add_counts_by_hand():
    """n = 2, d_model = 3, d_k = d_v = 1: projections 3·3 = 9 a token."""
    counts = ats.decode_multiply_adds(2, 3, 1)
    # without: t=1: 9 + 1·2; t=2: 18 + 4·2. with: t=1: 9 + 2; t=2: 9 + 4.
    assert counts == {"without cache": 11 + 26, "with cache": 11 + 13}
    X, W = random_case(9)
    assert ats.kv_cache_decode(X, W).multiply_adds == ats.decode_multiply_adds(9, 5, 4, 3)["with cache"]
    big = ats.decode_multiply_adds(1000, 64, 64)
    assert big["without cache"] / big["with cache"] > 100  # n³ against n²
    with pytest.raises(ValueError, match="n must be a whole number"):
        ats.decode_multiply_adds(0, 3, 1)


def test_kv_cache_refuses_weights_that_do_not_fit(X):
    with pytest.raises(ValueError, match="10 features per token"):
        ats.kv_cache_decode(X, ats.init_weights(4, 3))


# ---- the widget -------------------------------------------------------------


def test_the_widget_is_one_self_contained_block_of_html(X, W):
    w = ats.tile_widget(X, W, 3, 2, causal=True)
    assert "data-attn-tiles" in w.html and "AttnTiles" in w.html and "http" not in w.html
    assert w.data["tokens"] == list(X.index) and w.data["block_k"] == 2 and w.data["causal"] is True
    np.testing.assert_array_equal(np.array(w.data["Q"]), X.to_numpy() @ W.Wq)
    assert "Error:" not in w.html and "Warning:" not in w.html  # the site check would read them as failures
    np.testing.assert_allclose(np.array(w.data["plain"]), ats.self_attention(X, W, causal=True).output.to_numpy(), rtol=0, atol=0)
    assert [cls for cls, _ in w.data["legend"]] == ["at-done", "at-now", "at-wait", "at-skip"]  # roles; colours are the CSS's
    with pytest.raises(ValueError, match="block_q must be between 1 and 8"):
        ats.tile_widget(X, W, block_q=9)
    with pytest.raises(ValueError, match="at most 24 tokens"):
        ats.tile_widget(np.zeros((25, 10)), W)


def test_chapter_8s_widget_shows_rescale_factors_a_reader_can_see(X, W):
    """If this broke, the widget's every rescale would read 0.000 or 1.000, hiding the online softmax it exists to show.

    The widget's own data (Q, K, V) run through tiles.py, on chapter 8 §5's inputs (layer-normalised X,
    weights of std 1/√10); the chapter's hidden cell asserts the same for the trained model's vectors.
    """
    w = ats.tile_widget(ats.layer_norm(X), ats.init_weights(10, 6, seed=0, std=1 / math.sqrt(10)), 3, 3, causal=True)
    Q, K, V = (np.array(w.data[name]) for name in "QKV")
    run = ats.tiled_attention(np.eye(len(Q)), ats.Weights(Q, K, V), 3, 3, causal=True)  # X = I: projects to Q, K, V
    assert any(0.05 <= c <= 0.95 for c in run.rescales()), run.rescales()
    assert all(0 < c <= 1 for c in run.rescales())
