"""Text -> X: one row per token, the first `dim` numbers of each token's vector.

The book's walkthrough uses spaCy's `zh_core_web_sm`. That pipeline has no
static word vectors: `token.vector` falls back to the token's row of
`doc.tensor`, written by the pipeline's tok2vec layer (96 wide), so a word's
vector depends on the words around it.

The trained model is published as a wheel on spaCy's release page, not on the
package index. Where it is not installed we build an offline stand-in that
works the same way (spaCy's Chinese tokenizer segmenting with jieba, and a
tok2vec layer of the same width initialised with a fixed seed). Its numbers are
deterministic but come from an untrained network, and every result says which
source produced it.
"""

from __future__ import annotations

import collections
import functools
import importlib.metadata
import importlib.util
import logging
import math
import warnings

import numpy as np
import pandas as pd

from . import checks
from .layers import layer_norm
from .stages import with_stage

MODEL = "zh_core_web_sm"
MODEL_VERSION = "3.8.0"
MODEL_WHEEL = (
    "https://github.com/explosion/spacy-models/releases/download/"
    f"{MODEL}-{MODEL_VERSION}/{MODEL}-{MODEL_VERSION}-py3-none-any.whl"
)
INSTALL_COMMAND = f"pip install {MODEL_WHEEL}"
WIDTH = 96  # tok2vec width of zh_core_web_sm, and of the stand-in
STAND_IN_SEED = 0

REAL_SOURCE = f"{MODEL} {MODEL_VERSION} (trained spaCy pipeline)"
STAND_IN_SOURCE = (
    "offline stand-in: spaCy Chinese tokenizer with jieba + untrained tok2vec "
    f"(96 wide, seed {STAND_IN_SEED}), not the trained {MODEL}"
)


# What a figure says about where X came from (the full sentences are for pages).
SHORT_SOURCE = {
    REAL_SOURCE: f"X 来自 {MODEL} {MODEL_VERSION}",
    STAND_IN_SOURCE: f"X 来自离线替身（未训练的 tok2vec），不是 {MODEL}",
}


class ModelNotInstalledError(RuntimeError):
    """The trained zh_core_web_sm was asked for but is not installed."""


def _installed_model_version() -> str | None:
    """The installed zh_core_web_sm version, or None.

    The package index holds a placeholder named zh-core-web-sm 999.9.9 that
    is not the model; only a 3.x release counts.
    """
    if importlib.util.find_spec(MODEL) is None:
        return None
    try:
        version = importlib.metadata.version(MODEL)
    except importlib.metadata.PackageNotFoundError:
        return None
    return version if version.startswith("3.") else None


def embedding_source() -> str:
    """Which source `embed` will use, said before embedding anything."""
    return REAL_SOURCE if _installed_model_version() else STAND_IN_SOURCE


# Warnings that importing third-party code prints on stderr, which a reader can do
# nothing about and which the book's build treats as errors: jieba imports
# pkg_resources, deprecated in setuptools 80.x (the version on Binder and in many
# virtualenvs); spaCy's command-line module imports a helper deprecated in click 8.2.
_IMPORT_WARNINGS = (
    (UserWarning, r"pkg_resources is deprecated"),
    (DeprecationWarning, r"Importing 'parser\.split_arg_string' is deprecated"),
)


@functools.lru_cache(maxsize=None)
def pipeline(real: bool):
    with warnings.catch_warnings():
        for category, message in _IMPORT_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)
        import spacy

        if real:  # segments with pkuseg: jieba is not needed, so not imported
            return spacy.load(MODEL)
        import jieba

    # jieba announces its dictionary loading on stderr; the book's pages must stay clean.
    jieba.setLogLevel(logging.WARNING)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.add_pipe("tok2vec")
    spacy.util.fix_random_seed(STAND_IN_SEED)
    nlp.initialize()
    return nlp


def unique_labels(tokens: list[str]) -> list[str]:
    """Token texts made unique for use as row labels: 我爱我的家 -> 我₁ 爱 我₂ 的 家.

    The source blog keyed a dict by token text, so a repeated word silently
    overwrote the first one; numbered labels keep every occurrence.
    """
    subscript = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
    totals = collections.Counter(tokens)  # not pandas' value_counts: ~100× slower on a sentence, and chapter 4 labels thousands
    seen: dict[str, int] = {}
    labels = []
    for tok in tokens:
        if totals[tok] == 1:
            labels.append(tok)
        else:
            seen[tok] = seen.get(tok, 0) + 1
            labels.append(f"{tok}{str(seen[tok]).translate(subscript)}")
    return labels


def word_label(X: pd.DataFrame, word: str) -> str:
    """The row label of `word`'s first occurrence in X (苹果, or 苹果₁ when it repeats).

    Chapters that follow one word through the stages ask for it here rather
    than with X.loc[word], so a segmentation without that word (a character
    segmenter cuts 苹果 into 苹 / 果) stops with a sentence saying so instead
    of a KeyError from inside pandas.
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a DataFrame from ats.embed (or a stage of ats.self_attention), got {type(X).__name__}")
    tokens = list(X.attrs.get("tokens") or [])
    labels = list(X.index)
    if len(tokens) != len(labels):  # a stage or a frame made by hand: read the labels themselves
        tokens = [str(label).rstrip("₀₁₂₃₄₅₆₇₈₉") for label in labels]
    if word not in tokens:
        raise ValueError(
            f"the segmentation has no token {word!r}: it gave {' / '.join(map(str, tokens))}. "
            f"This step follows the word {word} itself, so it needs a segmentation that keeps {word} whole "
            f"(a character segmenter cuts it into {' / '.join(word)}); embed the sentence by word "
            "(ats.embed(text, by='word'))"
        )
    return labels[tokens.index(word)]


class SourceNote:
    """A visible note saying which embedding source produced a page's numbers.

    Shown as a note box on the book's pages (HTML) and as plain text elsewhere.
    """

    def __init__(self, source: str):
        self.source = source

    def _text(self) -> tuple[str, str]:
        if self.source == REAL_SOURCE:
            return "嵌入来源", (
                f"本页的数字来自训练好的 spaCy 模型 {MODEL} {MODEL_VERSION}："
                "每个词的 token.vector 即其 tok2vec 层输出（doc.tensor 的一行，96 维），取前几维。"
            )
        return "嵌入来源：离线替身（不是训练好的模型）", (
            f"生成本页时没有安装 spaCy 的 {MODEL}，本页的数字来自一个离线替身："
            "spaCy 中文分词器（jieba 分词）加一个用固定种子初始化、未经训练的 tok2vec 层（96 维）。"
            "它用 jieba 分词（真实模型用 pkuseg，个别句子的切分可能不同）；数字可复现，但不是训练出来的语义。"
            f"想看真实模型的数字，请安装它后重新运行：{INSTALL_COMMAND}"
        )

    def _repr_html_(self) -> str:
        import html

        title, body = self._text()
        return (
            '<div class="admonition note"><p class="admonition-title">'
            f"{html.escape(title)}</p><p>{html.escape(body)}</p></div>"
        )

    def __repr__(self) -> str:
        title, body = self._text()
        return f"{title}\n{body}\n({self.source})"


def source_note() -> SourceNote:
    """The note each spaCy chapter shows near its top: which source made its numbers."""
    return SourceNote(embedding_source())


def use_trained_model(model: str | None) -> bool:
    """Whether to embed with the trained model; refuses model= values it does not know."""
    if model not in (None, MODEL):
        raise ValueError(f"model must be None (automatic) or {MODEL!r}, got {model!r}")
    real = _installed_model_version() is not None
    if model == MODEL and not real:
        raise ModelNotInstalledError(
            f"the trained spaCy model {MODEL} is not installed; install it with `{INSTALL_COMMAND}` "
            "or `make model` (the package-index name zh-core-web-sm is a placeholder, not the model)"
        )
    return real


def segment(text: str, *, model: str | None = None) -> list[str]:
    """The words `embed(text)` makes rows of, without computing any vector: 我 / 喜欢 / 的 / ..."""
    text = checks.text(text)
    nlp = pipeline(use_trained_model(model))
    return [t.text for t in nlp.tokenizer(text) if not t.is_space]


@functools.lru_cache(maxsize=100_000)
def _word_vector(real: bool, word: str) -> np.ndarray:
    """The pipeline's vector of `word` on its own: a one-word document, so no neighbour mixes in."""
    from spacy.tokens import Doc

    nlp = pipeline(real)
    vector = np.array(nlp(Doc(nlp.vocab, words=[word]))[0].vector, dtype=np.float64)
    vector.setflags(write=False)
    return vector


def embed(text, dim: int = 10, *, model: str | None = None, by: str = "word", context: bool = True) -> pd.DataFrame:
    """X for `text`: one row per token in order, columns 0..dim-1.

    text is a sentence, or a list of words already segmented. by="word"
    segments a sentence into words (我 / 喜欢 / ...), by="char" makes every
    character a token. context=True takes each token's vector from the whole
    sentence (tok2vec mixes in the neighbours, as token.vector does);
    context=False embeds every token on its own, so a word has the same row in
    every sentence. model=None uses zh_core_web_sm when installed, else the
    offline stand-in; model="zh_core_web_sm" insists on the trained model.
    X.attrs["source"] names the source, X.attrs["tokens"] the raw token texts.
    """
    words = None if isinstance(text, str) else checks.words(_refuse_non_text(text))
    if words is None:
        text = checks.text(text)
    dim = checks.dim(dim, WIDTH)
    if by not in ("word", "char"):
        raise ValueError(f"by must be 'word' or 'char', got {by!r}")
    if words is not None and by != "word":
        raise ValueError("by='char' needs a sentence (str), not a list of words")
    real = use_trained_model(model)
    nlp = pipeline(real)
    from spacy.tokens import Doc

    if words is None and by == "char":
        words = [c for c in text if not c.isspace()]
    if words is None and context:
        tokens = [t for t in nlp(text) if not t.is_space]
        texts, vectors = [t.text for t in tokens], [t.vector for t in tokens]
    elif words is None:
        texts = [t.text for t in nlp.tokenizer(text) if not t.is_space]
        vectors = [_word_vector(real, w) for w in texts]
    elif context:
        texts, vectors = words, [t.vector for t in nlp(Doc(nlp.vocab, words=words))]
    else:
        texts, vectors = words, [_word_vector(real, w) for w in words]
    X = pd.DataFrame(
        np.array([v[:dim] for v in vectors], dtype=np.float64),
        index=pd.Index(unique_labels(texts), name="token"),
    )
    X.attrs.update(source=REAL_SOURCE if real else STAND_IN_SOURCE, tokens=texts, context=bool(context))
    with_stage(X, "X")
    return X


def _refuse_non_text(text):
    if isinstance(text, (list, tuple)):
        return text
    raise TypeError(f"text must be a string (str) or a list of words, got {type(text).__name__}")


# ---- a row for chapter 4's head: a word's vector and its characters' -----------


def features(tokens: list[str], dim: int, context: bool, chars: bool = True) -> pd.DataFrame:
    """X for the head: each token's vector (its first dim numbers), layer-normalised, and its characters'.

    Layer normalisation (mean 0, variance 1 per row, as in a Transformer block)
    gives every word the same scale, so that small initial weights give scores
    near 0 and a softmax far from saturated.

    chars=True appends the mean of the token's characters' vectors, also
    layer-normalised (columns 字0, 字1, ...), and scales the row by 1/√2 so it
    keeps the length of one normalised vector: (n, 2·dim). Words that share a
    character (手机 / 耳机, 水果 / 果园) then share part of their row, which
    the head can learn from when a word itself was rare in training.
    """
    X = layer_norm(embed(tokens, dim=dim, context=context))
    if chars:
        X = with_characters(X, tokens, lambda letters: embed(letters, dim=dim, context=False))
    X.attrs.update(tokens=list(tokens), context=context, chars=chars)
    return X


def with_characters(X: pd.DataFrame, tokens: list[str], vectors) -> pd.DataFrame:
    """X (n, dim) joined by each token's mean character vector, layer-normalised: (n, 2·dim), scaled by 1/√2.

    vectors(letters) -> (len(letters), dim): the per-character vectors, each character on its own.
    """
    letters = sorted({c for t in tokens for c in t})
    per_char = dict(zip(letters, np.asarray(vectors(letters), dtype=np.float64)))  # character -> (dim,)
    means = np.array([np.mean([per_char[c] for c in t], axis=0) for t in tokens])  # (n, dim)
    C = layer_norm(pd.DataFrame(means, index=X.index, columns=[f"字{j}" for j in range(X.shape[1])]))
    return pd.concat([X, C], axis=1) / math.sqrt(2)
