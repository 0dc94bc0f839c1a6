"""The checks every module runs on what a reader passes in, each failing with a sentence they can act on.

One place, so that `d_k=0` is refused in the same words by init_weights,
train_head and explore, and a newcomer finds every rule of the inputs here.
Each check returns the value it accepted, converted (a numpy integer becomes int).
"""

from __future__ import annotations

import math

import numpy as np


def positive_int(value, name: str) -> int:
    """A whole number ≥ 1 (a bool is refused: True is not a size)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


def positive_number(value, name: str) -> float:
    """A finite number > 0, as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def positive(value, name: str, kind=int):
    """A number > 0 converted to `kind`; for kind=int it must also be whole (300.0 epochs is 300)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if kind is int and int(value) != value:
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return kind(value)


def seed(value, allow_none: bool = False):
    """A seed for np.random.default_rng: a whole number ≥ 0 (or None when allowed, for fresh draws)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"seed must be a whole number ≥ 0{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


def matrix(W, name: str) -> np.ndarray:
    """A non-empty, finite 2-D float64 matrix, copied and read-only (Weights must not change under us)."""
    try:
        values = np.array(W, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 2-D array of numbers, got {type(W).__name__}") from None
    if values.ndim != 2 or 0 in values.shape:
        raise ValueError(f"{name} must be a non-empty 2-D matrix, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or inf")
    values.setflags(write=False)
    return values


def text(value) -> str:
    """A sentence with at least one character that is not a space."""
    if not isinstance(value, str):
        raise TypeError(f"text must be a string (str), got {type(value).__name__}")
    if not value.strip():
        raise ValueError("text is empty: give at least one Chinese word, e.g. '我喜欢的水果是橙子和苹果'")
    return value


def dim(value, width: int) -> int:
    """How many numbers of each word vector to keep: 1 to `width`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"dim must be a whole number, got {value!r}")
    if not 1 <= value <= width:
        raise ValueError(f"dim must be between 1 and {width} (the width of each token's vector), got {value}")
    return int(value)


def mask(M, S) -> np.ndarray:
    """M as a boolean array shaped like the scores S (n, m), or a ValueError that says what is wrong with it.

    M: True where a query may attend to a key; an array, or a DataFrame labelled like S.
    """
    import pandas as pd

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


def words(value) -> list[str]:
    """A list of words for embed(..., context=False) and friends: non-empty strings with no whitespace."""
    value = list(value)
    if not value:
        raise ValueError("the list of words is empty: give at least one word")
    for w in value:
        if not isinstance(w, str):
            raise TypeError(f"every word must be a string (str), got {type(w).__name__}")
        if not w or w != w.strip() or any(c.isspace() for c in w):
            raise ValueError(f"a word must be non-empty and contain no whitespace, got {w!r}")
    return value


def flag(value, name: str) -> bool:
    """True or False, and nothing that merely looks like one (1, "yes", None)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value
