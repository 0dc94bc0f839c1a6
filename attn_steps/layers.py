"""What a Transformer adds around attention: positions (chapter 6) and layer norm (chapter 7, the training head).

Attention alone cannot tell word order (chapter 6 reverses the rows of X and
gets the same rows, reversed); `positional_encoding` adds it. `layer_norm` keeps the rows of
X at one scale, so scores do not saturate the softmax.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import checks
from .attention import as_frame


# ---- normalisation ----------------------------------------------------------


def normalise(x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """(x − mean) / √(var + eps) along the last axis, population variance: LayerNorm's core on arrays of any shape
    (`layer_norm` on a table; the poem model's blocks on batches, with their learned gain and bias)."""
    mean = x.mean(axis=-1, keepdims=True)  # (..., 1)
    var = x.var(axis=-1, keepdims=True)  # (..., 1), ddof=0
    return (x - mean) / np.sqrt(var + eps)


def layer_norm(X, eps: float = 1e-5) -> pd.DataFrame:
    """Each row rescaled to mean 0 and variance 1: (x − mean) / √(var + eps). (n, d) -> (n, d).

    LayerNorm without its learned scale and shift, as torch.nn.functional.layer_norm
    computes it (population variance). Real Transformers apply it before attention,
    which keeps the scores from saturating the softmax.
    """
    X = as_frame(X)
    out = pd.DataFrame(normalise(X.to_numpy(), eps), index=X.index, columns=X.columns)
    out.attrs.update(X.attrs)
    return out


# ---- position ---------------------------------------------------------------


def positional_encoding(n: int, d: int) -> np.ndarray:
    """Sinusoidal encodings of Vaswani et al. (2017): PE[pos, 2i] = sin(pos/10000^(2i/d)), PE[pos, 2i+1] = cos(...).

    (n, d). Added to X, it gives otherwise identical tokens different rows,
    which attention alone cannot do.
    """
    n = checks.positive_int(n, "n")
    d = checks.positive_int(d, "d")
    pos = np.arange(n)[:, None]  # (n, 1)
    i = np.arange(d)[None, :]  # (1, d)
    angle = pos / np.power(10000.0, (2 * (i // 2)) / d)  # (n, d)
    return np.where(i % 2 == 0, np.sin(angle), np.cos(angle))
