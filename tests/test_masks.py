"""Masks: a decoder's causal triangle, padding in a batch, and the errors a learner can meet.

Checked against PyTorch (float64): scaled_dot_product_attention with is_causal
and with a boolean attn_mask, and nn.MultiheadAttention with key_padding_mask.
"""

import numpy as np
import pandas as pd
import pytest
import torch

import attn_steps as ats

RNG = np.random.default_rng(7)


def torch_sdpa(s: ats.Steps, **kwargs) -> np.ndarray:
    q, k, v = (torch.tensor(df.to_numpy()) for df in (s.Q, s.K, s.V))
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs).numpy()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_causal_matches_torch_is_causal(seed):
    """A reader comparing chapter 7's decoder with PyTorch's would find different outputs."""
    X = RNG.standard_normal((7, 10))
    s = ats.self_attention(X, ats.init_weights(10, 4, seed=seed), causal=True)
    np.testing.assert_allclose(s.output.to_numpy(), torch_sdpa(s, is_causal=True), rtol=0, atol=1e-10)


def test_boolean_mask_matches_torch_attn_mask_also_for_cross_attention():
    """True = may attend, as in PyTorch's boolean attn_mask; 3 queries over 5 keys."""
    Xq, Xkv = RNG.standard_normal((3, 6)), RNG.standard_normal((5, 6))
    M = np.array([[1, 1, 0, 0, 1], [0, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=bool)
    s = ats.attention(Xq, Xkv, ats.init_weights(6, 3, seed=1, d_v=2), mask=M)
    expected = torch_sdpa(s, attn_mask=torch.tensor(M))
    np.testing.assert_allclose(s.output.to_numpy(), expected, rtol=0, atol=1e-10)
    assert s.output.shape == (3, 2)


def test_key_padding_matches_torch_multihead_attention():
    """Two sentences of 6 and 3 tokens in one batch, one head, W^O = I: PyTorch's key_padding_mask
    (True = ignore) is our key-padding mask negated."""
    d = 8
    X1, X2 = RNG.standard_normal((6, d)), RNG.standard_normal((3, d))
    W = ats.init_weights(d, d, seed=3)  # MultiheadAttention projects d_model -> d_model
    batch = ats.pad_batch([X1, X2])
    ours = ats.batch_attention(batch, W)
    mha = torch.nn.MultiheadAttention(d, num_heads=1, bias=False, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.tensor(np.concatenate([W.Wq.T, W.Wk.T, W.Wv.T])))
        mha.out_proj.weight.copy_(torch.eye(d, dtype=torch.float64))
    x = torch.tensor(batch.X)
    ignore = torch.tensor(~batch.key_padding_mask().to_numpy())
    out, weights = mha(x, x, x, key_padding_mask=ignore, need_weights=True)
    for i, s in enumerate(ours):
        np.testing.assert_allclose(s.output.to_numpy(), out[i].detach().numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(s.weights.to_numpy(), weights[i].detach().numpy(), rtol=0, atol=1e-10)


def test_padded_keys_get_no_weight_and_real_rows_equal_the_sentence_alone():
    """What chapter 7 checks on its page: padding changes nothing for the real tokens."""
    X1, X2 = RNG.standard_normal((5, 4)), RNG.standard_normal((2, 4))
    W = ats.init_weights(4, 3, seed=0)
    batch = ats.pad_batch([X1, X2], names=["long", "short"])
    assert batch.valid_lens == (5, 2)
    assert batch.labels[1] == ("x1", "x2", "[PAD]₁", "[PAD]₂", "[PAD]₃")
    np.testing.assert_array_equal(batch.X[1, 2:], 0.0)
    for causal in (False, True):
        short = ats.batch_attention(batch, W, causal=causal)[1]
        assert (short.weights.iloc[:, 2:].to_numpy() == 0).all()
        alone = ats.self_attention(X2, W, causal=causal)
        np.testing.assert_allclose(short.output.iloc[:2].to_numpy(), alone.output.to_numpy(), rtol=0, atol=1e-12)
        one_by_one = ats.self_attention(batch.frame(1), W, mask=batch.mask(1), causal=causal)
        for name, df in one_by_one.stages().items():
            np.testing.assert_allclose(df.to_numpy(), short.stages()[name].to_numpy(), rtol=0, atol=1e-12, err_msg=name)


def test_later_tokens_cannot_change_earlier_outputs():
    """A decoder must not see the future: changing token 4 leaves rows 1-3 exactly as they were."""
    X = RNG.standard_normal((6, 5))
    W = ats.init_weights(5, 3, seed=2)
    before = ats.self_attention(X, W, causal=True).output.to_numpy()
    X_changed = X.copy()
    X_changed[3:] = RNG.standard_normal((3, 5))
    after = ats.self_attention(X_changed, W, causal=True).output.to_numpy()
    np.testing.assert_array_equal(after[:3], before[:3])
    assert not np.allclose(after[3:], before[3:])
    unmasked = ats.self_attention(X_changed, W).output.to_numpy()
    assert not np.allclose(unmasked[:3], ats.self_attention(X, W).output.to_numpy()[:3])


def test_masked_stage_sits_between_scaled_and_softmax_with_minus_infinity():
    X = pd.DataFrame(RNG.standard_normal((4, 3)), index=list("我想吃鱼"))
    s = ats.self_attention(X, ats.init_weights(3, 2, seed=0), causal=True)
    assert list(s.stages()) == ["X", "Q", "K", "V", "scores", "scaled", "masked", "weights", "output"]
    upper = np.triu(np.ones((4, 4), dtype=bool), k=1)
    assert np.isneginf(s.masked.to_numpy()[upper]).all()
    np.testing.assert_array_equal(s.masked.to_numpy()[~upper], s.scaled.to_numpy()[~upper])
    assert (s.weights.to_numpy()[upper] == 0).all()
    np.testing.assert_allclose(s.weights.sum(axis=1), 1.0)
    assert s.masked.attrs["formula"] == "Q·Kᵀ/√d_k + M"
    assert s.weights.attrs["formula"] == "softmax(Q·Kᵀ/√d_k + M)"
    assert s.weights.iloc[0, 0] == 1.0, "the first token can only see itself"


def test_unmasked_steps_have_no_masked_stage_and_keep_their_weights():
    X = RNG.standard_normal((3, 4))
    W = ats.init_weights(4, 2, seed=0)
    s = ats.self_attention(X, W)
    assert s.masked is None and "masked" not in s.stages()
    assert s.W is W
    everything = np.ones((3, 3), dtype=bool)
    np.testing.assert_allclose(ats.self_attention(X, W, mask=everything).output, s.output, rtol=0, atol=0)


def test_mask_given_as_a_labelled_frame():
    X = pd.DataFrame(RNG.standard_normal((3, 4)), index=["我", "想", "吃"])
    W = ats.init_weights(4, 2, seed=0)
    M = ats.causal_mask(X.index)
    np.testing.assert_array_equal(ats.self_attention(X, W, mask=M).output, ats.self_attention(X, W, causal=True).output)
    wrong = M.rename(index={"吃": "鱼"})
    with pytest.raises(ValueError, match="labels do not match"):
        ats.self_attention(X, W, mask=wrong)


@pytest.mark.parametrize("M, match", [
    (np.ones((3, 4), dtype=bool), r"mask is 3×4 but the scores are 3×3"),
    (np.ones((3, 3), dtype=int), "must be boolean"),
    (np.array([[True, False, False], [False, False, False], [True, True, True]]), "blocks every key for the query 'x2'"),
])
def test_bad_masks_are_refused_with_a_reason(M, match):
    """A wrong mask must never become NaN or silently uniform weights (d2l's valid_len = 0 bug)."""
    X = RNG.standard_normal((3, 4))
    with pytest.raises(ValueError, match=match):
        ats.self_attention(X, ats.init_weights(4, 2, seed=0), mask=M)


def test_causal_cross_attention_of_different_lengths_is_refused():
    with pytest.raises(ValueError, match="as many queries as keys"):
        ats.attention(RNG.standard_normal((2, 4)), RNG.standard_normal((5, 4)), ats.init_weights(4, 2), causal=True)


def test_softmax_refuses_a_row_with_no_finite_score():
    S = pd.DataFrame([[0.0, -np.inf], [-np.inf, -np.inf]], index=["a", "b"])
    with pytest.raises(ValueError, match="'b'.*0/0"):
        ats.softmax(S)


def test_pad_batch_refuses_what_it_cannot_stack():
    with pytest.raises(ValueError, match="non-empty list"):
        ats.pad_batch([])
    with pytest.raises(ValueError, match="same number of features"):
        ats.pad_batch([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(TypeError, match="pad_batch"):
        ats.batch_attention(np.ones((1, 2, 3)), ats.init_weights(3, 2))
