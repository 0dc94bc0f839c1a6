"""Scaled dot-product attention of one sequence, one stage per function, and their composition.

    Attention(Q, K, V) = softmax(Q·Kᵀ / √d_k) · V

Every stage takes and returns pandas DataFrames labeled by token, so a reader
can always tell which row is 我 and which column is 苹果. Shapes use
n (query tokens), m (key/value tokens), d_model (input width), d_k (query/key
width), d_v (value width). All arithmetic is float64. Each stage's formula,
colour kind and caption live in `stages.STAGES`; padded batches and masks are
in `masks`, several heads in `multi_head`.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from . import checks
from .stages import formula, with_stage


def column_labels(prefix: str, n: int) -> list[str]:
    """Column labels q1, q2, ... for an n-wide stage."""
    return [f"{prefix}{j + 1}" for j in range(n)]


def stable_softmax(a: np.ndarray) -> np.ndarray:
    """Softmax along the last axis of any array; subtracting the max keeps every exponent ≤ 0.

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
    return with_stage(out, "X")


@dataclass(frozen=True)
class Weights:
    """The three projection matrices: Wq, Wk (d_model × d_k) and Wv (d_model × d_v)."""

    Wq: np.ndarray
    Wk: np.ndarray
    Wv: np.ndarray

    def __post_init__(self):
        for f in fields(self):
            object.__setattr__(self, f.name, checks.matrix(getattr(self, f.name), f.name))
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
            df = pd.DataFrame(W, columns=column_labels(prefix, W.shape[1]))
            df.attrs.update(stage=name, formula=name, kind="signed")
            out[name] = df
        return out


def init_weights(
    d_model: int = 10, d_k: int = 6, seed: int | None = 0, d_v: int | None = None, std: float = 1.0
) -> Weights:
    """Normal random Wq, Wk (d_model × d_k) and Wv (d_model × d_v, default d_k).

    std=1 is the source blog's standard normal; real models start smaller
    (about 1/√d_model), which keeps early scores from saturating the softmax.
    The same seed gives the same matrices on every machine; seed=None draws
    fresh ones each call, as the source blog did.
    """
    d_model = checks.positive_int(d_model, "d_model")
    d_k = checks.positive_int(d_k, "d_k")
    d_v = d_k if d_v is None else checks.positive_int(d_v, "d_v")
    seed = checks.seed(seed, allow_none=True)
    std = checks.positive_number(std, "std")
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
    return with_stage(pd.DataFrame(values, index=X.index, columns=column_labels(prefix, W.shape[1])), stage)


def scores(Q: pd.DataFrame, K: pd.DataFrame) -> pd.DataFrame:
    """Raw scores Q·Kᵀ: (n, d_k) @ (d_k, m) -> (n, m); row = query, column = key."""
    values = Q.to_numpy() @ K.to_numpy().T
    S = pd.DataFrame(values, index=Q.index.rename("query"), columns=K.index.rename("key"))
    return with_stage(S, "scores")


def scale(S: pd.DataFrame, d_k: int, temperature: float = 1.0) -> pd.DataFrame:
    """Q·Kᵀ / √d_k: keeps the scores' spread near 1 whatever d_k is. (n, m) -> (n, m).

    A temperature τ divides once more (Q·Kᵀ/√d_k/τ): τ > 1 flattens the
    softmax, τ < 1 sharpens it. The explorer lets a reader turn it.
    """
    title = formula("scaled", temperature=temperature)
    return with_stage(pd.DataFrame(S.to_numpy() / math.sqrt(d_k) / temperature, index=S.index, columns=S.columns),
                      "scaled", title)


def mask(S: pd.DataFrame, M) -> pd.DataFrame:
    """S + M: a blocked score becomes −∞, which the softmax turns into weight 0. (n, m) -> (n, m).

    M is a boolean table shaped like S, True where a query may attend to a key
    (an array, or a DataFrame labelled like S); as a number it is 0 where True
    and −∞ where False. Blocking comes before the softmax: exp(−∞) = 0, so each
    row's weights still sum to 1 over the keys it may see.
    """
    allowed = checks.mask(M, S)
    values = np.where(allowed, S.to_numpy(), -np.inf)
    title = formula("masked", scale=S.attrs.get("stage") != "scores")  # raw scores may be masked unscaled
    return with_stage(pd.DataFrame(values, index=S.index, columns=S.columns), "masked", title)


def softmax(S: pd.DataFrame) -> pd.DataFrame:
    """Row-wise softmax, stable: exp(s - max(s)) never overflows. (n, m) -> (n, m).

    Subtracting the row's maximum changes nothing mathematically (it cancels
    in the ratio) but keeps every exponent ≤ 0, so scores of 1e6 still give
    finite weights that sum to 1. A blocked score (−∞) gets weight exactly 0.
    """
    values = S.to_numpy(dtype=np.float64)
    try:
        weights = stable_softmax(values)
    except ValueError:
        row = S.index[np.argmax(np.isneginf(values.max(axis=1)))]
        raise ValueError(f"every score of the row {row!r} is −∞ (all keys blocked): "
                         "there is no distribution to take, softmax would be 0/0") from None
    return with_stage(pd.DataFrame(weights, index=S.index, columns=S.columns), "weights")


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
    return with_stage(out, "weights")


def attend(weights: pd.DataFrame, V: pd.DataFrame) -> pd.DataFrame:
    """Output = weights · V: (n, m) @ (m, d_v) -> (n, d_v); each row a weighted mix of V's rows."""
    values = weights.to_numpy() @ V.to_numpy()
    return with_stage(pd.DataFrame(values, index=weights.index, columns=column_labels("z", V.shape[1])), "output")


# ---- composing them ---------------------------------------------------------


@dataclass(frozen=True)
class Steps:
    """Every intermediate of one attention pass, each a labeled DataFrame, and the options that made them.

    The stages are titled from those options (see `stages.formula`), so a
    Steps made by `attention`, `batch_attention` or by hand reads the same.
    """

    X: pd.DataFrame  # (n, d_model) the queries' input
    Q: pd.DataFrame  # (n, d_k)
    K: pd.DataFrame  # (m, d_k)
    V: pd.DataFrame  # (m, d_v)
    scores: pd.DataFrame  # (n, m)
    scaled: pd.DataFrame  # (n, m), equal to scores when scale=False and temperature=1
    weights: pd.DataFrame  # (n, m), rows sum to 1
    output: pd.DataFrame  # (n, d_v)
    masked: pd.DataFrame | None = None  # (n, m) scaled with −∞ where blocked; None when nothing is masked
    W: Weights | None = None  # the weights that produced these stages
    scale: bool = True  # whether the scores were divided by √d_k
    temperature: float = 1.0  # the softmax temperature τ the scaled scores were divided by
    mask: pd.DataFrame | None = None  # (n, m) booleans, True = may attend; None when nothing is masked

    def __post_init__(self):
        options = dict(scale=self.scale, temperature=self.temperature, masked=self.masked is not None)
        for name in ("scaled", "masked", "weights", "output"):
            if getattr(self, name) is not None:
                getattr(self, name).attrs["formula"] = formula(name, **options)

    def stages(self) -> dict[str, pd.DataFrame]:
        """The stages in reading order, by name (masked, when present, between scaled and weights)."""
        names = ["X", "Q", "K", "V", "scores", "scaled", "masked", "weights", "output"]
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def to_csv(self, folder, *, overwrite: bool = False) -> list:
        """Every stage's numbers as a labelled CSV in folder (X.csv ... output.csv, and Wq/Wk/Wv): figures to take away.

        Written whole or not at all; see `steps_to_csv`. Returns the paths, in reading order.
        """
        return steps_to_csv(self, folder, overwrite=overwrite)


def steps_to_csv(steps, folder, *, overwrite: bool = False) -> list[Path]:
    """One CSV per stage of `steps` (X.csv, Q.csv, ..., weights.csv, output.csv) in `folder`, with labels.

    Rows and columns keep the stage's labels (token names, q0.., k0..); blocked
    cells of a masked stage are written as -inf. The weights Wq, Wk, Wv go
    along when steps knows them. The folder appears whole or not at all: the
    files are written to a temporary folder beside it, which is then renamed.
    Returns the paths written, in reading order.
    """
    stages = getattr(steps, "stages", None)
    if not callable(stages):
        raise TypeError(f"steps_to_csv takes the stages of one attention pass (ats.Steps), got {type(steps).__name__}")
    frames = dict(stages())
    if getattr(steps, "W", None) is not None:
        frames.update(steps.W.frames())
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file; give a folder for the CSV files")
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise FileExistsError(f"{folder} already holds files; choose a new folder or pass overwrite=True")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for name, frame in frames.items():
            frame.to_csv(staging / f"{name}.csv", encoding="utf-8")
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}-old-", dir=folder.parent))
            os.replace(folder, old / folder.name)
            os.replace(staging, folder)
            shutil.rmtree(old)
        else:
            os.replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return [folder / f"{name}.csv" for name in frames]


def fitted(X, W: Weights, name: str = "X") -> pd.DataFrame:
    """X as a frame (`as_frame`) after checking that W is ats.Weights and fits X's width."""
    if not isinstance(W, Weights):
        raise TypeError(f"W must be ats.Weights (see ats.init_weights), got {type(W).__name__}")
    X = as_frame(X, name)
    check_fits(X, W, name)
    return X


def check_fits(X: pd.DataFrame, W: Weights, name: str) -> None:
    """A ValueError naming the d_model to use when X's width is not W's."""
    if X.shape[1] != W.d_model:
        raise ValueError(
            f"the weights do not fit {name}: {name} is {X.shape[0]}×{X.shape[1]} "
            f"({X.shape[1]} features per token) but Wq is {W.d_model}×{W.d_k} "
            f"(it expects {W.d_model}); use d_model={X.shape[1]}"
        )


def attention(X_q, X_kv, W: Weights, scale: bool = True, *, mask=None, causal: bool = False,
              temperature: float = 1.0) -> Steps:
    """Queries from X_q, keys and values from X_kv: cross-attention (self when they are the same).

    mask: booleans (n × m, True = may attend) blocking some query-key pairs;
    causal=True blocks every key after the query (a decoder's triangle).
    Either adds the `masked` stage between the scaled scores and the softmax.
    temperature τ divides the scaled scores once more (as the explorer's control does).
    """
    temperature = checks.positive_number(temperature, "temperature")
    if not isinstance(W, Weights):
        raise TypeError(f"W must be ats.Weights (see ats.init_weights), got {type(W).__name__}")
    X_q = as_frame(X_q, "X")
    X_kv = X_q if X_kv is None else as_frame(X_kv, "X_kv")
    check_fits(X_q, W, "X")
    check_fits(X_kv, W, "X_kv")
    if causal and len(X_q) != len(X_kv):
        raise ValueError(
            f"causal=True needs as many queries as keys (one sequence attending to its own past), got "
            f"{len(X_q)} queries and {len(X_kv)} keys; for cross-attention pass mask= instead"
        )
    allowed = None
    if causal or mask is not None:
        allowed = np.ones((len(X_q), len(X_kv)), dtype=bool)
        if mask is not None:
            allowed = checks.mask(mask, pd.DataFrame(allowed, index=X_q.index, columns=X_kv.index))
        if causal:
            allowed = allowed & np.tril(np.ones(allowed.shape, dtype=bool))  # query i sees keys 1..i
        allowed = pd.DataFrame(allowed, index=X_q.index.rename("query"), columns=X_kv.index.rename("key"))
    return _run_stages(X_q, X_kv, W, allowed, by_sqrt_d_k=scale, temperature=temperature)


def _run_stages(X_q, X_kv, W: Weights, allowed: pd.DataFrame | None, by_sqrt_d_k: bool, temperature: float) -> Steps:
    """The stages in order, on checked inputs: apart from `attention`, whose arguments `scale` and `mask`
    would hide the stage functions of those names."""
    Q = project(X_q, W.Wq, "Q")  # (n, d_k)
    K = project(X_kv, W.Wk, "K")  # (m, d_k)
    V = project(X_kv, W.Wv, "V")  # (m, d_v)
    S = scores(Q, K)  # (n, m)
    # Unscaled, the scores are divided by √1: the values stay those of S.
    scaled = scale(S, W.d_k if by_sqrt_d_k else 1, temperature)  # (n, m)
    masked = None if allowed is None else mask(scaled, allowed)  # (n, m), −∞ where blocked
    weights = softmax(scaled if masked is None else masked)  # (n, m)
    output = attend(weights, V)  # (n, d_v)
    return Steps(X_q, Q, K, V, S, scaled, weights, output, masked=masked, W=W, mask=allowed,
                 scale=by_sqrt_d_k, temperature=temperature)


def self_attention(X, W: Weights, scale: bool = True, *, mask=None, causal: bool = False,
                   temperature: float = 1.0) -> Steps:
    """Scaled dot-product self-attention of X with itself, every stage kept (see `attention` for the options)."""
    return attention(X, None, W, scale=scale, mask=mask, causal=causal, temperature=temperature)
