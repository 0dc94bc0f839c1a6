"""The poet: a small character GPT trained on Tang regular verse, run in numpy from the book's own stages.

    poet = ats.load_poet()
    run = poet.run("床前明月光，疑是地上霜。")
    run.heads[0][1]            # ats.Steps of layer 0, head 1: X, Q, K, V, scores, scaled, masked, weights, output
    poet.generate("床前", seed=0)

The model is GPT-2's layout, as nanoGPT's model.py writes it, with its
parameter names: token and position embeddings, n_layer blocks of
[LayerNorm → causal multi-head attention → + residual → LayerNorm → MLP →
+ residual], a final LayerNorm, and the output matrix tied to the token
embedding. `run` computes every head with `self_attention(..., causal=True)`
(chapters 2 and 7), so each head is a `Steps` the chapters' plots read. `loss`,
`generate` and `head_roles` use the same arithmetic on plain arrays, all heads at
once (a test checks the two agree); `generate` keeps a KV cache per layer and
head, as chapter 8's `kv_cache_decode` does for one head.

Weights: attn_steps/data/poet/weights.npz, written by tools/train_poet.py and
read by attn_steps.poet_weights (int8 rows with a scale each, or float16, per
matrix; vectors float32). Here everything is float64.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from . import checks
from .attention import Steps, Weights, self_attention, stable_softmax
from .embeddings import unique_labels
from .layers import normalise
from .poet_weights import TIED, read_weights

DATA = Path(__file__).parent / "data" / "poet"
PAD, START, END, UNK = 0, 1, 2, 3
NEVER_SAMPLED = (PAD, START, UNK)


@dataclass(frozen=True)
class PoetConfig:
    """The model's sizes, as nanoGPT's GPTConfig names them (biases on, no dropout)."""

    n_layer: int
    n_head: int
    n_embd: int
    block_size: int  # the longest input: <s> + 64 characters
    vocab_size: int  # 4 special tokens + the characters

    @property
    def head_size(self) -> int:
        return self.n_embd // self.n_head


# ---- the parts, on arrays (one short function each, as nanoGPT's classes) ----


def layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """ats.layer_norm's (x − mean)/√(var + eps) along the last axis, then the learned gain and bias. (..., C)."""
    return normalise(x, eps) * gain + bias


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


def attention(x: np.ndarray, p: dict, prefix: str, n_head: int) -> tuple[np.ndarray, np.ndarray]:
    """Causal multi-head self-attention of a batch, all heads at once: (B, T, C) → (B, T, C) and weights (B, nh, T, T)."""
    B, T, C = x.shape
    hs = C // n_head
    q, k, v = np.split(linear(x, p, prefix + ".attn.c_attn"), 3, axis=-1)  # (B, T, C) each
    q, k, v = (a.reshape(B, T, n_head, hs).transpose(0, 2, 1, 3) for a in (q, k, v))  # (B, nh, T, hs)
    att = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hs)  # (B, nh, T, T)
    att = np.where(np.tril(np.ones((T, T), dtype=bool)), att, -np.inf)
    w = stable_softmax(att)  # (B, nh, T, T)
    y = (w @ v).transpose(0, 2, 1, 3).reshape(B, T, C)  # heads side by side again
    return linear(y, p, prefix + ".attn.c_proj"), w


def block(x: np.ndarray, p: dict, i: int, n_head: int) -> tuple[np.ndarray, np.ndarray]:
    """x + attention(LN₁(x)), then + MLP(LN₂(x)); returns the new x and the attention weights."""
    pre = f"transformer.h.{i}"
    a, w = attention(layer_norm(x, p[pre + ".ln_1.weight"], p[pre + ".ln_1.bias"]), p, pre, n_head)
    x = x + a
    return x + mlp(layer_norm(x, p[pre + ".ln_2.weight"], p[pre + ".ln_2.bias"]), p, pre), w


def model(ids: np.ndarray, p: dict, config: PoetConfig, logits: bool = True) -> tuple[np.ndarray | None, list]:
    """Logits (B, T, vocab) of a batch of id rows (None when logits=False), and every layer's weights (B, nh, T, T)."""
    T = ids.shape[1]
    x = p["transformer.wte.weight"][ids] + p["transformer.wpe.weight"][:T]  # (B, T, C)
    weights = []
    for i in range(config.n_layer):
        if not logits and i == config.n_layer - 1:  # the last MLP only feeds the logits: skip it
            pre = f"transformer.h.{i}"
            weights.append(attention(layer_norm(x, p[pre + ".ln_1.weight"], p[pre + ".ln_1.bias"]), p, pre,
                                     config.n_head)[1])
            break
        x, w = block(x, p, i, config.n_head)
        weights.append(w)
    if not logits:
        return None, weights
    x = layer_norm(x, p["transformer.ln_f.weight"], p["transformer.ln_f.bias"])
    wte = p["transformer.wte.weight"]  # tied output matrix; rows flattened as in `linear`
    return (x.reshape(-1, x.shape[-1]) @ wte.T).reshape(*x.shape[:-1], wte.shape[0]), weights


def head_weights(p: dict, layer: int, head: int, config: PoetConfig) -> Weights:
    """Wq, Wk, Wv of one head as ats.Weights, each (C + 1) × head_size.

    The bias is the weight of a constant 1: c_attn's bias becomes an extra
    last row, and the head's input gets a last column of ones, so
    [x, 1]·[[W], [b]] = x·W + b and the head is exactly the book's Steps.
    """
    C, hs = config.n_embd, config.head_size
    W = p[f"transformer.h.{layer}.attn.c_attn.weight"]  # (3C, C), rows q, k, v, each head_size rows per head
    b = p[f"transformer.h.{layer}.attn.c_attn.bias"]  # (3C,)
    rows = [slice(part * C + head * hs, part * C + (head + 1) * hs) for part in range(3)]
    return Weights(*(np.vstack([W[r].T, b[r][None, :]]) for r in rows))


# ---- sampling: a generator JavaScript can repeat ------------------------------


def mulberry32(seed: int):
    """Tommy Ettinger's mulberry32: 32-bit state, floats in [0, 1) with 32 random bits, as in JS:

        a = a + 0x6D2B79F5 | 0; t = Math.imul(a ^ a >>> 15, 1 | a);
        t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t; return ((t ^ t >>> 14) >>> 0) / 4294967296;
    """
    M = 0xFFFFFFFF
    a = seed & M
    while True:
        a = (a + 0x6D2B79F5) & M
        t = ((a ^ (a >> 15)) * (a | 1)) & M
        t = ((t + (((t ^ (t >> 7)) * (t | 61)) & M)) & M) ^ t
        yield ((t ^ (t >> 14)) & M) / 4294967296


def draw(logits: np.ndarray, u: float, temperature: float, top_k: int | None) -> int:
    """One id from logits: special tokens masked, divided by the temperature, the top_k largest kept (ties: the lower id),
    softmax in float64, then the first id (in id order) whose running sum of exp exceeds u · total (inverse CDF)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z[list(NEVER_SAMPLED)] = -np.inf
    order = np.lexsort((np.arange(len(z)), -z))  # by value descending, then id ascending
    keep = np.sort(order[:top_k] if top_k else order)
    keep = keep[np.isfinite(z[keep])]
    e = np.exp(z[keep] - z[keep].max())
    running = np.cumsum(e)  # left to right, as a JS loop adds
    return int(keep[min(np.searchsorted(running, u * running[-1], side="right"), len(keep) - 1)])


# ---- the model a reader holds ---------------------------------------------------


@dataclass(frozen=True)
class PoetRun:
    """One text through the model: every head's stages and the next-character probabilities."""

    text: str
    labels: list  # row labels: <s> and the characters, repeats numbered (月₁, 月₂)
    heads: tuple  # heads[layer][head]: ats.Steps
    next_char: pd.DataFrame  # (positions, vocabulary): P(next token | text up to this row)


class Poet:
    """The trained model (see `load_poet`): encode, run, loss, generate, state_dict."""

    def __init__(self, config: PoetConfig, vocab: list[str], params: dict[str, np.ndarray], info: dict | None = None):
        self.config = config
        self.vocab = list(vocab)
        self.info = dict(info or {})
        self._params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items() if k != TIED}
        self._index = {t: i for i, t in enumerate(self.vocab) if i > UNK}

    def __repr__(self):
        c = self.config
        return f"Poet({c.n_layer} layers × {c.n_head} heads × {c.n_embd}, {self.n_params():,} parameters)"

    def n_params(self) -> int:
        return sum(v.size for v in self._params.values())

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter under nanoGPT's names and shapes, lm_head.weight (tied to wte) included."""
        out = {k: v.copy() for k, v in self._params.items()}
        out[TIED] = out["transformer.wte.weight"].copy()
        return out

    def untrained(self, seed: int = 0) -> "Poet":
        """The same architecture before training: matrices N(0, 0.02) (c_proj 0.02/√(2·n_layer)), biases 0, LayerNorm 1 and 0."""
        rng = np.random.default_rng(checks.seed(seed))
        params = {}
        for name, v in self._params.items():
            if name.endswith(".ln_1.weight") or name.endswith(".ln_2.weight") or name == "transformer.ln_f.weight":
                params[name] = np.ones_like(v)
            elif v.ndim == 1:
                params[name] = np.zeros_like(v)
            else:
                std = 0.02 / math.sqrt(2 * self.config.n_layer) if name.endswith("c_proj.weight") else 0.02
                params[name] = std * rng.standard_normal(v.shape)
        return Poet(self.config, self.vocab, params, {"untrained_seed": seed})

    # -- text in ---------------------------------------------------------------

    def encode(self, text: str, errors: str = "warn") -> list[int]:
        """[<s>] + one id per character. A character outside the vocabulary becomes <unk> (id 3);
        errors="warn" (default) names those characters in a UserWarning, "raise" refuses them, "ignore" says nothing."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a string (str), got {type(text).__name__}")
        if errors not in ("warn", "raise", "ignore"):
            raise ValueError(f'errors must be "warn", "raise" or "ignore", got {errors!r}')
        ids = [START] + [self._index.get(c, UNK) for c in text]
        unknown = sorted({c for c in text if c not in self._index}, key=text.index)
        if unknown and errors != "ignore":
            msg = (f"{len(unknown)} character(s) of the text are not among the model's {self.config.vocab_size - 4} "
                   f"characters and are read as <unk>: {' '.join(map(repr, unknown))}")
            if errors == "raise":
                raise ValueError(msg)
            warnings.warn(msg, UserWarning, stacklevel=3)
        return ids

    def _text(self, text, what: str, allow_empty: bool = False, room: int = 0) -> list[int]:
        """A checked text's ids: a non-empty string that fits the context with `room` tokens to spare."""
        if not isinstance(text, str):
            raise TypeError(f"{what} must be a string (str), got {type(text).__name__}")
        if not text and not allow_empty:
            raise ValueError(f"{what} is empty: give at least one character, e.g. '床前明月光，疑是地上霜。'")
        most = self.config.block_size - 1 - room
        if len(text) > most:
            raise ValueError(f"{what} has {len(text)} characters but at most {most} fit the model's context of "
                             f"{self.config.block_size} tokens (<s> + {most} characters{' + one to write' if room else ''}): "
                             "shorten it")
        return self.encode(text)

    # -- the model ---------------------------------------------------------------

    def run(self, text: str) -> PoetRun:
        """Every head of every layer as ats.Steps (from `self_attention`, causal), and the next-character probabilities."""
        ids = self._text(text, "text")
        p, c = self._params, self.config
        labels = unique_labels([self.vocab[START]] + list(text))
        x = p["transformer.wte.weight"][ids] + p["transformer.wpe.weight"][:len(ids)]  # (T, C)
        columns = [f"x{j + 1}" for j in range(c.n_embd)] + ["1"]
        heads = []
        for i in range(c.n_layer):
            pre = f"transformer.h.{i}"
            h = layer_norm(x, p[pre + ".ln_1.weight"], p[pre + ".ln_1.bias"])  # (T, C)
            X = pd.DataFrame(np.hstack([h, np.ones((len(ids), 1))]), index=labels, columns=columns)  # (T, C + 1)
            steps = tuple(self_attention(X, head_weights(p, i, j, c), causal=True) for j in range(c.n_head))
            heads.append(steps)
            y = np.hstack([s.output.to_numpy() for s in steps])  # (T, C): the heads side by side
            x = x + linear(y, p, pre + ".attn.c_proj")
            x = x + mlp(layer_norm(x, p[pre + ".ln_2.weight"], p[pre + ".ln_2.bias"]), p, pre)
        logits = layer_norm(x, p["transformer.ln_f.weight"], p["transformer.ln_f.bias"]) @ p["transformer.wte.weight"].T
        probs = pd.DataFrame(stable_softmax(logits), index=pd.Index(labels, name="position"),
                             columns=pd.Index(self.vocab, name="next"))
        return PoetRun(text, labels, tuple(heads), probs)

    def forward(self, ids_batch, logits: bool = True) -> tuple[np.ndarray | None, list[np.ndarray]]:
        """`model` on rows of ids (equal lengths): logits (B, T, vocab) and each layer's weights (B, nh, T, T)."""
        return model(np.asarray(ids_batch, dtype=np.int64), self._params, self.config, logits)

    def loss(self, poems) -> float:
        """Mean nats per predicted token over the poems: every character and the end token </s>, each from what came before."""
        if isinstance(poems, str):
            raise TypeError("poems must be a list of strings; for one poem write poet.loss([poem])")
        poems = list(poems)
        if not poems:
            raise ValueError("poems is empty: give at least one poem")
        total, count = 0.0, 0
        by_length = {}
        with warnings.catch_warnings(record=True) as unknown:
            warnings.simplefilter("always")
            for poem in poems:
                ids = self._text(poem, "each poem") + [END]
                by_length.setdefault(len(ids), []).append(ids)
        if unknown:
            n = sum(row.count(UNK) for rows in by_length.values() for row in rows)
            warnings.warn(f"{len(unknown)} of the {len(poems)} poems have characters outside the vocabulary: "
                          f"{n} characters were read as <unk> and scored as that token",
                          UserWarning, stacklevel=2)
        for rows in by_length.values():  # one batch per length: no padding to handle
            for k in range(0, len(rows), 16):
                ids = np.array(rows[k:k + 16])
                logits, _ = self.forward(ids[:, :-1])
                top = logits.max(axis=-1, keepdims=True)
                logp = logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))
                total -= np.take_along_axis(logp, ids[:, 1:, None], axis=-1).sum()
                count += ids[:, 1:].size
        return float(total / count)

    def generate(self, prefix: str = "", seed: int = 0, temperature: float = 0.8, top_k: int | None = 20,
                 cache: bool = True) -> str:
        """A poem that starts with prefix, sampled until </s> or the context's end; the same arguments give the same poem.

        Each step draws with `draw` from mulberry32(seed), so JavaScript can repeat it.
        cache=True keeps each layer's and head's K and V rows and runs only the new
        token (chapter 8); cache=False reruns the whole prefix every step: same ids.
        """
        ids = self._text(prefix, "prefix", allow_empty=True, room=1)
        if any(i == UNK for i in ids):
            raise ValueError("the prefix has characters the model does not know (see the warning): "
                             "start from characters of its vocabulary, poet.vocab")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 32:
            raise ValueError(f"seed must be a whole number from 0 to 2**32 − 1, got {seed!r}")
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)) \
                or not math.isfinite(temperature) or temperature <= 0:
            raise ValueError(f"temperature must be a number > 0 (1 samples the model as it is, "
                             f"lower is more cautious), got {temperature!r}")
        if top_k is not None:
            if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)):
                raise TypeError(f"top_k must be a whole number or None, got {top_k!r}")
            if not 1 <= top_k <= self.config.vocab_size:
                raise ValueError(f"top_k must be between 1 and {self.config.vocab_size} (the vocabulary), got {top_k}")
        rng = mulberry32(int(seed))
        step = self._cached_steps(ids) if cache else self._uncached_steps(ids)
        logits = next(step)
        while True:
            nxt = draw(logits, next(rng), float(temperature), None if top_k is None else int(top_k))
            if nxt == END:
                break
            ids.append(nxt)
            if len(ids) == self.config.block_size:  # the context is full: nothing further can be read
                break
            logits = step.send(nxt)
        return "".join(self.vocab[i] for i in ids[1:])

    def _uncached_steps(self, ids):
        """Logits of the last position, recomputing the whole sequence each time a token is sent."""
        ids = list(ids)
        while True:
            nxt = yield self.forward([ids])[0][0, -1]
            ids.append(nxt)

    def _cached_steps(self, ids):
        """Logits of the last position, running only the new token over each layer's and head's cached K and V."""
        p, c = self._params, self.config
        hs = c.head_size
        K = [np.zeros((c.n_head, 0, hs)) for _ in range(c.n_layer)]  # (nh, t, hs) per layer
        V = [np.zeros((c.n_head, 0, hs)) for _ in range(c.n_layer)]
        pending = list(ids)
        while True:
            for tok in pending:
                t = K[0].shape[1]
                x = p["transformer.wte.weight"][tok] + p["transformer.wpe.weight"][t]  # (C,)
                for i in range(c.n_layer):
                    pre = f"transformer.h.{i}"
                    h = layer_norm(x, p[pre + ".ln_1.weight"], p[pre + ".ln_1.bias"])
                    q, k, v = (a.reshape(c.n_head, 1, hs) for a in np.split(linear(h, p, pre + ".attn.c_attn"), 3))
                    K[i] = np.concatenate([K[i], k], axis=1)  # (nh, t+1, hs): one row appended per head
                    V[i] = np.concatenate([V[i], v], axis=1)
                    w = stable_softmax(q @ K[i].transpose(0, 2, 1) / math.sqrt(hs))  # (nh, 1, t+1)
                    x = x + linear((w @ V[i]).reshape(c.n_embd), p, pre + ".attn.c_proj")
                    x = x + mlp(layer_norm(x, p[pre + ".ln_2.weight"], p[pre + ".ln_2.bias"]), p, pre)
            x = layer_norm(x, p["transformer.ln_f.weight"], p["transformer.ln_f.bias"])
            pending = [(yield x @ p["transformer.wte.weight"].T)]


def load_poet(folder=None) -> Poet:
    """The shipped poet (attn_steps/data/poet), or one written by tools/train_poet.py to `folder`."""
    folder = DATA if folder is None else Path(folder)
    info = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    vocab_file = folder / "vocab.tsv" if (folder / "vocab.tsv").exists() else DATA / "vocab.tsv"
    vocab = [line.split("\t")[0] for line in vocab_file.read_text(encoding="utf-8").splitlines()]
    config = PoetConfig(**{f.name: int(info[f.name]) for f in fields(PoetConfig)})
    return Poet(config, vocab, read_weights(folder / "weights.npz"), info)
