"""How real systems compute the same numbers: online softmax, FlashAttention-style tiles, a KV cache.

Chapter 8 of the book. Nothing here is faster than attention.py (numpy on
small matrices shows the arithmetic, not the speed); what it shows is that
the numbers come out the same although no one ever holds the whole n × n
score matrix (tiles) or recomputes the past (the cache).

Online softmax of a row s split into blocks, keeping a running maximum m and
a running sum l = Σ exp(s_j − m) over the keys seen so far:

    m_new = max(m_old, max(block))                 running_max(m_old, block_max(block))
    c     = exp(m_old − m_new)                     rescale(m_old, m_new): shrink what was summed under the old max
    p     = exp(block − m_new)                     block_exp(block, m_new)
    l_new = c · l_old + Σ p                        running_sum(l_old, c, p)
    O_new = c · O_old + p · V_block                running_output(O_old, c, p, V_block)

and at the end softmax(s)_j = exp(s_j − m) / l, output = O / l.
Shapes: n tokens, d_k query/key width, d_v value width, b_q × b_k a tile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import checks
from .attention import Steps, Weights, fitted, project
from .masks import causal_mask

# ---- online softmax: each step one formula ----------------------------------


def block_max(s: np.ndarray) -> np.ndarray:
    """max over a block's keys (last axis): (..., b) -> (...). −∞ when every key of the block is blocked."""
    return s.max(axis=-1)


def running_max(m_old: np.ndarray, m_block: np.ndarray) -> np.ndarray:
    """m_new = max(m_old, max of the block): the largest score seen so far. (...)"""
    return np.maximum(m_old, m_block)


def rescale(m_old: np.ndarray, m_new: np.ndarray) -> np.ndarray:
    """c = exp(m_old − m_new) ≤ 1: what was summed as exp(s − m_old) becomes exp(s − m_new) when multiplied by c.

    1 when the maximum did not grow; 0 before anything was seen (m_old = −∞, nothing to rescale).
    """
    with np.errstate(invalid="ignore"):  # −∞ − (−∞) for a row that has seen only blocked keys: nothing to rescale
        c = np.exp(m_old - m_new)
    return np.where(np.isneginf(m_old), 0.0, c)


def block_exp(s: np.ndarray, m_new: np.ndarray) -> np.ndarray:
    """p = exp(s − m_new): every exponent ≤ 0, so it never overflows; a blocked key (−∞) gives 0. (..., b)"""
    shift = np.where(np.isneginf(m_new), 0.0, m_new)[..., None]  # a row with nothing visible yet: all p are 0
    return np.exp(s - shift)


def running_sum(l_old: np.ndarray, c: np.ndarray, p: np.ndarray) -> np.ndarray:
    """l_new = c · l_old + Σ p: the softmax's denominator, always under the current maximum. (...)"""
    return c * l_old + p.sum(axis=-1)


def running_output(O_old: np.ndarray, c: np.ndarray, p: np.ndarray, V_block: np.ndarray) -> np.ndarray:
    """O_new = c · O_old + p · V_block: the output before dividing by l. (b_q, d_v)"""
    return c[:, None] * O_old + p @ V_block


def blocks(n: int, size, name: str = "block") -> list[range]:
    """The positions 0..n−1 cut into consecutive blocks of `size` (the last one shorter when size does not divide n)."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number of tokens, got {size!r}")
    if not 1 <= size <= n:
        raise ValueError(f"{name} must be between 1 and {n} (the number of tokens), got {size}; "
                         f"{name}={n} makes a single block")
    return [range(start, min(start + int(size), n)) for start in range(0, n, int(size))]


@dataclass(frozen=True)
class OnlineStep:
    """One block of an online softmax: what came in, and m, l before and after."""

    keys: range  # the block's positions in the row
    scores: np.ndarray  # (b,) the block's scores
    m_block: float  # max of the block
    m_before: float
    m_after: float
    factor: float  # exp(m_before − m_after)
    l_before: float
    l_after: float


@dataclass(frozen=True)
class OnlineSoftmax:
    """A row's softmax computed block by block; `weights` equals softmax(row)."""

    steps: tuple[OnlineStep, ...]
    m: float  # the row's maximum
    l: float  # Σ exp(s_j − m)
    weights: pd.Series  # (n,) exp(s − m) / l, labelled like the row

    def table(self) -> pd.DataFrame:
        """One line per block: its keys, its max, m and l before and after, the rescaling factor."""
        return pd.DataFrame(
            {"键": [f"{s.keys.start + 1}–{s.keys.stop}" for s in self.steps],
             "块内最大": [s.m_block for s in self.steps],
             "m 之前": [s.m_before for s in self.steps], "m 之后": [s.m_after for s in self.steps],
             "缩放因子 exp(m旧−m新)": [s.factor for s in self.steps],
             "l 之前": [s.l_before for s in self.steps], "l 之后": [s.l_after for s in self.steps]},
            index=pd.RangeIndex(1, len(self.steps) + 1, name="块"))


def _row(row) -> pd.Series:
    """The row as a float64 Series, or an error a learner can act on."""
    if isinstance(row, pd.DataFrame):
        if len(row) != 1:
            raise ValueError(f"online_softmax takes one row, got a table of {len(row)} rows: pick one, e.g. S.iloc[0]")
        row = row.iloc[0]
    try:
        a = (row.to_numpy(dtype=np.float64) if isinstance(row, pd.Series) else np.asarray(row, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"online_softmax takes a row of numbers, got {type(row).__name__}") from None
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"online_softmax takes one non-empty row of scores, got shape {a.shape}")
    if np.isnan(a).any() or np.isposinf(a).any():
        raise ValueError("the row contains NaN or +∞: scores must be finite numbers (−∞ only for a blocked key)")
    if np.isneginf(a).all():
        raise ValueError("every score of the row is −∞ (all keys blocked): softmax would be 0/0")
    index = row.index if isinstance(row, pd.Series) else None
    return pd.Series(a, index=index, name=getattr(row, "name", None))


def online_softmax(row, block: int) -> OnlineSoftmax:
    """Softmax of one row of scores, reading `block` keys at a time and keeping only m and l in between.

    row: a 1-D array or a Series (e.g. one row of Steps.scaled). (n,) -> (n,)
    """
    s = _row(row)
    a = s.to_numpy()
    m, l, steps = np.float64(-np.inf), np.float64(0.0), []
    for keys in blocks(len(a), block):
        part = a[keys.start:keys.stop]
        m_new = running_max(m, block_max(part))
        c = rescale(m, m_new)
        l_new = running_sum(l, c, block_exp(part, m_new))
        steps.append(OnlineStep(keys, part.copy(), float(block_max(part)), float(m), float(m_new), float(c),
                                float(l), float(l_new)))
        m, l = m_new, l_new
    weights = pd.Series(block_exp(a, m) / l, index=s.index, name=s.name)
    return OnlineSoftmax(tuple(steps), float(m), float(l), weights)


# ---- tiles ------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    """One tile of the score matrix as the tiled loop meets it, with the state of its query rows before and after."""

    order: int  # 0, 1, ... in the order computed
    q_block: int
    k_block: int
    rows: range  # query positions
    cols: range  # key positions
    S: np.ndarray  # (b_q, b_k) the tile's scaled scores, −∞ where the causal mask blocks
    m_before: np.ndarray  # (b_q,)
    m_after: np.ndarray  # (b_q,)
    factor: np.ndarray  # (b_q,) exp(m_before − m_after)
    l_before: np.ndarray  # (b_q,)
    l_after: np.ndarray  # (b_q,)
    O_before: np.ndarray  # (b_q, d_v) unnormalised output
    O_after: np.ndarray  # (b_q, d_v)


@dataclass(frozen=True)
class TiledAttention:
    """Attention built tile by tile: the stages (as `Steps`), every tile's history, what was skipped."""

    # output = O / l; weights rebuilt from the final m, l (the loop never holds them); the cells of
    # skipped tiles are −∞ in every score stage, since they were never computed
    steps: Steps
    tiles: tuple[Tile, ...]  # in the order computed
    skipped: tuple[tuple[int, int], ...]  # (q_block, k_block) of tiles the causal mask blocks entirely
    block_q: int
    block_k: int
    causal: bool
    m: np.ndarray  # (n,) each query row's maximum
    l: np.ndarray  # (n,) each row's Σ exp(s − m)
    O: np.ndarray  # (n, d_v) unnormalised output
    multiply_adds: int  # in Q·Kᵀ and P·V over the tiles computed

    @property
    def grid(self) -> tuple[int, int]:
        """(query blocks, key blocks)."""
        return -(-len(self.m) // self.block_q), -(-len(self.m) // self.block_k)

    def rescales(self) -> list[float]:
        """The factor c = exp(m_old − m_new) of every row update that had scores summed before it, in tile order.

        1 where the row's maximum did not grow; a row's first visible block (m_old = −∞) has nothing to rescale.
        Chapter 8 §5 picks the tile widget's inputs so that some of these are visibly between 0 and 1.
        """
        return [float(c) for t in self.tiles for m0, c in zip(t.m_before, t.factor) if np.isfinite(m0)]

    def state_after(self, k: int) -> dict[str, np.ndarray]:
        """m, l and O of every query row after the first k tiles (k = 0: nothing seen: m = −∞, l = 0, O = 0)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= len(self.tiles):
            raise ValueError(f"k must be a whole number from 0 to {len(self.tiles)} (the tiles computed), got {k!r}")
        m, l, O = np.full_like(self.m, -np.inf), np.zeros_like(self.l), np.zeros_like(self.O)
        for t in self.tiles[:k]:
            m[t.rows.start:t.rows.stop], l[t.rows.start:t.rows.stop] = t.m_after, t.l_after
            O[t.rows.start:t.rows.stop] = t.O_after
        return {"m": m, "l": l, "O": O}


def _tagged(values: np.ndarray, index, columns, stage: str, formula: str, kind: str) -> pd.DataFrame:
    df = pd.DataFrame(values, index=index, columns=columns)
    df.attrs.update(stage=stage, formula=formula, kind=kind)
    return df


def tiled_attention(X, W: Weights, block_q: int = 2, block_k: int = 2, causal: bool = False) -> TiledAttention:
    """softmax(Q·Kᵀ/√d_k [+ M])·V built from b_q × b_k tiles, as FlashAttention-2 orders the loops.

    For each block of query rows (outer loop), walk the blocks of keys and
    values (inner loop), keeping per query row only m, l and the
    unnormalised output O; divide O by l at the end. With causal=True a tile
    whose every key comes after every query is skipped (`skipped`), and a
    tile on the diagonal gets −∞ where the mask blocks. Equal to
    ats.self_attention(X, W, causal=causal) up to rounding.
    """
    causal = checks.flag(causal, "causal")
    X = fitted(X, W)
    n = len(X)
    q_blocks, k_blocks = blocks(n, block_q, "block_q"), blocks(n, block_k, "block_k")
    Q, K, V = project(X, W.Wq, "Q"), project(X, W.Wk, "K"), project(X, W.Wv, "V")  # (n, d_k), (n, d_k), (n, d_v)
    q, k, v = Q.to_numpy(), K.to_numpy(), V.to_numpy()
    allowed = causal_mask(n).to_numpy() if causal else np.ones((n, n), dtype=bool)
    raw = np.full((n, n), -np.inf)  # only for showing the stages afterwards: the loop reads tiles, never this
    m, l, O = np.full(n, -np.inf), np.zeros(n), np.zeros((n, v.shape[1]))
    tiles, skipped, macs = [], [], 0
    for i, rows in enumerate(q_blocks):
        r = slice(rows.start, rows.stop)
        for j, cols in enumerate(k_blocks):
            c = slice(cols.start, cols.stop)
            if not allowed[r, c].any():  # every key after every query: nothing to add
                skipped.append((i, j))
                continue
            S_raw = q[r] @ k[c].T  # (b_q, b_k)
            raw[r, c] = S_raw
            S = np.where(allowed[r, c], S_raw / math.sqrt(W.d_k), -np.inf)
            m_new = running_max(m[r], block_max(S))
            factor = rescale(m[r], m_new)
            p = block_exp(S, m_new)  # (b_q, b_k)
            l_new = running_sum(l[r], factor, p)
            O_new = running_output(O[r], factor, p, v[c])  # (b_q, d_v)
            macs += S.size * (q.shape[1] + v.shape[1])
            tiles.append(Tile(len(tiles), i, j, rows, cols, S, m[r].copy(), m_new, factor, l[r].copy(), l_new,
                              O[r].copy(), O_new))
            m[r], l[r], O[r] = m_new, l_new, O_new
    keys_ix = Q.index.rename("query"), K.index.rename("key")
    scaled = raw / math.sqrt(W.d_k)  # a skipped tile's cells stay −∞: never computed
    masked_values = np.where(allowed, scaled, -np.inf)
    weights = block_exp(masked_values, m) / l[:, None]  # softmax rebuilt from the final m and l
    inner = "Q·Kᵀ/√d_k" + (" + M" if causal else "")
    steps = Steps(
        X, Q, K, V,
        _tagged(raw, *keys_ix, "scores", "Q·Kᵀ（按块）", "signed"),
        _tagged(scaled, *keys_ix, "scaled", "Q·Kᵀ/√d_k（按块）", "signed"),
        _tagged(weights, *keys_ix, "weights", f"exp({inner} − m) / l", "prob"),
        _tagged(O / l[:, None], Q.index, [f"z{j + 1}" for j in range(v.shape[1])], "output", "O / l", "signed"),
        masked=_tagged(masked_values, *keys_ix, "masked", "Q·Kᵀ/√d_k + M（按块）", "signed") if causal else None,
        W=W,
    )
    return TiledAttention(steps, tuple(tiles), tuple(skipped), int(block_q), int(block_k), causal,
                          m, l, O, macs)


# ---- decoding with a KV cache -----------------------------------------------


@dataclass(frozen=True)
class DecodeStep:
    """Token t arrives: one new row of K and V appended, one query row computed against the whole cache."""

    t: int  # 0-based position of the new token
    token: str
    q: np.ndarray  # (d_k,) the new token's query
    K: np.ndarray  # (t+1, d_k) the cache after appending
    V: np.ndarray  # (t+1, d_v)
    weights: np.ndarray  # (t+1,) softmax(q·Kᵀ/√d_k)
    output: np.ndarray  # (d_v,)
    multiply_adds: int  # this step's: the new token's q, k, v, then q·Kᵀ and weights·V


@dataclass(frozen=True)
class KVDecode:
    """Decoding token by token with a KV cache; `output` stacks the rows, equal to causal self-attention."""

    steps: tuple[DecodeStep, ...]
    output: pd.DataFrame  # (n, d_v)
    cache_numbers: int  # numbers the cache holds at the end: n·(d_k + d_v)

    @property
    def cache_bytes(self) -> int:
        """The cache's memory in float64 (8 bytes a number)."""
        return 8 * self.cache_numbers

    @property
    def multiply_adds(self) -> int:
        return sum(s.multiply_adds for s in self.steps)


def kv_cache_decode(X, W: Weights) -> KVDecode:
    """Tokens arrive one at a time; each step projects only the new token and attends with it over the cache.

    Step t appends k_t = x_t·Wk and v_t = x_t·Wv to the cache (K, V grow to
    t+1 rows) and computes one query row softmax(q_t·Kᵀ/√d_k)·V. Nothing of
    the past is recomputed; the rows stacked equal causal self-attention.
    """
    X = fitted(X, W)
    x = X.to_numpy()
    K, V, steps = np.zeros((0, W.d_k)), np.zeros((0, W.d_v)), []
    for t in range(len(x)):
        q = x[t] @ W.Wq  # (d_k,)
        K = np.vstack([K, x[t] @ W.Wk])  # (t+1, d_k): one row appended, the rest kept
        V = np.vstack([V, x[t] @ W.Wv])  # (t+1, d_v)
        s = (K @ q) / math.sqrt(W.d_k)  # (t+1,)
        p = block_exp(s, block_max(s))
        w = p / p.sum()
        macs = W.d_model * (2 * W.d_k + W.d_v) + (t + 1) * (W.d_k + W.d_v)
        steps.append(DecodeStep(t, str(X.index[t]), q, K.copy(), V.copy(), w, w @ V, macs))
    out = _tagged(np.array([s.output for s in steps]), X.index, [f"z{j + 1}" for j in range(W.d_v)],
                  "output", "逐个词用 KV 缓存算出的输出", "signed")
    return KVDecode(tuple(steps), out, len(x) * (W.d_k + W.d_v))


def decode_multiply_adds(n: int, d_model: int, d_k: int, d_v: int | None = None) -> dict[str, int]:
    """Multiply-adds to generate n tokens one at a time, with and without a KV cache (one head).

    without cache: at step t the whole prefix of t tokens is run again:
      projections t·d_model·(2d_k + d_v), scores and weights·V t²·(d_k + d_v).
    with cache: only the new token is projected, d_model·(2d_k + d_v), and
      one query row meets the t cached keys and values, t·(d_k + d_v).
    Summed over t = 1..n: roughly n³ against n² for the attention part.
    """
    d_v = d_k if d_v is None else d_v
    for name, value in (("n", n), ("d_model", d_model), ("d_k", d_k), ("d_v", d_v)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a whole number ≥ 1, got {value!r}")
    proj = d_model * (2 * d_k + d_v)
    ts = range(1, int(n) + 1)
    return {"without cache": sum(t * proj + t * t * (d_k + d_v) for t in ts),
            "with cache": sum(proj + t * (d_k + d_v) for t in ts)}
