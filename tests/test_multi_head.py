"""Multi-head attention (chapter 5): every head, the concatenation and W^O, checked against PyTorch."""

import numpy as np
import pytest
import torch

import attn_steps as ats


@pytest.mark.parametrize("heads,d_k", [(2, 5), (5, 2)])
def test_multi_head_matches_torch_multihead_attention(heads, d_k):
    """Chapter 5's multi-head numbers equal nn.MultiheadAttention loaded with the same weights."""
    rng = np.random.default_rng(11)
    X = rng.standard_normal((7, heads * d_k))
    mh = ats.multi_head_attention(X, heads=heads, d_k=d_k, seed=4)
    E = heads * d_k
    mha = torch.nn.MultiheadAttention(E, heads, bias=False, batch_first=True, dtype=torch.float64)
    cat = lambda name: np.concatenate([getattr(W, name) for W in mh.head_weights], axis=1)  # noqa: E731
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([cat("Wq").T, cat("Wk").T, cat("Wv").T])))
        mha.out_proj.weight.copy_(torch.from_numpy(mh.Wo.T.copy()))
    x = torch.from_numpy(X)[None]
    out, att = mha(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(mh.output.to_numpy(), out[0].detach().numpy(), atol=1e-10, rtol=0)
    for i, s in enumerate(mh.heads):
        np.testing.assert_allclose(s.weights.to_numpy(), att[0, i].detach().numpy(), atol=1e-12)
    assert mh.concat.shape == (7, E)


def test_fused_multi_head_equals_per_head_form():
    """Chapter 5's claim: the one-big-matrix form gives exactly the per-head result."""
    X = np.random.default_rng(5).standard_normal((8, 10))
    mh = ats.multi_head_attention(X, heads=3, d_k=4, seed=0)
    assert mh.concat.shape == (8, 12) and mh.Wo.shape == (12, 10) and mh.output.shape == (8, 10)
    fused = ats.fused_multi_head(X, list(mh.head_weights), mh.Wo)
    np.testing.assert_allclose(fused.to_numpy(), mh.output.to_numpy(), atol=1e-12)


def test_heads_project_the_whole_input_with_their_own_weights():
    """Heads must differ (own projections), not be slices of X."""
    X = np.random.default_rng(5).standard_normal((6, 10))
    mh = ats.multi_head_attention(X, heads=2, d_k=3, seed=0)
    assert all(W.Wq.shape == (10, 3) for W in mh.head_weights)
    assert not np.allclose(mh.heads[0].weights, mh.heads[1].weights)


def test_multi_head_refuses_wrong_wo():
    with pytest.raises(ValueError, match="Wo must have h·d_v = 6 rows"):
        ats.multi_head_attention(np.ones((3, 4)), heads=2, d_k=3, Wo=np.ones((5, 4)))
