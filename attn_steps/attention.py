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
    # M is 0 where a query may attend to a key and −∞ where it is blocked.
    "masked": ("Q·Kᵀ/√d_k + M", "signed"),
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
    """Softmax along the last axis; subtracting the max keeps every exponent ≤ 0.

    −∞ (a blocked key) becomes exp(−∞) = 0. A row whose every entry is −∞
    would be 0/0: it is refused.
    """
    top = a.max(axis=-1, keepdims=True)
    if np.isneginf(top).any():
        raise ValueError("every score of a row is −∞ (all keys blocked): there is no distribution to take, "
                         "softmax would be 0/0")
    e = np.subtract(a, top)  # a fresh array, changed in place below: no second (n, m) temporary
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


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


def _check_seed(seed, allow_none: bool = False):
    """A seed for np.random.default_rng: a whole number ≥ 0 (or None when allowed, for fresh draws)."""
    if seed is None and allow_none:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number ≥ 0{' or None' if allow_none else ''}, got {seed!r}")
    return int(seed)


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
    seed = _check_seed(seed, allow_none=True)
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
    return _tag(pd.DataFrame(S.to_numpy() / math.sqrt(d_k), index=S.index, columns=S.columns), "scaled")


def mask(S: pd.DataFrame, M) -> pd.DataFrame:
    """S + M: a blocked score becomes −∞, which the softmax turns into weight 0. (n, m) -> (n, m).

    M is a boolean table shaped like S, True where a query may attend to a key
    (an array, or a DataFrame labelled like S); as a number it is 0 where True
    and −∞ where False. Blocking comes before the softmax: exp(−∞) = 0, so each
    row's weights still sum to 1 over the keys it may see.
    """
    allowed = _as_mask(M, S)
    values = np.where(allowed, S.to_numpy(), -np.inf)
    formula = S.attrs.get("formula", STAGE_INFO["scaled"][0]).removesuffix(" (not scaled)") + " + M"
    return _tag(pd.DataFrame(values, index=S.index, columns=S.columns), "masked", formula=formula)


def _as_mask(M, S: pd.DataFrame) -> np.ndarray:
    """M as a boolean array shaped like S, or a ValueError that says what is wrong with it."""
    if isinstance(M, pd.DataFrame):
        if M.shape == S.shape and not (M.index.equals(S.index) and M.columns.equals(S.columns)):
            raise ValueError(
                f"the mask's labels do not match the scores': mask rows {list(M.index)}, columns {list(M.columns)}; "
                f"scores rows (queries) {list(S.index)}, columns (keys) {list(S.columns)}"
            )
        values = M.to_numpy()
    else:
        values = np.asarray(M)
    if values.dtype != np.bool_:
        raise ValueError(
            f"the mask must be boolean (True = may attend, False = blocked), got values of type {values.dtype}; "
            "for a 0/1 table write M == 1"
        )
    if values.shape != S.shape:
        shape = "×".join(map(str, values.shape)) or "a single value"
        raise ValueError(
            f"the mask is {shape} but the scores are {S.shape[0]}×{S.shape[1]} (queries × keys): "
            "the mask needs one True/False per query and key"
        )
    blocked = ~values.any(axis=1)
    if blocked.any():
        raise ValueError(
            f"the mask blocks every key for the query {S.index[np.argmax(blocked)]!r}: a fully masked row has no "
            "distribution (its softmax would be 0/0); let every query see at least one key, for example itself"
        )
    return values


def causal_mask(tokens) -> pd.DataFrame:
    """The decoder's triangle: query i may attend to keys 1..i (itself and the past), never the future.

    tokens: the row labels (e.g. X.index), or a number n for x1..xn. (n, n) booleans.
    """
    labels = [f"x{i + 1}" for i in range(_positive_int(tokens, "n"))] if isinstance(tokens, (int, np.integer)) else list(tokens)
    n = len(labels)
    if n == 0:
        raise ValueError("a causal mask needs at least one token")
    return pd.DataFrame(np.tril(np.ones((n, n), dtype=bool)),
                        index=pd.Index(labels, name="query"), columns=pd.Index(labels, name="key"))


def softmax(S: pd.DataFrame) -> pd.DataFrame:
    """Row-wise softmax, stable: exp(s - max(s)) never overflows. (n, m) -> (n, m).

    Subtracting the row's maximum changes nothing mathematically (it cancels
    in the ratio) but keeps every exponent ≤ 0, so scores of 1e6 still give
    finite weights that sum to 1. A blocked score (−∞) gets weight exactly 0.
    """
    values = S.to_numpy(dtype=np.float64)
    try:
        weights = _stable_softmax(values)
    except ValueError:
        row = S.index[np.argmax(np.isneginf(values.max(axis=1)))]
        raise ValueError(f"every score of the row {row!r} is −∞ (all keys blocked): "
                         "there is no distribution to take, softmax would be 0/0") from None
    return _tag(pd.DataFrame(weights, index=S.index, columns=S.columns), "weights")


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


# `attention` has arguments named `scale` and `mask`; these keep the stages reachable.
_scale_stage = scale
_mask_stage = mask


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
    masked: pd.DataFrame | None = None  # (n, m) scaled with −∞ where blocked; None when nothing is masked
    W: Weights | None = None  # the weights that produced these stages

    def stages(self) -> dict[str, pd.DataFrame]:
        """The stages in reading order, by name (masked, when present, between scaled and weights)."""
        names = ["X", "Q", "K", "V", "scores", "scaled", "masked", "weights", "output"]
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


def _check_fits(X: pd.DataFrame, W: Weights, name: str) -> None:
    if X.shape[1] != W.d_model:
        raise ValueError(
            f"the weights do not fit {name}: {name} is {X.shape[0]}×{X.shape[1]} "
            f"({X.shape[1]} features per token) but Wq is {W.d_model}×{W.d_k} "
            f"(it expects {W.d_model}); use d_model={X.shape[1]}"
        )


def _formulas(scale: bool, masked: bool) -> dict[str, str]:
    """Titles of the stages after the scores, as the options make them."""
    inner = ("Q·Kᵀ/√d_k" if scale else "Q·Kᵀ") + (" + M" if masked else "")
    return {"weights": f"softmax({inner})", "output": f"softmax({inner})·V"}


def attention(X_q, X_kv, W: Weights, scale: bool = True, *, mask=None, causal: bool = False) -> Steps:
    """Queries from X_q, keys and values from X_kv: cross-attention (self when they are the same).

    mask: booleans (n × m, True = may attend) blocking some query-key pairs;
    causal=True blocks every key after the query (a decoder's triangle).
    Either adds the `masked` stage between the scaled scores and the softmax.
    """
    if not isinstance(W, Weights):
        raise TypeError(f"W must be ats.Weights (see ats.init_weights), got {type(W).__name__}")
    X_q = as_frame(X_q, "X")
    X_kv = X_q if X_kv is None else as_frame(X_kv, "X_kv")
    _check_fits(X_q, W, "X")
    _check_fits(X_kv, W, "X_kv")
    if causal and len(X_q) != len(X_kv):
        raise ValueError(
            f"causal=True needs as many queries as keys (one sequence attending to its own past), got "
            f"{len(X_q)} queries and {len(X_kv)} keys; for cross-attention pass mask= instead"
        )
    Q = project(X_q, W.Wq, "Q")  # (n, d_k)
    K = project(X_kv, W.Wk, "K")  # (m, d_k)
    V = project(X_kv, W.Wv, "V")  # (m, d_v)
    S = scores(Q, K)  # (n, m)
    if scale:
        scaled = _scale_stage(S, W.d_k)
    else:
        scaled = _tag(S.copy(), "scaled", formula="Q·Kᵀ (not scaled)")
    masked = None
    if causal or mask is not None:
        allowed = np.ones(S.shape, dtype=bool) if mask is None else _as_mask(mask, S)
        if causal:
            allowed = allowed & causal_mask(S.index).to_numpy()
        masked = _mask_stage(scaled, allowed)  # (n, m), −∞ where blocked
    weights = softmax(scaled if masked is None else masked)  # (n, m)
    output = attend(weights, V)  # (n, d_v)
    formulas = _formulas(scale, masked is not None)
    weights.attrs["formula"], output.attrs["formula"] = formulas["weights"], formulas["output"]
    return Steps(X_q, Q, K, V, S, scaled, weights, output, masked=masked, W=W)


def self_attention(X, W: Weights, scale: bool = True, *, mask=None, causal: bool = False) -> Steps:
    """Scaled dot-product self-attention of X with itself, every stage kept (see `attention` for the masks)."""
    return attention(X, None, W, scale=scale, mask=mask, causal=causal)


# ---- padding: sentences of different lengths in one batch ------------------

PAD = "[PAD]"


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
    sub = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
    batch = np.zeros((len(frames), n, widths.pop()))  # (b, n, d_model)
    labels = []
    for i, X in enumerate(frames):
        batch[i, : len(X)] = X.to_numpy()
        pads = [f"{PAD}{str(j + 1).translate(sub)}" for j in range(n - len(X))]
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
    _check_fits(batch.frame(0), W, "X")
    x = batch.X  # (b, n, d_model)
    q, k, v = x @ W.Wq, x @ W.Wk, x @ W.Wv  # (b, n, d_k), (b, n, d_k), (b, n, d_v)
    s = q @ k.transpose(0, 2, 1)  # (b, n, n)
    scaled = s / math.sqrt(W.d_k) if scale else s
    allowed = batch.key_padding_mask().to_numpy()[:, None, :]  # (b, 1, n): real keys
    if causal:
        allowed = allowed & np.tril(np.ones(s.shape[1:], dtype=bool))  # (b, n, n)
    masked = np.where(allowed, scaled, -np.inf)  # (b, n, n)
    w = _stable_softmax(masked)  # (b, n, n); no row is empty: every sentence has a first token
    out = w @ v  # (b, n, d_v)
    return tuple(_batch_steps(batch.frame(i), (q[i], k[i], v[i], s[i], scaled[i], masked[i], w[i], out[i]), W, scale)
                 for i in range(len(batch.valid_lens)))


def _batch_steps(X: pd.DataFrame, arrays, W: Weights, scale: bool) -> Steps:
    """One sentence's slices of the batch arrays, labelled and titled like `attention`'s stages."""
    q, k, v, s, scaled, masked, w, out = arrays
    base = "Q·Kᵀ/√d_k" if scale else "Q·Kᵀ"
    formulas = _formulas(scale, True)

    def square(a, stage, formula=None):  # (n, n): queries × keys
        return _tag(pd.DataFrame(a, index=X.index.rename("query"), columns=X.index.rename("key")), stage, formula)

    def tall(a, stage, prefix, formula=None):  # (n, d): one row per token
        return _tag(pd.DataFrame(a, index=X.index, columns=_labels(prefix, a.shape[1])), stage, formula)

    return Steps(
        X, tall(q, "Q", "q"), tall(k, "K", "k"), tall(v, "V", "v"),
        square(s, "scores"), square(scaled, "scaled", None if scale else "Q·Kᵀ (not scaled)"),
        square(w, "weights", formulas["weights"]), tall(out, "output", "z", formulas["output"]),
        masked=square(masked, "masked", base + " + M"), W=W,
    )


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


# ---- normalisation ----------------------------------------------------------


def layer_norm(X, eps: float = 1e-5) -> pd.DataFrame:
    """Each row rescaled to mean 0 and variance 1: (x − mean) / √(var + eps). (n, d) -> (n, d).

    LayerNorm without its learned scale and shift, as torch.nn.functional.layer_norm
    computes it (population variance). Real Transformers apply it before attention,
    which keeps the scores from saturating the softmax.
    """
    X = as_frame(X)
    x = X.to_numpy()
    mean = x.mean(axis=1, keepdims=True)  # (n, 1)
    var = x.var(axis=1, keepdims=True)  # (n, 1), ddof=0
    out = pd.DataFrame((x - mean) / np.sqrt(var + eps), index=X.index, columns=X.columns)
    out.attrs.update(X.attrs)
    return out


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
