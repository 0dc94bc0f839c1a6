"""One attention head that learns: is 苹果 the fruit (水果) or the brand (品牌)?

The model is the attention of the book with one query, 苹果's, and a logistic
readout on its output row:

    q = x_苹果·Wq,  K = X·Wk,  V = X·Wv            (1, d_k), (n, d_k), (n, d_v)
    w = softmax(q·Kᵀ/√d_k + M)                     (1, n); M blocks 苹果 itself
    z = w·V                                        (1, d_v)
    p(品牌) = σ(z·u + b)

Gradients are derived by hand, one short function per stage in reverse
(readout, attend, softmax, scores, project), and checked in the tests
against torch.autograd and finite differences. Training is full-batch Adam
over every sentence at once: sentences are padded to one length and padded
keys are masked, as in `ats.batch_attention`.

The head reads each word's vector layer-normalised, and no punctuation.
Why 苹果 may not attend to itself, and why each word's vector comes from the
word alone (context=False): with tok2vec's contextual vectors 苹果's own row,
and the rows of 是 / 了 / 的, already carry their neighbours, so a head can
score well by looking at them instead of at the words that decide the sense
(shortcut learning). Chapter 4 trains both and compares them.
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import checks
from .attention import Steps, Weights, init_weights, self_attention, stable_softmax
from .corpus import SENSES, TARGET, apple_sentences, check_corpus, head_tokens, is_cue
from .embeddings import WIDTH, embed, embedding_source, features, unique_labels
from .head_cache import cache_file, store

# ---- sentences as one padded batch ------------------------------------------


@dataclass(frozen=True)
class Encoded:
    """Sentences as one padded batch: what the forward and backward passes read."""

    X: np.ndarray  # (B, n, d) each token's vector, zero rows after a sentence's end
    allowed: np.ndarray  # (B, n) keys 苹果 may attend to: real tokens, itself excluded unless self_attend
    target: np.ndarray  # (B,) position of 苹果
    y: np.ndarray  # (B,) 1.0 for 品牌, 0.0 for 水果 (NaN when unknown)
    tokens: tuple[tuple[str, ...], ...]


def encode(texts, dim: int, context: bool, self_attend: bool, senses=None, chars: bool = True) -> Encoded:
    """Sentences (or their tokens, already cut: wordvecs.field_tokens) -> Encoded: tokens with 苹果 split out,
    vectors, the mask and the labels."""
    token_lists = [head_tokens(t) if isinstance(t, str) else checks.words(t) for t in texts]
    if not all(TARGET in t for t in token_lists):
        raise ValueError(f"every sentence's tokens need {TARGET}, the word the head classifies")
    n = max(len(t) for t in token_lists)
    rows = [features(tokens, dim, context, chars).to_numpy() for tokens in token_lists]  # (n_i, d) each
    X = np.zeros((len(token_lists), n, rows[0].shape[1]))  # (B, n, d)
    allowed = np.zeros((len(token_lists), n), dtype=bool)  # (B, n)
    target = np.array([t.index(TARGET) for t in token_lists])  # (B,)
    for i, tokens in enumerate(token_lists):
        X[i, : len(tokens)] = rows[i]
        allowed[i, : len(tokens)] = True
        allowed[i, target[i]] = self_attend
    if not allowed.any(axis=1).all():
        lonely = token_lists[int(np.argmin(allowed.any(axis=1)))]
        raise ValueError(f"the sentence {''.join(lonely)!r} has no word besides {TARGET}: there is nothing to attend to")
    y = np.full(len(token_lists), np.nan) if senses is None else np.array([SENSES.index(s) for s in senses], dtype=float)
    return Encoded(X, allowed, target, y, tuple(map(tuple, token_lists)))


# ---- forward, loss, backward ------------------------------------------------


@dataclass(frozen=True)
class Params:
    """Everything training changes: the head's Wq, Wk, Wv and the readout u, b."""

    Wq: np.ndarray  # (d, d_k)
    Wk: np.ndarray  # (d, d_k)
    Wv: np.ndarray  # (d, d_v)
    u: np.ndarray  # (d_v,)
    b: float

    def arrays(self) -> tuple:
        return self.Wq, self.Wk, self.Wv, self.u, self.b


@dataclass(frozen=True)
class Forward:
    """Every intermediate of the forward pass, kept for the backward pass."""

    x: np.ndarray  # (B, d) 苹果's row of X
    q: np.ndarray  # (B, d_k)
    K: np.ndarray  # (B, n, d_k)
    V: np.ndarray  # (B, n, d_v)
    w: np.ndarray  # (B, n) attention weights, 0 on blocked keys
    z: np.ndarray  # (B, d_v)
    prob: np.ndarray  # (B,) p(品牌)
    logit: np.ndarray  # (B,)


def forward(p: Params, e: Encoded) -> Forward:
    """The head on every sentence at once (the stages of `ats.attention`, one query row each)."""
    x = e.X[np.arange(len(e.target)), e.target]  # (B, d)
    q = x @ p.Wq  # (B, d_k)
    K = e.X @ p.Wk  # (B, n, d_k)
    V = e.X @ p.Wv  # (B, n, d_v)
    s = np.einsum("bk,bnk->bn", q, K) / math.sqrt(p.Wq.shape[1])  # (B, n) scaled scores
    w = stable_softmax(np.where(e.allowed, s, -np.inf))  # (B, n)
    z = np.einsum("bn,bnv->bv", w, V)  # (B, d_v)
    logit = z @ p.u + p.b  # (B,)
    return Forward(x, q, K, V, w, z, 1 / (1 + np.exp(-logit)), logit)


def loss(p: Params, e: Encoded, f: Forward, l2: float, l2_scores: float | None = None) -> float:
    """Mean cross-entropy of p(品牌) against the labels, plus a penalty on the squared weights.

    l2/2 on Wv and u; l2_scores/2 (default: l2) on Wq and Wk, which make the scores.
    """
    l2_scores = l2 if l2_scores is None else l2_scores
    bce = np.mean(np.logaddexp(0.0, f.logit) - e.y * f.logit)  # = −y log p − (1−y) log(1−p), stable
    scores_penalty = l2_scores / 2 * (np.sum(p.Wq * p.Wq) + np.sum(p.Wk * p.Wk))
    return float(bce + scores_penalty + l2 / 2 * (np.sum(p.Wv * p.Wv) + np.sum(p.u * p.u)))


def readout_backward(p: Params, e: Encoded, f: Forward):
    """d loss / d logit = (p − y)/B for the mean cross-entropy; then through logit = z·u + b."""
    dlogit = (f.prob - e.y) / len(e.y)  # (B,)
    return dlogit[:, None] * p.u[None, :], f.z.T @ dlogit, dlogit.sum()  # dz (B, d_v), du, db


def attend_backward(f: Forward, dz: np.ndarray):
    """z = w·V: dw_j = dz·v_j, dV_j = w_j dz."""
    dw = np.einsum("bv,bnv->bn", dz, f.V)  # (B, n)
    dV = f.w[:, :, None] * dz[:, None, :]  # (B, n, d_v)
    return dw, dV


def softmax_backward(w: np.ndarray, dw: np.ndarray) -> np.ndarray:
    """w = softmax(s): ds_j = w_j (dw_j − Σ_i w_i dw_i). Blocked keys have w = 0, so they get no gradient."""
    return w * (dw - (w * dw).sum(axis=-1, keepdims=True))


def scores_backward(f: Forward, ds: np.ndarray):
    """s = q·Kᵀ/√d_k: dq = ds·K/√d_k, dK_j = ds_j q/√d_k."""
    ds = ds / math.sqrt(f.q.shape[1])
    return np.einsum("bn,bnk->bk", ds, f.K), ds[:, :, None] * f.q[:, None, :]  # dq (B, d_k), dK (B, n, d_k)


def project_backward(e: Encoded, f: Forward, dq, dK, dV):
    """q = x·Wq, K = X·Wk, V = X·Wv: each dW is the inputs' transpose times the output's gradient."""
    X = e.X.reshape(-1, e.X.shape[-1])  # (B·n, d): sum over sentences and positions in one matrix product
    return f.x.T @ dq, X.T @ dK.reshape(len(X), -1), X.T @ dV.reshape(len(X), -1)


def gradients(p: Params, e: Encoded, l2: float = 0.0, f: Forward | None = None,
              l2_scores: float | None = None) -> tuple[float, Params]:
    """The loss and its gradient with respect to every parameter, by the chain rule stage by stage.

    f: forward(p, e) when the caller has it already. l2, l2_scores: as in `loss`.
    """
    l2_scores = l2 if l2_scores is None else l2_scores
    f = forward(p, e) if f is None else f
    dz, du, db = readout_backward(p, e, f)
    dw, dV = attend_backward(f, dz)
    ds = softmax_backward(f.w, dw)
    dq, dK = scores_backward(f, ds)
    dWq, dWk, dWv = project_backward(e, f, dq, dK, dV)
    grads = Params(dWq + l2_scores * p.Wq, dWk + l2_scores * p.Wk, dWv + l2 * p.Wv, du + l2 * p.u, float(db))
    return loss(p, e, f, l2, l2_scores), grads


def adam(p: Params, g: Params, state: tuple, t: int, lr: float, betas=(0.9, 0.999), eps=1e-8):
    """One Adam step (Kingma & Ba, 2015) on every parameter; state holds the two running averages."""
    m, v = state
    m = [betas[0] * mi + (1 - betas[0]) * gi for mi, gi in zip(m, g.arrays())]
    v = [betas[1] * vi + (1 - betas[1]) * gi * gi for vi, gi in zip(v, g.arrays())]
    steps = [lr * (mi / (1 - betas[0] ** t)) / (np.sqrt(vi / (1 - betas[1] ** t)) + eps) for mi, vi in zip(m, v)]
    new = Params(*(a - s for a, s in zip(p.arrays(), steps)))
    return replace(new, b=float(new.b)), (m, v)


def cosine_lr(lr: float, t: int, epochs: int) -> float:
    """The step size of epoch t (1..epochs): lr falling along half a cosine to near 0 at the end.

    The last steps are tiny, so training ends in a minimum rather than in the
    middle of one of Adam's jumps, where a rounding difference would decide
    where it stops.
    """
    return lr * (1 + math.cos(math.pi * (t - 1) / epochs)) / 2


def accuracy(f: Forward, e: Encoded) -> float:
    """Share of sentences whose sense the head gets right (p(品牌) > 0.5 means 品牌)."""
    return float(np.mean((f.prob > 0.5) == (e.y == 1)))


def calibration(evaluated: pd.DataFrame, edges=(0.5, 0.9, 0.99, 1.0)) -> pd.DataFrame:
    """How often a verdict is right, by how sure it is (calibration): one row per bin of its probability p.

    evaluated: TrainedHead.evaluate's rows. p = max(p_brand, 1 − p_brand) is in [0.5, 1]; bin k holds
    edges[k] ≤ p < edges[k + 1], the last also p = edges[-1]. accuracy is NaN for an empty bin.
    """
    p = np.maximum(evaluated["p_brand"], 1 - evaluated["p_brand"]).to_numpy(dtype=float)
    k = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)  # (B,) each verdict's bin
    right = evaluated["correct"].to_numpy(dtype=bool)
    rows = [{"lo": edges[i], "hi": edges[i + 1], "sentences": int((k == i).sum()), "correct": int(right[k == i].sum())}
            for i in range(len(edges) - 1)]
    out = pd.DataFrame(rows)
    return out.assign(accuracy=out["correct"] / out["sentences"].where(out["sentences"] > 0))


def _epoch_row(p: Params, f: Forward, train: Encoded, test: Encoded) -> dict:
    """f = forward(p, train). loss: the cross-entropy alone, comparable between settings of l2."""
    return {"loss": loss(p, train, f, 0.0), "train_accuracy": accuracy(f, train),
            "test_accuracy": accuracy(forward(p, test), test)}


# ---- the trained head -------------------------------------------------------


@dataclass(frozen=True)
class TrainedHead:
    """A head trained by `train_head`: predicts 苹果's sense and shows its attention."""

    params: Params
    initial: Params  # the weights before training, for "before / after" comparisons
    history: pd.DataFrame = field(repr=False)  # one row per epoch: loss, train accuracy, test accuracy
    settings: dict = field(repr=False)  # dim, d_k, d_v, context, self_attend, seed, epochs, lr, l2
    source: str = ""  # which embedding produced the vectors

    @property
    def weights(self) -> Weights:
        """The trained Wq, Wk, Wv, as `ats.self_attention` takes them."""
        return Weights(self.params.Wq, self.params.Wk, self.params.Wv)

    def untrained(self) -> TrainedHead:
        """The same head with the weights it started from (readout 0: it predicts 50%)."""
        return replace(self, params=self.initial, history=self.history.iloc[:0])

    def _encode(self, texts) -> Encoded:
        s = self.settings
        return encode(texts, s["dim"], s["context"], s["self_attend"], chars=s["chars"])

    def predict(self, text) -> tuple[str, float]:
        """('品牌', 0.97): the sense of the first 苹果 of text (a sentence, or its tokens) and the head's p for it."""
        if not isinstance(text, (str, list, tuple)):
            raise TypeError(f"predict takes a sentence (str) or its tokens (a list), got {type(text).__name__}")
        p = float(forward(self.params, self._encode([text])).prob[0])
        return (SENSES[1], p) if p > 0.5 else (SENSES[0], 1 - p)

    def attention_row(self, text: str) -> pd.Series:
        """How 苹果 spreads its attention over the sentence's words (0 on itself when it may not attend to it)."""
        e = self._encode([text])
        w = forward(self.params, e).w[0, : len(e.tokens[0])]
        return pd.Series(w, index=unique_labels(list(e.tokens[0])), name=TARGET)

    def steps(self, text: str) -> Steps:
        """Every stage of self-attention over the text with the trained weights.

        Only 苹果's row is what the head was trained for; its key is masked out of
        its own row (M) as in training, unless the head was trained with self_attend.
        """
        s = self.settings
        tokens = head_tokens(text)
        X = features(tokens, s["dim"], s["context"], s["chars"])
        X.attrs["source"] = self.source  # the explorer and the figures say which embedding made X
        mask = np.ones((len(tokens), len(tokens)), dtype=bool)
        a = tokens.index(TARGET)
        mask[a, a] = s["self_attend"]
        return self_attention(X, self.weights, mask=None if s["self_attend"] else mask)

    def evaluate(self, corpus: pd.DataFrame) -> pd.DataFrame:
        """One row per sentence: the prediction, whether it is right, and where 苹果 looked.

        cue_share is the part of 苹果's attention that falls on the sentence's
        cue words; top is the word it attends to most.
        """
        corpus = check_corpus(corpus)
        e = self._encode(corpus["text"])
        f = forward(self.params, e)
        rows = []
        for i, (tokens, cues) in enumerate(zip(e.tokens, corpus.get("cues", [[]] * len(corpus)))):
            w = f.w[i, : len(tokens)]
            cue = np.array([is_cue(t, cues) for t in tokens])
            top = int(np.argmax(w))
            rows.append({"predicted": SENSES[int(f.prob[i] > 0.5)], "p_brand": f.prob[i],
                         "cue_share": float(w[cue].sum()), "top": tokens[top], "top_is_cue": bool(cue[top])})
        out = pd.DataFrame(rows, index=corpus.index)
        out.insert(0, "sense", corpus["sense"].to_numpy())
        out.insert(0, "text", corpus["text"].to_numpy())
        out["correct"] = out["predicted"] == out["sense"]
        return out


def _default_test(train: pd.DataFrame) -> pd.DataFrame:
    corpus = apple_sentences()
    test = corpus[corpus["split"] == "test"]
    overlap = set(train["text"]) & set(test["text"])
    if overlap:
        raise ValueError(
            f"the training sentences include {len(overlap)} of the held-out test split (e.g. {sorted(overlap)[0]!r}): "
            "train on corpus[corpus.split == 'train'], or pass test= with sentences of your own"
        )
    return test


def train_head(
    corpus: pd.DataFrame,
    *,
    seed: int = 0,
    dim: int = 96,
    d_k: int = 16,
    d_v: int = 4,
    context: bool = False,
    self_attend: bool = False,
    chars: bool = True,
    epochs: int = 300,
    lr: float = 0.03,
    l2: float = 0.01,
    l2_scores: float = 0.1,
    test: pd.DataFrame | None = None,
) -> TrainedHead:
    """Train one head on the sentences of `corpus` (columns text, sense) and return it.

    Every row given is trained on. history's test accuracy is measured on
    `test` (default: the book's held-out split, which must not overlap the
    training rows). dim: how many numbers of each word vector; context,
    self_attend and chars: see the module docstring (the defaults make
    attention do the work). l2 penalises Wv and u, l2_scores the score weights
    Wq and Wk; the step size follows `cosine_lr` from lr. The same seed gives
    the same weights bit for bit on one machine; the tests check that the
    verdicts also survive what another machine's rounding would change.
    With ATTN_HEAD_CACHE set (by `make test`), a head with the same inputs comes from there.
    """
    corpus = check_corpus(corpus)
    if corpus["sense"].nunique() < 2:
        raise ValueError(f"the corpus has only the sense {corpus['sense'].iloc[0]!r}: the head needs examples of "
                         "both 水果 and 品牌 to learn the difference")
    test = _default_test(corpus) if test is None else check_corpus(test, "test")
    dim = checks.dim(dim, WIDTH)
    d_k, d_v, epochs = (checks.positive(v, n) for v, n in ((d_k, "d_k"), (d_v, "d_v"), (epochs, "epochs")))
    lr = checks.positive(lr, "lr", float)
    seed = checks.seed(seed)
    for name, value in (("l2", l2), ("l2_scores", l2_scores)):
        if isinstance(value, bool) or not (isinstance(value, (int, float)) and value >= 0):
            raise ValueError(f"{name} must be a number ≥ 0, got {value!r}")

    train_e = encode(corpus["text"], dim, context, self_attend, corpus["sense"], chars)
    test_e = encode(test["text"], dim, context, self_attend, test["sense"], chars)
    settings = dict(dim=dim, d_k=d_k, d_v=d_v, context=bool(context), self_attend=bool(self_attend),
                    chars=bool(chars), seed=seed, epochs=epochs, lr=lr, l2=float(l2), l2_scores=float(l2_scores))
    source = embedding_source()
    cached = cache_file((train_e, test_e), settings, source)
    if cached is not None and cached.is_file():
        return pickle.loads(cached.read_bytes())
    width = train_e.X.shape[-1]  # dim, or 2·dim with the characters' vectors
    # Small initial weights (std 1/√width) keep the first softmax far from saturated.
    W = init_weights(width, d_k, seed, d_v=d_v, std=1 / math.sqrt(width))
    p = start = Params(W.Wq, W.Wk, W.Wv, np.zeros(d_v), 0.0)
    state = ([np.zeros_like(a) for a in p.arrays()], [np.zeros_like(a) for a in p.arrays()])
    rows = []
    for t in range(1, epochs + 1):
        f = forward(p, train_e)
        rows.append(_epoch_row(p, f, train_e, test_e))  # epoch t − 1 (0: before any update)
        _, g = gradients(p, train_e, l2, f, l2_scores)
        p, state = adam(p, g, state, t, cosine_lr(lr, t, epochs))
    rows.append(_epoch_row(p, forward(p, train_e), train_e, test_e))
    history = pd.DataFrame(rows, index=pd.RangeIndex(0, epochs + 1, name="epoch"))
    head = TrainedHead(p, start, history, settings, source)
    if cached is not None:
        store(cached, head)
    return head
