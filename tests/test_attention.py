"""The math: each stage, their composition, and checks against PyTorch."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

import attn_steps as ats

# The well-known hand-worked example (Raimi Karim, "Illustrated: Self-Attention", 2019).
TOY_X = np.array([[1, 0, 1, 0], [0, 2, 0, 2], [1, 1, 1, 1]])
W_KEY = [[0, 0, 1], [1, 1, 0], [0, 1, 0], [1, 1, 0]]
W_QUERY = [[1, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 1]]
W_VALUE = [[0, 2, 0], [0, 3, 0], [1, 0, 3], [1, 1, 0]]


@pytest.fixture
def toy():
    return ats.self_attention(TOY_X, ats.Weights(W_QUERY, W_KEY, W_VALUE), scale=False)


def test_toy_example_reproduces_published_projections_and_scores(toy):
    """A reader checking chapter 1 against the article would find different Q/K/V or scores."""
    np.testing.assert_array_equal(toy.K.to_numpy(), [[0, 1, 1], [4, 4, 0], [2, 3, 1]])
    np.testing.assert_array_equal(toy.Q.to_numpy(), [[1, 0, 2], [2, 2, 2], [2, 1, 3]])
    np.testing.assert_array_equal(toy.V.to_numpy(), [[1, 2, 3], [2, 8, 0], [2, 6, 3]])
    np.testing.assert_array_equal(toy.scores.to_numpy(), [[2, 4, 4], [4, 16, 12], [4, 12, 10]])
    assert toy.scaled.equals(toy.scores), "with scale=False the scaled stage must equal the scores"
    assert list(toy.X.index) == ["x1", "x2", "x3"]


PUBLISHED_WEIGHTS = [[0.0, 0.5, 0.5], [0.0, 1.0, 0.0], [0.0, 0.9, 0.1]]
PUBLISHED_OUTPUTS = [[2.0, 7.0, 1.5], [2.0, 8.0, 0.0], [2.0, 7.8, 0.3]]


def test_toy_example_reproduces_published_softmax_and_outputs(toy):
    """The article writes softmax([2, 4, 4]) as [0.0, 0.5, 0.5] (really 0.06, 0.47, 0.47), then multiplies by V.

    Chapter 1 shows both: our exact weights are within 0.07 of the article's
    rounded ones, and its outputs follow exactly from those rounded weights.
    """
    np.testing.assert_allclose(toy.weights.to_numpy(), PUBLISHED_WEIGHTS, atol=0.07)
    np.testing.assert_array_equal(toy.weights.round(1).to_numpy()[1:], PUBLISHED_WEIGHTS[1:])
    rounded = pd.DataFrame(PUBLISHED_WEIGHTS, index=toy.weights.index, columns=toy.weights.columns)
    np.testing.assert_allclose(ats.attend(rounded, toy.V).to_numpy(), PUBLISHED_OUTPUTS, atol=1e-12)
    np.testing.assert_allclose(toy.output.to_numpy(), PUBLISHED_OUTPUTS, atol=0.35)


def test_toy_example_exact_softmax_matches_hand_computation(toy):
    """Row 1 scores [2, 4, 4]: weights are e^2, e^4, e^4 over their sum, by hand."""
    e2, e4 = math.exp(2), math.exp(4)
    row1 = np.array([e2, e4, e4]) / (e2 + 2 * e4)
    np.testing.assert_allclose(toy.weights.iloc[0].to_numpy(), row1, rtol=1e-15)
    np.testing.assert_allclose(toy.output.iloc[0].to_numpy(), row1 @ np.array([[1, 2, 3], [2, 8, 0], [2, 6, 3]]), rtol=1e-14)


def test_scale_divides_by_sqrt_dk():
    """Chapter 1's 'what √d_k changes' would show wrong numbers."""
    s = ats.self_attention(TOY_X, ats.Weights(W_QUERY, W_KEY, W_VALUE), scale=True)
    np.testing.assert_allclose(s.scaled.to_numpy(), s.scores.to_numpy() / math.sqrt(3))


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_matches_torch_scaled_dot_product_attention(seed):
    """Our output is the reference implementation's, to float64 precision."""
    rng = np.random.default_rng(100 + seed)
    X = rng.standard_normal((8, 10))
    W = ats.init_weights(10, 6, seed=seed)
    s = ats.self_attention(X, W)
    q, k, v = (torch.from_numpy(df.to_numpy()) for df in (s.Q, s.K, s.V))
    expected = torch.nn.functional.scaled_dot_product_attention(q[None], k[None], v[None])[0].numpy()
    np.testing.assert_allclose(s.output.to_numpy(), expected, atol=1e-10, rtol=0)
    np.testing.assert_allclose(s.weights.to_numpy(), torch.softmax(q @ k.T / math.sqrt(6), dim=-1).numpy(), atol=1e-12)


def test_cross_attention_matches_torch_with_non_square_weights():
    """Chapter 6's cross-attention: 8 queries over 5 keys gives an 8×5 weight matrix."""
    rng = np.random.default_rng(3)
    Xq, Xkv = rng.standard_normal((8, 10)), rng.standard_normal((5, 10))
    s = ats.attention(Xq, Xkv, ats.init_weights(10, 4, seed=2))
    assert s.weights.shape == (8, 5) and s.output.shape == (8, 4)
    q, k, v = (torch.from_numpy(df.to_numpy()) for df in (s.Q, s.K, s.V))
    expected = torch.nn.functional.scaled_dot_product_attention(q[None], k[None], v[None])[0].numpy()
    np.testing.assert_allclose(s.output.to_numpy(), expected, atol=1e-10, rtol=0)


def test_softmax_is_stable_for_huge_scores():
    """Scores of 1e6 must give finite weights that sum to 1, not NaN."""
    S = pd.DataFrame([[1e6, 1e6 - 1, 0.0], [-1e6, 0.0, 1e6], [5.0, 5.0, 5.0]])
    w = ats.softmax(S).to_numpy()
    assert np.isfinite(w).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    np.testing.assert_allclose(w[0, :2], [1 / (1 + math.exp(-1)), math.exp(-1) / (1 + math.exp(-1))])
    np.testing.assert_allclose(w[2], [1 / 3] * 3)


def test_softmax_loop_shows_the_overflow_and_agrees_when_small():
    """The blog's loop is shown in chapter 2: equal for small scores, NaN once exp overflows."""
    small = pd.DataFrame([[0.1, 2.0, -1.0], [3.0, 0.0, 1.0]])
    np.testing.assert_allclose(ats.softmax_loop(small), ats.softmax(small), rtol=1e-15)
    big = pd.DataFrame([[800.0, 1.0], [1.0, 2.0]])
    looped = ats.softmax_loop(big).to_numpy()
    assert np.isnan(looped[0]).any() and np.isfinite(looped[1]).all()


def test_weights_rows_sum_to_one_and_labels_follow_tokens():
    """Each query's weights are a distribution, and the table says which token is which."""
    X = pd.DataFrame(np.random.default_rng(0).standard_normal((4, 10)), index=["我", "爱", "北京", "天安门"])
    s = ats.self_attention(X, ats.init_weights(10, 6, seed=0))
    np.testing.assert_allclose(s.weights.sum(axis=1), 1.0)
    assert list(s.weights.index) == list(s.weights.columns) == ["我", "爱", "北京", "天安门"]
    assert list(s.stages()) == ["X", "Q", "K", "V", "scores", "scaled", "weights", "output"]
    assert s.Q.shape == s.K.shape == s.V.shape == s.output.shape == (4, 6)
    assert s.scaled.attrs["formula"] == "Q·Kᵀ/√d_k"


def test_init_weights_is_reproducible_by_seed():
    """Same seed, same book on every machine; another seed, other numbers."""
    a, b, c = ats.init_weights(10, 6, seed=0), ats.init_weights(10, 6, seed=0), ats.init_weights(10, 6, seed=1)
    for name in ("Wq", "Wk", "Wv"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert getattr(a, name).shape == (10, 6)
        assert not np.array_equal(getattr(a, name), getattr(c, name))
    assert ats.init_weights(10, 6, seed=0, d_v=4).Wv.shape == (10, 4)


def test_weights_accept_dataframes_and_cannot_be_changed_under_the_steps():
    W = ats.Weights(pd.DataFrame(W_QUERY), pd.DataFrame(W_KEY), pd.DataFrame(W_VALUE))
    assert (W.d_model, W.d_k, W.d_v) == (4, 3, 3)
    with pytest.raises(ValueError):
        W.Wq[0, 0] = 5.0


def test_permuting_tokens_only_permutes_outputs():
    """Chapter 6's point: attention alone has no notion of order."""
    X = np.random.default_rng(2).standard_normal((6, 10))
    W = ats.init_weights(10, 6, seed=0)
    perm = [3, 0, 5, 1, 4, 2]
    out = ats.self_attention(X, W).output.to_numpy()
    out_perm = ats.self_attention(X[perm], W).output.to_numpy()
    np.testing.assert_allclose(out_perm, out[perm], atol=1e-12)
    pe = ats.positional_encoding(6, 10)
    with_pos = ats.self_attention(X + pe, W).output.to_numpy()
    with_pos_perm = ats.self_attention(X[perm] + pe, W).output.to_numpy()
    assert not np.allclose(with_pos_perm, with_pos[perm])


# ---- bad input gets a clear error ------------------------------------------


def test_weights_that_do_not_fit_x_name_both_shapes():
    X = np.ones((8, 10))
    with pytest.raises(ValueError, match=r"8×10.*12×6|12×6.*8×10"):
        ats.self_attention(X, ats.init_weights(12, 6))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_x_is_refused(bad):
    X = np.ones((3, 4))
    X[1, 2] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        ats.self_attention(X, ats.init_weights(4, 2))


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({"d_k": 0}, ValueError),
        ({"d_k": -3}, ValueError),
        ({"d_model": 0}, ValueError),
        ({"d_k": 2.5}, TypeError),
        ({"seed": -1}, ValueError),
        ({"std": 0}, ValueError),
    ],
)
def test_init_weights_refuses_bad_sizes(kwargs, error):
    with pytest.raises(error, match=r"d_k|d_model|seed|std"):
        ats.init_weights(**{"d_model": 10, "d_k": 6, **kwargs})


def test_mismatched_weight_matrices_are_refused():
    with pytest.raises(ValueError, match="same number of rows"):
        ats.Weights(np.ones((4, 3)), np.ones((5, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="Q·Kᵀ"):
        ats.Weights(np.ones((4, 3)), np.ones((4, 2)), np.ones((4, 3)))


def test_bad_x_is_refused_clearly():
    W = ats.init_weights(4, 2)
    with pytest.raises(ValueError, match="2-D"):
        ats.self_attention(np.ones(4), W)
    with pytest.raises(ValueError, match="empty"):
        ats.self_attention(np.ones((0, 4)), W)
    with pytest.raises(TypeError):
        ats.self_attention("我喜欢", W)
    with pytest.raises(TypeError, match="ats.Weights"):
        ats.self_attention(np.ones((3, 4)), np.ones((4, 2)))
    dup = pd.DataFrame(np.ones((2, 4)), index=["我", "我"])
    with pytest.raises(ValueError, match="more than once"):
        ats.self_attention(dup, W)


