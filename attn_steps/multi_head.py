"""Multi-head attention (chapter 5): h heads side by side, each with its own Wq, Wk, Wv, then W^O.

`multi_head_attention` keeps every head's stages for plotting; `fused_multi_head`
computes the same output as real code does, one big matrix per projection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import checks
from .attention import Steps, Weights, as_frame, column_labels, init_weights, self_attention, stable_softmax


@dataclass(frozen=True)
class MultiHead:
    """Multi-head attention: h independent heads, concatenated, then projected by W^O."""

    heads: tuple[Steps, ...]  # one Steps per head
    head_weights: tuple[Weights, ...]  # each head's own Wq, Wk, Wv (d_model × d_k)
    concat: pd.DataFrame  # (n, h·d_v)
    Wo: np.ndarray  # (h·d_v, d_out)
    output: pd.DataFrame  # (n, d_out)


def multi_head_attention(
    X,
    heads: int = 2,
    d_k: int = 3,
    seed: int | None = 0,
    *,
    head_weights: list[Weights] | None = None,
    Wo=None,
    scale: bool = True,
    std: float = 1.0,
) -> MultiHead:
    """h heads, each projecting the whole X with its own Wq/Wk/Wv (not slicing X).

    Weights are seeded (head i uses seed + i, W^O seed + heads) unless given,
    normal with standard deviation std. W^O maps the concatenation (n, h·d_v)
    back to d_model.
    """
    X = as_frame(X)
    heads = checks.positive_int(heads, "heads")
    if head_weights is None:
        head_weights = [init_weights(X.shape[1], d_k, None if seed is None else seed + i, std=std) for i in range(heads)]
    elif len(head_weights) != heads:
        raise ValueError(f"heads={heads} but {len(head_weights)} sets of head weights were given")
    head_steps = tuple(self_attention(X, W, scale=scale) for W in head_weights)
    parts = []
    for i, s in enumerate(head_steps):
        part = s.output.copy()
        part.columns = [f"h{i + 1}.{c}" for c in part.columns]
        parts.append(part)
    concat = pd.concat(parts, axis=1)  # (n, h·d_v)
    concat.attrs.update(stage="concat", formula="Concat(head₁, …, head_h)", kind="signed")
    if Wo is None:
        rng = np.random.default_rng(None if seed is None else seed + heads)
        Wo = std * rng.standard_normal((concat.shape[1], X.shape[1]))
    Wo = checks.matrix(Wo, "Wo")
    if Wo.shape[0] != concat.shape[1]:
        raise ValueError(
            f"Wo must have h·d_v = {concat.shape[1]} rows to fit the concatenation "
            f"({concat.shape[0]}×{concat.shape[1]}), got Wo {Wo.shape[0]}×{Wo.shape[1]}"
        )
    output = pd.DataFrame(concat.to_numpy() @ Wo, index=X.index, columns=column_labels("o", Wo.shape[1]))
    output.attrs.update(stage="mh_output", formula="Concat(heads)·W^O", kind="signed")
    return MultiHead(head_steps, tuple(head_weights), concat, Wo, output)


def fused_multi_head(X, head_weights: list[Weights], Wo, scale: bool = True) -> pd.DataFrame:
    """The same multi-head attention as one big matrix per projection, as real code does it.

    Wq for all heads side by side is d_model × (h·d_k): one product gives every
    head's Q, which is then viewed as (h, n, d_k). Equal to `multi_head_attention`.
    """
    X = as_frame(X)
    h = len(head_weights)
    Wq = np.concatenate([W.Wq for W in head_weights], axis=1)  # (d_model, h·d_k)
    Wk = np.concatenate([W.Wk for W in head_weights], axis=1)  # (d_model, h·d_k)
    Wv = np.concatenate([W.Wv for W in head_weights], axis=1)  # (d_model, h·d_v)
    x = X.to_numpy()
    n = x.shape[0]
    q = (x @ Wq).reshape(n, h, -1).transpose(1, 0, 2)  # (h, n, d_k)
    k = (x @ Wk).reshape(n, h, -1).transpose(1, 0, 2)  # (h, n, d_k)
    v = (x @ Wv).reshape(n, h, -1).transpose(1, 0, 2)  # (h, n, d_v)
    att = q @ k.transpose(0, 2, 1)  # (h, n, n)
    if scale:
        att = att / math.sqrt(q.shape[-1])
    att = stable_softmax(att)  # (h, n, n), each row of each head
    y = (att @ v).transpose(1, 0, 2).reshape(n, -1)  # (n, h·d_v)
    Wo = checks.matrix(Wo, "Wo")
    return pd.DataFrame(y @ Wo, index=X.index, columns=column_labels("o", Wo.shape[1]))


