"""What a Transformer adds around attention: sinusoidal positions (chapter 6) and layer norm (chapters 2 and 7)."""

import math

import numpy as np
import pandas as pd
import torch

import attn_steps as ats


def test_positional_encoding_matches_formula():
    pe = ats.positional_encoding(6, 10)
    assert pe.shape == (6, 10)
    pos, i = 3, 2  # columns 4 and 5 use the frequency 10000^(4/10)
    np.testing.assert_allclose(pe[pos, 2 * i], math.sin(pos / 10000 ** (2 * i / 10)))
    np.testing.assert_allclose(pe[pos, 2 * i + 1], math.cos(pos / 10000 ** (2 * i / 10)))
    np.testing.assert_array_equal(pe[0], [0, 1] * 5)


def test_layer_norm_matches_torch():
    """Chapter 7 normalises X as a Transformer would before attention."""
    X = np.random.default_rng(0).standard_normal((5, 8)) * 3 + 1
    ours = ats.layer_norm(pd.DataFrame(X, index=list("我想吃酸菜")))
    expected = torch.nn.functional.layer_norm(torch.tensor(X), (8,)).numpy()
    np.testing.assert_allclose(ours.to_numpy(), expected, rtol=0, atol=1e-12)
    assert list(ours.index) == list("我想吃酸菜")
    np.testing.assert_allclose(ours.mean(axis=1), 0, atol=1e-12)
