"""Masks and padding: which keys a query may see, and sentences of different lengths in one batch (chapter 7).

`causal_mask` is the decoder's triangle; `pad_batch` stacks sentences, each
padded at its end, and `batch_attention` runs self-attention over the whole
(b, n, ·) array at once with the padded keys masked out, as real code does.
The masked stage itself is `attention.mask`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import checks
from .attention import Steps, Weights, as_frame, check_fits, column_labels, stable_softmax
from .stages import with_stage

PAD = "[PAD]"
SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def causal_mask(tokens) -> pd.DataFrame:
    """The decoder's triangle: query i may attend to keys 1..i (itself and the past), never the future.

    tokens: the row labels (e.g. X.index), or a number n for x1..xn. (n, n) booleans.
    """
    if isinstance(tokens, (int, np.integer)):
        labels = [f"x{i + 1}" for i in range(checks.positive_int(tokens, "n"))]
    else:
        labels = list(tokens)
    n = len(labels)
    if n == 0:
        raise ValueError("a causal mask needs at least one token")
    return pd.DataFrame(np.tril(np.ones((n, n), dtype=bool)),
                        index=pd.Index(labels, name="query"), columns=pd.Index(labels, name="key"))


@dataclass(frozen=True)
class Batch:
    """Sentences of different lengths stacked into one array, each padded at its end to the longest."""

    X: np.ndarray  # (b, n, d_model): sentence i fills X[i, :valid_lens[i]], zeros after
    valid_lens: tuple[int, ...]  # real tokens per sentence
    labels: tuple[tuple[str, ...], ...]  # each sentence's row labels, then [PAD]₁, [PAD]₂, ...
    names: tuple[str, ...]  # one name per sentence

    def key_padding_mask(self) -> pd.DataFrame:
        """(b, n) booleans: True where a key is a real token, False where it is padding."""
        n = self.X.shape[1]
        real = np.arange(n)[None, :] < np.array(self.valid_lens)[:, None]
        return pd.DataFrame(real, index=pd.Index(self.names, name="sentence"), columns=pd.Index(range(n), name="position"))

    def frame(self, i: int) -> pd.DataFrame:
        """Sentence i as padded X: (n, d_model), its padding rows all zero."""
        return as_frame(pd.DataFrame(self.X[i], index=pd.Index(self.labels[i], name="token")))

    def mask(self, i: int) -> pd.DataFrame:
        """Sentence i's mask (n, n): every query may attend to the real tokens only."""
        labels = list(self.labels[i])
        rows = np.broadcast_to(self.key_padding_mask().to_numpy()[i], (len(labels), len(labels)))
        return pd.DataFrame(rows.copy(), index=pd.Index(labels, name="query"), columns=pd.Index(labels, name="key"))


def pad_batch(frames, names=None) -> Batch:
    """Stack sentences of different lengths into one padded batch with their valid lengths.

    frames: a list of X (tokens × d_model) with the same d_model. Shorter
    sentences get zero rows labelled [PAD]₁, [PAD]₂, ... at their end.
    """
    if isinstance(frames, (pd.DataFrame, np.ndarray)) or not hasattr(frames, "__len__") or len(frames) == 0:
        raise ValueError("pad_batch needs a non-empty list of sentences (one X per sentence)")
    frames = [as_frame(X, f"sentence {i + 1}") for i, X in enumerate(frames)]
    widths = {X.shape[1] for X in frames}
    if len(widths) != 1:
        raise ValueError(
            "every sentence of a batch needs the same number of features per token, got "
            + ", ".join(f"{X.shape[0]}×{X.shape[1]}" for X in frames)
        )
    names = [f"s{i + 1}" for i in range(len(frames))] if names is None else [str(n) for n in names]
    if len(names) != len(frames):
        raise ValueError(f"{len(frames)} sentences but {len(names)} names")
    n = max(len(X) for X in frames)
    batch = np.zeros((len(frames), n, widths.pop()))  # (b, n, d_model)
    labels = []
    for i, X in enumerate(frames):
        batch[i, : len(X)] = X.to_numpy()
        pads = [f"{PAD}{str(j + 1).translate(SUBSCRIPT_DIGITS)}" for j in range(n - len(X))]
        labels.append(tuple(map(str, X.index)) + tuple(pads))
    batch.setflags(write=False)
    return Batch(batch, tuple(len(X) for X in frames), tuple(labels), tuple(names))


def batch_attention(batch: Batch, W: Weights, scale: bool = True, causal: bool = False) -> tuple[Steps, ...]:
    """Self-attention of every sentence of a padded batch at once, as real code runs it.

    One matrix product per stage over the whole (b, n, ·) array; padded keys
    are masked out, so each sentence's real rows equal running it alone.
    Returns one Steps per sentence (its padded rows included).
    """
    if not isinstance(batch, Batch):
        raise TypeError(f"batch must come from ats.pad_batch, got {type(batch).__name__}")
    if not isinstance(W, Weights):
        raise TypeError(f"W must be ats.Weights (see ats.init_weights), got {type(W).__name__}")
    check_fits(batch.frame(0), W, "X")
    x = batch.X  # (b, n, d_model)
    q, k, v = x @ W.Wq, x @ W.Wk, x @ W.Wv  # (b, n, d_k), (b, n, d_k), (b, n, d_v)
    s = q @ k.transpose(0, 2, 1)  # (b, n, n)
    scaled = s / math.sqrt(W.d_k) if scale else s
    allowed = batch.key_padding_mask().to_numpy()[:, None, :]  # (b, 1, n): real keys
    if causal:
        allowed = allowed & np.tril(np.ones(s.shape[1:], dtype=bool))  # (b, n, n)
    allowed = np.broadcast_to(allowed, s.shape)  # (b, n, n)
    masked = np.where(allowed, scaled, -np.inf)  # (b, n, n)
    w = stable_softmax(masked)  # (b, n, n); no row is empty: every sentence has a first token
    out = w @ v  # (b, n, d_v)
    return tuple(_sentence_steps(batch.frame(i), (q[i], k[i], v[i], s[i], scaled[i], allowed[i], masked[i], w[i], out[i]),
                                 W, scale)
                 for i in range(len(batch.valid_lens)))


def _sentence_steps(X: pd.DataFrame, arrays, W: Weights, scale: bool) -> Steps:
    """One sentence's slices of the batch arrays, labelled like `attention`'s stages (Steps titles them)."""
    q, k, v, s, scaled, allowed, masked, w, out = arrays

    def square(a, stage=None):  # (n, n): queries × keys
        df = pd.DataFrame(a, index=X.index.rename("query"), columns=X.index.rename("key"))
        return df if stage is None else with_stage(df, stage)

    def tall(a, stage, prefix):  # (n, d): one row per token
        return with_stage(pd.DataFrame(a, index=X.index, columns=column_labels(prefix, a.shape[1])), stage)

    return Steps(
        X, tall(q, "Q", "q"), tall(k, "K", "k"), tall(v, "V", "v"),
        square(s, "scores"), square(scaled, "scaled"), square(w, "weights"), tall(out, "output", "z"),
        masked=square(masked, "masked"), W=W, scale=scale, mask=square(allowed.copy()),
    )
