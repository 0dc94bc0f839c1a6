"""The poet's network on plain arrays: GPT-2's layout as nanoGPT's model.py writes it, one short function per part.

token and position embeddings → n_layer × block → final LayerNorm → logits
(the output matrix tied to the token embedding). A block is written once:

    block(x, p, i, attend, knock)  =  x + c_proj(knocked(attend(LN₁(x))))  then  + MLP(LN₂(x))

`attend` is the attention path, a parameter: every head of a batch at once
(`all_heads`, for the loss and the head scores), each head as the book's
`Steps` (attn_steps.poet.Poet.run builds that path from `self_attention`), or
one new token over each head's cached K and V (`Cache`, for generation). Each
path returns every head's output before c_proj, shape (…, n_head, head_size),
so a knock-out (chapter 9: remove a head, see what the model loses) touches
one place, `knocked`, whatever the path.

Parameters are a dict under nanoGPT's names (`transformer.h.0.attn.c_attn.weight`,
stored (out, in) as torch.nn.Linear), float64. attn_steps.poet.Poet holds them.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from threadpoolctl import threadpool_limits

from .attention import Weights, stable_softmax
from .layers import normalise


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)), as torch.nn.GELU(); math.erf element by element (numpy has no erf)."""
    erf = np.fromiter(map(math.erf, (x / math.sqrt(2)).ravel().tolist()), dtype=np.float64, count=x.size)
    return 0.5 * x * (1.0 + erf.reshape(x.shape))


def linear(x: np.ndarray, p: dict, name: str) -> np.ndarray:
    """x·Wᵀ + b with W stored (out, in), as torch.nn.Linear. (..., in) -> (..., out).

    The rows are flattened into one matrix first: numpy multiplies a stack of
    matrices one by one, about eight times slower here than one product.
    """
    W = p[name + ".weight"]
    return (x.reshape(-1, x.shape[-1]) @ W.T).reshape(*x.shape[:-1], W.shape[0]) + p[name + ".bias"]


def mlp(x: np.ndarray, p: dict, prefix: str) -> np.ndarray:
    """(…, C) → (…, 4C) → GELU → (…, C)."""
    return linear(gelu(linear(x, p, prefix + ".mlp.c_fc")), p, prefix + ".mlp.c_proj")


def ln(x: np.ndarray, p: dict, name: str, eps: float = 1e-5) -> np.ndarray:
    """The LayerNorm stored under name: ats.layer_norm's (x − mean)/√(var + eps) along the last axis (layers.normalise),
    then its learned gain (name.weight) and bias (name.bias). (..., C). One name per thing: ats.layer_norm is the
    book's, without gain and bias; this is the model's, named as nanoGPT's model.py names its modules' forward."""
    return normalise(x, eps) * p[name + ".weight"] + p[name + ".bias"]


def qkv(h: np.ndarray, p: dict, i: int, n_head: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Layer i's q, k, v of every head: (…, C) → three (…, n_head, head_size)."""
    q, k, v = np.split(linear(h, p, f"transformer.h.{i}.attn.c_attn"), 3, axis=-1)
    return tuple(a.reshape(*a.shape[:-1], n_head, a.shape[-1] // n_head) for a in (q, k, v))


def one_blas_thread(method):
    """Run method with one BLAS thread: the model's matrices are small, and on two shared cores OpenBLAS's threads
    waited on each other (measured side by side: writing 30 poems 1.2 s on one thread, 8–13 s on two)."""

    @functools.wraps(method)
    def wrapped(*args, **kwargs):
        with threadpool_limits(1, user_api="blas"):
            return method(*args, **kwargs)

    return wrapped


# ---- the attention paths: LN₁(x) of layer i → (each head's output (…, nh, hs), what the path records) ----


def all_heads(p: dict, n_head: int):
    """Causal attention of a batch, every head at once: (B, T, C) → outputs (B, T, nh, hs) and weights (B, nh, T, T)."""

    def attend(h: np.ndarray, i: int):
        T = h.shape[1]
        q, k, v = (a.transpose(0, 2, 1, 3) for a in qkv(h, p, i, n_head))  # (B, nh, T, hs)
        att = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1])  # (B, nh, T, T)
        w = stable_softmax(np.where(np.tril(np.ones((T, T), dtype=bool)), att, -np.inf))
        return (w @ v).transpose(0, 2, 1, 3), w  # (B, T, nh, hs): heads side by side again

    return attend


class Cache:
    """Each layer's K and V rows so far, (B, nh, t, hs): `attend` runs only the new token (chapter 8's KV cache)."""

    def __init__(self, p: dict, n_layer: int, n_head: int, batch: int = 1):
        hs = p["transformer.wpe.weight"].shape[1] // n_head
        self.p, self.n_head = p, n_head
        self.K = [np.zeros((batch, n_head, 0, hs)) for _ in range(n_layer)]
        self.V = [np.zeros((batch, n_head, 0, hs)) for _ in range(n_layer)]

    @property
    def length(self) -> int:
        return self.K[0].shape[2]

    def attend(self, h: np.ndarray, i: int):
        """h (B, C) of the new token → outputs (B, nh, hs) and its weights over the cache (B, nh, t + 1)."""
        q, k, v = qkv(h, self.p, i, self.n_head)  # (B, nh, hs)
        self.K[i] = np.concatenate([self.K[i], k[:, :, None]], axis=2)  # one row appended per head
        self.V[i] = np.concatenate([self.V[i], v[:, :, None]], axis=2)
        w = stable_softmax(q[:, :, None] @ self.K[i].transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1]))  # (B, nh, 1, t + 1)
        return (w @ self.V[i])[:, :, 0], w[:, :, 0]


# ---- one block, whatever the path ------------------------------------------------


def knocked(y: np.ndarray, i: int, knock: dict | None) -> np.ndarray:
    """y (…, nh, hs) with the heads that knock removes from layer i replaced: knock = {layer: {head: (hs,) vector}}."""
    gone = (knock or {}).get(i)
    if not gone:
        return y
    y = y.copy()
    for head, value in gone.items():
        y[..., head, :] = value  # the same vector at every position: the head's mean output, or zeros
    return y


def block(x: np.ndarray, p: dict, i: int, attend, knock: dict | None = None):
    """x + attention(LN₁(x)) (heads through c_proj, the knocked ones replaced), then + MLP(LN₂(x)); and what attend recorded."""
    pre = f"transformer.h.{i}"
    y, seen = attend(ln(x, p, pre + ".ln_1"), i)  # (…, nh, hs)
    y = knocked(y, i, knock)
    x = x + linear(y.reshape(*y.shape[:-2], -1), p, pre + ".attn.c_proj")
    return x + mlp(ln(x, p, pre + ".ln_2"), p, pre), seen


def embed(ids: np.ndarray, p: dict, start: int = 0) -> np.ndarray:
    """Token plus position embedding of ids (..., T) at positions start, start + 1, ...: (..., T, C)."""
    T = ids.shape[-1]
    return p["transformer.wte.weight"][ids] + p["transformer.wpe.weight"][start:start + T]


def logits_of(x: np.ndarray, p: dict) -> np.ndarray:
    """The final LayerNorm, then the tied output matrix: (…, C) → (…, vocab). Rows flattened as in `linear`."""
    x = ln(x, p, "transformer.ln_f")
    wte = p["transformer.wte.weight"]
    return (x.reshape(-1, x.shape[-1]) @ wte.T).reshape(*x.shape[:-1], wte.shape[0])


def model(ids: np.ndarray, p: dict, n_layer: int, n_head: int, logits: bool = True,
          knock: dict | None = None, attend=None) -> tuple[np.ndarray | None, list]:
    """Logits (B, T, vocab) of a batch of id rows (None when logits=False), and every layer's weights (B, nh, T, T).

    attend: the attention path (default `all_heads`; a caller may wrap it to record the heads' outputs).
    """
    attend = attend or all_heads(p, n_head)
    x = embed(ids, p)  # (B, T, C)
    weights = []
    for i in range(n_layer):
        if not logits and i == n_layer - 1:  # the last layer's output only feeds the logits: its weights are all we need
            weights.append(attend(ln(x, p, f"transformer.h.{i}.ln_1"), i)[1])
            break
        x, w = block(x, p, i, attend, knock)
        weights.append(w)
    return (logits_of(x, p) if logits else None), weights


def head_weights(p: dict, layer: int, head: int, n_head: int) -> Weights:
    """Wq, Wk, Wv of one head as ats.Weights, each (C + 1) × head_size.

    The bias is the weight of a constant 1: c_attn's bias becomes an extra
    last row, and the head's input gets a last column of ones, so
    [x, 1]·[[W], [b]] = x·W + b and the head is exactly the book's Steps.
    """
    W = p[f"transformer.h.{layer}.attn.c_attn.weight"]  # (3C, C), rows q, k, v, each head_size rows per head
    b = p[f"transformer.h.{layer}.attn.c_attn.bias"]  # (3C,)
    C = W.shape[1]
    hs = C // n_head
    rows = [slice(part * C + head * hs, part * C + (head + 1) * hs) for part in range(3)]
    return Weights(*(np.vstack([W[r].T, b[r][None, :]]) for r in rows))
