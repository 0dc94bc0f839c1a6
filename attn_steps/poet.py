"""The poet: a small character GPT trained on Tang regular verse, run in numpy from the book's own stages.

    poet = ats.load_poet()
    run = poet.run("床前明月光，疑是地上霜。")
    run.heads[0][1]            # ats.Steps of layer 0, head 1: X, Q, K, V, scores, scaled, masked, weights, output
    poet.generate("床前", seed=0)

The model is GPT-2's layout, as nanoGPT's model.py writes it, with its
parameter names; its parts are functions on arrays in attn_steps.gpt, the
block written once with the attention path as a parameter. `run` passes each
head through `self_attention(..., causal=True)` (chapters 2 and 7), so each
head is a `Steps` the chapters' plots read; `loss` and `forward` run every head
at once; `generate` keeps a KV cache per layer and head, as chapter 8's
`kv_cache_decode` does for one head (tests check the paths agree).

Knock-outs (chapter 9): `run`, `forward`, `loss`, `token_logp` and `generate`
take knock=[(layer, head), ...]: those heads' outputs are replaced, before
c_proj, by their mean output (`head_means`, knock_mode="mean") or by zeros.

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
from . import gpt
from .gpt import one_blas_thread
from .attention import self_attention, stable_softmax
from .embeddings import unique_labels
from .poet_sampling import END, NEVER_SAMPLED, PAD_ID, START, UNK, check_settings, draw, mulberry32  # noqa: F401 (poet.END etc. for callers)
from .poet_weights import TIED, read_weights

DATA = Path(__file__).parent / "data" / "poet"


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

    # -- removing heads (chapter 9: where a head looks is not what it does) ---------

    @property
    def head_means(self) -> np.ndarray | None:
        """Each head's mean output before c_proj, (n_layer, n_head, head_size): what knock_mode="mean" puts in its place.

        Recorded in model.json by the tool that stores the weights (`mean_head_outputs`
        over the poems model.json names); None for a model without them.
        """
        means = self.info.get("head_means")
        return None if means is None else np.asarray(means, dtype=np.float64)

    def knock_table(self, knock=(), knock_mode: str = "mean") -> dict[int, dict[int, np.ndarray]]:
        """Checked knock-outs as gpt.knocked reads them: {layer: {head: the vector that replaces its output}}.

        knock: (layer, head) pairs, counted from 0 as run.heads is; knock_mode: "mean"
        (the head's mean output, `head_means`) or "zero".
        """
        c = self.config
        valid = f"layers 0–{c.n_layer - 1} and heads 0–{c.n_head - 1}"
        if knock_mode not in ("mean", "zero"):
            raise ValueError(f'knock_mode must be "mean" (the head\'s mean output) or "zero", got {knock_mode!r}')
        if isinstance(knock, (str, bytes)) or not hasattr(knock, "__iter__"):
            raise TypeError(f"knock must be a list of (layer, head) pairs, e.g. [(3, 3)], with {valid}; got {knock!r}")
        pairs = []
        for pair in knock:
            if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2 or any(
                    isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in pair):
                raise TypeError(f"each knock-out is a (layer, head) pair of whole numbers, with {valid}; got {pair!r}")
            layer, head = int(pair[0]), int(pair[1])
            if not (0 <= layer < c.n_layer and 0 <= head < c.n_head):
                raise ValueError(f"knock-out ({layer}, {head}) is not a head of this model: {valid}")
            if (layer, head) in pairs:
                raise ValueError(f"knock-out ({layer}, {head}) is listed twice: name each head once")
            pairs.append((layer, head))
        if pairs and knock_mode == "mean" and self.head_means is None:
            raise ValueError('this model has no head means recorded (model.json "head_means"): use knock_mode="zero"')
        table: dict[int, dict[int, np.ndarray]] = {}
        for layer, head in pairs:
            value = self.head_means[layer, head] if knock_mode == "mean" else np.zeros(c.head_size)
            table.setdefault(layer, {})[head] = value
        return table

    @one_blas_thread
    def mean_head_outputs(self, poems) -> np.ndarray:
        """Each head's output before c_proj, averaged over every position of the poems (<s> and each character):
        (n_layer, n_head, head_size). The tool that stores the weights records it in model.json as head_means."""
        c = self.config
        sums, count = np.zeros((c.n_layer, c.n_head, c.head_size)), 0
        base = gpt.all_heads(self._params, c.n_head)

        def attend(h, i):
            y, w = base(h, i)
            sums[i] += y.sum(axis=(0, 1))
            return y, w

        for _, ids in self._batches(poems):
            gpt.model(ids[:, :-1], self._params, c.n_layer, c.n_head, logits=False, attend=attend)
            count += ids[:, :-1].size
        return sums / count

    # -- the model ---------------------------------------------------------------

    @one_blas_thread
    def run(self, text: str, knock=(), knock_mode: str = "mean") -> PoetRun:
        """Every head of every layer as ats.Steps (from `self_attention`, causal), and the next-character probabilities.

        knock: heads removed (see `knock_table`); a removed head's Steps are still
        computed, but its output is replaced before c_proj.
        """
        table = self.knock_table(knock, knock_mode)
        ids = self._text(text, "text")
        p, c = self._params, self.config
        labels = unique_labels([self.vocab[START]] + list(text))
        columns = [f"x{j + 1}" for j in range(c.n_embd)] + ["1"]

        def attend(h, i):  # h (T, C): each head as the book's stages
            X = pd.DataFrame(np.hstack([h, np.ones((len(ids), 1))]), index=labels, columns=columns)  # (T, C + 1)
            steps = tuple(self_attention(X, gpt.head_weights(p, i, j, c.n_head), causal=True) for j in range(c.n_head))
            return np.stack([s.output.to_numpy() for s in steps], axis=1), steps  # (T, nh, hs)

        x = gpt.embed(np.asarray(ids), p)  # (T, C)
        heads = []
        for i in range(c.n_layer):
            x, steps = gpt.block(x, p, i, attend, table)
            heads.append(steps)
        probs = pd.DataFrame(stable_softmax(gpt.logits_of(x, p)), index=pd.Index(labels, name="position"),
                             columns=pd.Index(self.vocab, name="next"))
        return PoetRun(text, labels, tuple(heads), probs)

    @one_blas_thread
    def forward(self, ids_batch, logits: bool = True, knock=(), knock_mode: str = "mean"):
        """gpt.model on rows of ids (equal lengths): logits (B, T, vocab) and each layer's weights (B, nh, T, T)."""
        table = self.knock_table(knock, knock_mode)
        return gpt.model(np.asarray(ids_batch, dtype=np.int64), self._params, self.config.n_layer,
                         self.config.n_head, logits, table)

    def _batches(self, poems, size: int = 16):
        """(the poems' indices, their id rows <s> poem </s>), checked, in batches of equal length (no padding to handle)."""
        if isinstance(poems, str):
            raise TypeError("poems must be a list of strings; for one poem write [poem]")
        poems = list(poems)
        if not poems:
            raise ValueError("poems is empty: give at least one poem")
        by_length = {}
        with warnings.catch_warnings(record=True) as unknown:
            warnings.simplefilter("always")
            for n, poem in enumerate(poems):
                by_length.setdefault(len(poem), []).append((n, self._text(poem, "each poem") + [END]))
        if unknown:
            count = sum(row.count(UNK) for rows in by_length.values() for _, row in rows)
            warnings.warn(f"{len(unknown)} of the {len(poems)} poems have characters outside the vocabulary: "
                          f"{count} characters were read as <unk> and scored as that token", UserWarning, stacklevel=5)
        for rows in by_length.values():
            for k in range(0, len(rows), size):
                yield [n for n, _ in rows[k:k + size]], np.array([row for _, row in rows[k:k + size]])

    @staticmethod
    def _target_logp(logits: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """log p of each next token (B, T): logits (B, T, vocab) of ids[:, :-1], targets ids[:, 1:]."""
        top = logits.max(axis=-1, keepdims=True)
        logp = logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))
        return np.take_along_axis(logp, ids[:, 1:, None], axis=-1)[..., 0]

    def _logp(self, poems, table):
        """(poem indices, log p of each predicted token (B, T)) per batch: every character and </s>, from what came before."""
        for order, ids in self._batches(poems):
            logits, _ = gpt.model(ids[:, :-1], self._params, self.config.n_layer, self.config.n_head, True, table)
            yield order, self._target_logp(logits, ids)

    @one_blas_thread
    def loss(self, poems, knock=(), knock_mode: str = "mean") -> float:
        """Mean nats per predicted token over the poems: every character and the end token </s>, each from what came before."""
        table = self.knock_table(knock, knock_mode)
        total, count = 0.0, 0
        for _, logp in self._logp(poems, table):
            total -= logp.sum()
            count += logp.size
        return float(total / count)

    @one_blas_thread
    def token_logp(self, poems, knock=(), knock_mode: str = "mean") -> list[np.ndarray]:
        """Per poem, log p of each predicted token (its characters, then </s>): len(poem) + 1 numbers."""
        table = self.knock_table(knock, knock_mode)
        out = {}
        for order, logp in self._logp(poems, table):
            out.update(zip(order, logp))
        return [out[n] for n in range(len(out))]

    @one_blas_thread
    def knockout_logp(self, poems, heads, knock_mode: str = "mean") -> dict:
        """{None: nothing removed, (layer, head): that head alone removed}: `token_logp` of each, per poem.

        The same numbers as token_logp(poems, knock=[(layer, head)]), computed faster:
        a head's removal changes nothing below its layer, so those layers run once.
        """
        heads = [tuple(h) for h in heads]
        tables = {h: self.knock_table([h], knock_mode) for h in heads}
        p, c = self._params, self.config
        attend = gpt.all_heads(p, c.n_head)
        out = {k: {} for k in [None, *heads]}
        for order, ids in self._batches(poems):
            x, below = gpt.embed(ids[:, :-1], p), []
            for i in range(c.n_layer):
                below.append(x)  # the input of layer i, the same whichever head of layers ≥ i is removed
                x, _ = gpt.block(x, p, i, attend)
            out[None].update(zip(order, self._target_logp(gpt.logits_of(x, p), ids)))
            for (layer, head), table in tables.items():
                x = below[layer]
                for i in range(layer, c.n_layer):
                    x, _ = gpt.block(x, p, i, attend, table)
                out[(layer, head)].update(zip(order, self._target_logp(gpt.logits_of(x, p), ids)))
        return {k: [v[n] for n in range(len(v))] for k, v in out.items()}

    def generate(self, prefix: str = "", seed: int = 0, temperature: float = 0.8, top_k: int | None = 20,
                 cache: bool = True, knock=(), knock_mode: str = "mean") -> str:
        """A poem that starts with prefix, sampled until </s> or the context's end; the same arguments give the same poem.

        Each step draws with `draw` from mulberry32(seed), so JavaScript can repeat it.
        cache=True keeps each layer's and head's K and V rows and runs only the new
        token (chapter 8); cache=False reruns the whole prefix every step: same ids.
        knock: heads removed while writing (see `knock_table`).
        """
        return self.generate_many(prefix, [seed], temperature, top_k, cache, knock, knock_mode)[0]

    @one_blas_thread
    def generate_many(self, prefix: str = "", seeds=(0,), temperature: float = 0.8, top_k: int | None = 20,
                      cache: bool = True, knock=(), knock_mode: str = "mean") -> list[str]:
        """`generate` for each seed, the poems written side by side (one batch through the model: faster for many)."""
        ids = self._text(prefix, "prefix", allow_empty=True, room=1)
        if any(i == UNK for i in ids):
            raise ValueError("the prefix has characters the model does not know (see the warning): "
                             "start from characters of its vocabulary, poet.vocab")
        seeds = list(seeds)
        if not seeds:
            raise ValueError("seeds is empty: give at least one seed")
        check_settings(seeds, temperature, top_k, self.config.vocab_size)
        table = self.knock_table(knock, knock_mode)
        rngs = [mulberry32(int(seed)) for seed in seeds]
        rows = [list(ids) for _ in seeds]
        done = [False] * len(seeds)
        step = self._cached_steps(ids, len(seeds), table) if cache else self._uncached_steps(rows, table)
        logits = next(step)  # (B, vocab): each row's next-token logits
        while True:
            nxt = []
            for b, row in enumerate(rows):
                if not done[b]:
                    tok = draw(logits[b], next(rngs[b]), float(temperature), None if top_k is None else int(top_k))
                    if tok == END:
                        done[b] = True
                    else:
                        row.append(tok)
                        done[b] = len(row) == self.config.block_size  # the context is full: nothing further can be read
                nxt.append(row[-1])
            if all(done):
                return ["".join(self.vocab[i] for i in row[1:]) for row in rows]
            logits = step.send(nxt)

    def _uncached_steps(self, rows, table):
        """Logits of each row's last position, recomputing the whole sequence each time (rows grow in place)."""
        p, c = self._params, self.config
        while True:
            yield np.stack([gpt.model(np.asarray([row]), p, c.n_layer, c.n_head, True, table)[0][0, -1] for row in rows])

    def _cached_steps(self, ids, batch, table):
        """Logits of the last position, running only the new tokens over each layer's and head's cached K and V."""
        p, c = self._params, self.config
        cache = gpt.Cache(p, c.n_layer, c.n_head, batch)
        pending = [np.full(batch, tok) for tok in ids]
        while True:
            for tok in pending:
                x = gpt.embed(np.asarray(tok)[:, None], p, cache.length)[:, 0]  # (B, C)
                for i in range(c.n_layer):
                    x, _ = gpt.block(x, p, i, cache.attend, table)
            pending = [np.asarray((yield gpt.logits_of(x, p)))]


def read_folder(folder=None) -> tuple[dict, list[str]]:
    """A model folder's model.json and its vocabulary (vocab.tsv there, else the shipped one): the one reader of both."""
    folder = DATA if folder is None else Path(folder)
    info = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    vocab_file = folder / "vocab.tsv" if (folder / "vocab.tsv").exists() else DATA / "vocab.tsv"
    return info, [line.split("\t")[0] for line in vocab_file.read_text(encoding="utf-8").splitlines()]


def load_poet(folder=None) -> Poet:
    """The shipped poet (attn_steps/data/poet), or one written by tools/train_poet.py to `folder`."""
    folder = DATA if folder is None else Path(folder)
    info, vocab = read_folder(folder)
    config = PoetConfig(**{f.name: int(info[f.name]) for f in fields(PoetConfig)})
    return Poet(config, vocab, read_weights(folder / "weights.npz"), info)
