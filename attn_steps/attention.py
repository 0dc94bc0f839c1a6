"""Scaled dot-product attention, one stage per function.

    Attention(Q, K, V) = softmax(Q·Kᵀ / √d_k) · V

Every stage takes and returns pandas DataFrames labeled by token, so a reader
can always tell which row is 我 and which column is 苹果. Shapes use
n (query tokens), m (key/value tokens), d_model (input width), d_k (query/key
width), d_v (value width), h (heads). All arithmetic is float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

# Each stage's formula and colour scale, read by the plotting module.
# "signed" stages get a diverging colormap centred on 0, "prob" a 0..1 one.
STAGE_INFO = {
    "X": ("X", "signed"),
    "Q": ("Q = X·Wq", "signed"),
    "K": ("K = X·Wk", "signed"),
    "V": ("V = X·Wv", "signed"),
    "scores": ("Q·Kᵀ", "signed"),
    "scaled": ("Q·Kᵀ/√d_k", "signed"),
    "weights": ("softmax(Q·Kᵀ/√d_k)", "prob"),
    "output": ("softmax(Q·Kᵀ/√d_k)·V", "signed"),
}


def _tag(df: pd.DataFrame, stage: str, formula: str | None = None) -> pd.DataFrame:
    default_formula, kind = STAGE_INFO[stage]
    df.attrs.update(stage=stage, formula=formula or default_formula, kind=kind)
    return df


def _labels(prefix: str, n: int) -> list[str]:
    """Column labels q1, q2, ... for an n-wide stage."""
    return [f"{prefix}{j + 1}" for j in range(n)]


def _stable_softmax(a: np.ndarray) -> np.ndarray:
    """Softmax along the last axis; subtracting the max keeps every exponent ≤ 0."""
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def as_frame(X, name: str = "X") -> pd.DataFrame:
    """X as a float64 DataFrame; a plain 2-D array gets rows x1, x2, ... .

    Raises a ValueError or TypeError a learner can read for anything that is
    not a finite, non-empty 2-D table with unique row labels.
    """
    if isinstance(X, pd.DataFrame):
        frame = X
    else:
        try:
            values = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must be a 2-D array or DataFrame of numbers, got {type(X).__name__}"
            ) from None
        if values.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D (tokens × features), got an array of shape {values.shape}"
            )
        frame = pd.DataFrame(values, index=[f"x{i + 1}" for i in range(values.shape[0])])
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {frame.shape[0]}×{frame.shape[1]}): it needs at least one token and one feature")
    try:
        values = frame.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must hold numbers only") from None
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or inf: attention needs finite numbers")
    if not frame.index.is_unique:
        dup = frame.index[frame.index.duplicated()][0]
        raise ValueError(
            f"{name} has the row label {dup!r} more than once: give every token its own label "
            "(ats.embed does this, e.g. 我₁ and 我₂)"
        )
    out = pd.DataFrame(values, index=frame.index.copy(), columns=frame.columns.copy())
    out.attrs.update(frame.attrs)
    return _tag(out, "X")


def _matrix(W, name: str) -> np.ndarray:
    try:
        values = np.array(W, dtype=np.float64)  # a copy: Weights must not change under us
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 2-D array of numbers, got {type(W).__name__}") from None
    if values.ndim != 2 or 0 in values.shape:
        raise ValueError(f"{name} must be a non-empty 2-D matrix, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or inf")
    values.setflags(write=False)
    return values


@dataclass(frozen=True)
class Weights:
    """The three projection matrices: Wq, Wk (d_model × d_k) and Wv (d_model × d_v)."""

    Wq: np.ndarray
    Wk: np.ndarray
    Wv: np.ndarray

    def __post_init__(self):
        for f in fields(self):
            object.__setattr__(self, f.name, _matrix(getattr(self, f.name), f.name))
        rows = {f.name: getattr(self, f.name).shape[0] for f in fields(self)}
        if len(set(rows.values())) != 1:
            raise ValueError(
                "Wq, Wk and Wv must have the same number of rows (d_model), got "
                + ", ".join(f"{k} {getattr(self, k).shape[0]}×{getattr(self, k).shape[1]}" for k in rows)
            )
        if self.Wq.shape[1] != self.Wk.shape[1]:
            raise ValueError(
                f"Wq and Wk must have the same number of columns (d_k) so that Q·Kᵀ exists, "
                f"got Wq {self.Wq.shape[0]}×{self.Wq.shape[1]} and Wk {self.Wk.shape[0]}×{self.Wk.shape[1]}"
            )

    @property
    def d_model(self) -> int:
        return self.Wq.shape[0]

    @property
    def d_k(self) -> int:
        return self.Wq.shape[1]

    @property
    def d_v(self) -> int:
        return self.Wv.shape[1]

    def frames(self) -> dict[str, pd.DataFrame]:
        """Wq, Wk, Wv as labeled DataFrames, ready for `heatmap`."""
        out = {}
        for name, prefix in (("Wq", "q"), ("Wk", "k"), ("Wv", "v")):
            W = getattr(self, name)
            df = pd.DataFrame(W, columns=_labels(prefix, W.shape[1]))
            df.attrs.update(stage=name, formula=name, kind="signed")
            out[name] = df
        return out


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


def init_weights(
    d_model: int = 10, d_k: int = 6, seed: int | None = 0, d_v: int | None = None, std: float = 1.0
) -> Weights:
    """Normal random Wq, Wk (d_model × d_k) and Wv (d_model × d_v, default d_k).

    std=1 is the source blog's standard normal; real models start smaller
    (about 1/√d_model), which keeps early scores from saturating the softmax.
    The same seed gives the same matrices on every machine; seed=None draws
    fresh ones each call, as the source blog did.
    """
    d_model = _positive_int(d_model, "d_model")
    d_k = _positive_int(d_k, "d_k")
    d_v = d_k if d_v is None else _positive_int(d_v, "d_v")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a whole number ≥ 0 or None, got {seed!r}")
    if not (isinstance(std, (int, float)) and math.isfinite(std) and std > 0):
        raise ValueError(f"std must be a positive number, got {std!r}")
    rng = np.random.default_rng(seed)
    return Weights(
        std * rng.standard_normal((d_model, d_k)),
        std * rng.standard_normal((d_model, d_k)),
        std * rng.standard_normal((d_model, d_v)),
    )


# ---- the stages -------------------------------------------------------------


def project(X: pd.DataFrame, W: np.ndarray, stage: str) -> pd.DataFrame:
    """One of Q = X·Wq, K = X·Wk, V = X·Wv: (n, d_model) @ (d_model, d) -> (n, d)."""
    prefix = stage.lower()
    values = X.to_numpy() @ W
    return _tag(pd.DataFrame(values, index=X.index, columns=_labels(prefix, W.shape[1])), stage)


def scores(Q: pd.DataFrame, K: pd.DataFrame) -> pd.DataFrame:
    """Raw scores Q·Kᵀ: (n, d_k) @ (d_k, m) -> (n, m); row = query, column = key."""
    values = Q.to_numpy() @ K.to_numpy().T
    S = pd.DataFrame(values, index=Q.index.rename("query"), columns=K.index.rename("key"))
    return _tag(S, "scores")


def scale(S: pd.DataFrame, d_k: int) -> pd.DataFrame:
    """Q·Kᵀ / √d_k: keeps the scores' spread near 1 whatever d_k is. (n, m) -> (n, m)."""
    return _tag(S / math.sqrt(d_k), "scaled")


def softmax(S: pd.DataFrame) -> pd.DataFrame:
    """Row-wise softmax, stable: exp(s - max(s)) never overflows. (n, m) -> (n, m).

    Subtracting the row's maximum changes nothing mathematically (it cancels
    in the ratio) but keeps every exponent ≤ 0, so scores of 1e6 still give
    finite weights that sum to 1.
    """
    return _tag(pd.DataFrame(_stable_softmax(S.to_numpy()), index=S.index, columns=S.columns), "weights")


def softmax_loop(S: pd.DataFrame) -> pd.DataFrame:
    """The source blog's softmax: a Python loop over rows with a plain exp.

    Kept to show why `softmax` subtracts the maximum: exp(710) is already
    inf in float64, so large scores come out as NaN here (numpy's overflow
    warnings are silenced on purpose; the NaN is the lesson).
    """
    out = pd.DataFrame(index=S.index, columns=S.columns, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for label, row in S.iterrows():
            e = np.exp(row.to_numpy())
            out.loc[label] = e / e.sum()
    return _tag(out, "weights")


def attend(weights: pd.DataFrame, V: pd.DataFrame) -> pd.DataFrame:
    """Output = weights · V: (n, m) @ (m, d_v) -> (n, d_v); each row a weighted mix of V's rows."""
    values = weights.to_numpy() @ V.to_numpy()
    return _tag(pd.DataFrame(values, index=weights.index, columns=_labels("z", V.shape[1])), "output")


_scale_stage = scale  # `attention` has a flag named `scale`; this keeps the stage reachable


# ---- composing them ---------------------------------------------------------


@dataclass(frozen=True)
class Steps:
    """Every intermediate of one attention pass, each a labeled DataFrame."""

    X: pd.DataFrame  # (n, d_model) the queries' input
    Q: pd.DataFrame  # (n, d_k)
    K: pd.DataFrame  # (m, d_k)
    V: pd.DataFrame  # (m, d_v)
    scores: pd.DataFrame  # (n, m)
    scaled: pd.DataFrame  # (n, m), equal to scores when scale=False
    weights: pd.DataFrame  # (n, m), rows sum to 1
    output: pd.DataFrame  # (n, d_v)

    def stages(self) -> dict[str, pd.DataFrame]:
        """The stages in reading order, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _check_fits(X: pd.DataFrame, W: Weights, name: str) -> None:
    if X.shape[1] != W.d_model:
        raise ValueError(
            f"the weights do not fit {name}: {name} is {X.shape[0]}×{X.shape[1]} "
            f"({X.shape[1]} features per token) but Wq is {W.d_model}×{W.d_k} "
            f"(it expects {W.d_model}); use d_model={X.shape[1]}"
        )


def attention(X_q, X_kv, W: Weights, scale: bool = True) -> Steps:
    """Queries from X_q, keys and values from X_kv: cross-attention (self when they are the same)."""
    if not isinstance(W, Weights):
        raise TypeError(f"W must be ats.Weights (see ats.init_weights), got {type(W).__name__}")
    X_q = as_frame(X_q, "X")
    X_kv = X_q if X_kv is None else as_frame(X_kv, "X_kv")
    _check_fits(X_q, W, "X")
    _check_fits(X_kv, W, "X_kv")
    Q = project(X_q, W.Wq, "Q")  # (n, d_k)
    K = project(X_kv, W.Wk, "K")  # (m, d_k)
    V = project(X_kv, W.Wv, "V")  # (m, d_v)
    S = scores(Q, K)  # (n, m)
    if scale:
        scaled = _scale_stage(S, W.d_k)
    else:
        scaled = _tag(S.copy(), "scaled", formula="Q·Kᵀ (not scaled)")
    weights = softmax(scaled)  # (n, m)
    if not scale:
        weights.attrs["formula"] = "softmax(Q·Kᵀ)"
    output = attend(weights, V)  # (n, d_v)
    if not scale:
        output.attrs["formula"] = "softmax(Q·Kᵀ)·V"
    return Steps(X_q, Q, K, V, S, scaled, weights, output)


def self_attention(X, W: Weights, scale: bool = True) -> Steps:
    """Scaled dot-product self-attention of X with itself, every stage kept."""
    return attention(X, None, W, scale=scale)


# ---- multi-head -------------------------------------------------------------


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
    heads = _positive_int(heads, "heads")
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
    Wo = _matrix(Wo, "Wo")
    if Wo.shape[0] != concat.shape[1]:
        raise ValueError(
            f"Wo must have h·d_v = {concat.shape[1]} rows to fit the concatenation "
            f"({concat.shape[0]}×{concat.shape[1]}), got Wo {Wo.shape[0]}×{Wo.shape[1]}"
        )
    output = pd.DataFrame(concat.to_numpy() @ Wo, index=X.index, columns=_labels("o", Wo.shape[1]))
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
    att = _stable_softmax(att)  # (h, n, n), each row of each head
    y = (att @ v).transpose(1, 0, 2).reshape(n, -1)  # (n, h·d_v)
    Wo = _matrix(Wo, "Wo")
    return pd.DataFrame(y @ Wo, index=X.index, columns=_labels("o", Wo.shape[1]))


# ---- position ---------------------------------------------------------------


def positional_encoding(n: int, d: int) -> np.ndarray:
    """Sinusoidal encodings of Vaswani et al. (2017): PE[pos, 2i] = sin(pos/10000^(2i/d)), PE[pos, 2i+1] = cos(...).

    (n, d). Added to X, it gives otherwise identical tokens different rows,
    which attention alone cannot do.
    """
    n = _positive_int(n, "n")
    d = _positive_int(d, "d")
    pos = np.arange(n)[:, None]  # (n, 1)
    i = np.arange(d)[None, :]  # (1, d)
    angle = pos / np.power(10000.0, (2 * (i // 2)) / d)  # (n, d)
    return np.where(i % 2 == 0, np.sin(angle), np.cos(angle))
