"""The book's 苹果 corpus and how a sentence becomes the tokens chapter 4's head reads.

Sentences in which 苹果 is the fruit (水果) or the brand (品牌), written for the
book (attn_steps/data/apple_sentences.md says how, and under which licence),
with the words that decide the sense (cues) and a fixed train/test split.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd

from . import checks
from .embeddings import segment as embedding_segment

TARGET = "苹果"
SENSES = ("水果", "品牌")  # label 0 and 1 of the readout
CORPUS_FILE = Path(__file__).resolve().parent / "data" / "apple_sentences.csv"
COLUMNS = ("text", "sense")


# ---- the corpus -------------------------------------------------------------


def apple_sentences() -> pd.DataFrame:
    """The book's corpus: sentences with 苹果 as fruit or brand, their cue words and a fixed split.

    Columns: text, sense ('水果' or '品牌'), cues (list of words that decide
    the sense), split ('train' or 'test'). See attn_steps/data/apple_sentences.md.
    """
    corpus = pd.read_csv(CORPUS_FILE, dtype=str, keep_default_na=False)
    corpus["cues"] = corpus["cues"].str.split()
    return corpus


def apple_tokens(text: str, cut=None) -> list[str]:
    """The words of text with 苹果 always a token of its own: 苹果手机 -> 苹果 / 手机, 青苹果 -> 青 / 苹果.

    The segmenter fuses 苹果 with a neighbour in many sentences; splitting it
    out keeps the target token the same word everywhere and leaves the other
    piece (手机, 汁, 公司 ...) as a word the head can look at. The first
    苹果 of the text is the target. cut: the segmenter (default the embedding's, spaCy's;
    chapter 4's text field cuts with the book's own, see wordvecs.field_tokens).
    """
    text = checks.text(text)
    segment = embedding_segment if cut is None else cut
    if TARGET not in text:
        raise ValueError(f"the sentence has no {TARGET}: the head classifies the word {TARGET}, got {text!r}")
    words = []
    for word in segment(text):
        if TARGET in word and word != TARGET:
            before, _, after = word.partition(TARGET)
            words += [piece for piece in (before, TARGET, after) if piece]
        else:
            words.append(word)
    if TARGET not in words:  # the segmenter cut across 苹果 (…苹 / 果…): segment around it instead
        before, _, after = text.partition(TARGET)
        words = [*(segment(before) if before.strip() else []), TARGET, *(segment(after) if after.strip() else [])]
    return words


def is_cue(token: str, cues) -> bool:
    """Whether a token is one of the sentence's cue words, allowing for another segmentation.

    The cues are listed as jieba splits them; the trained model segments with
    pkuseg, which may cut 新鲜水果 where jieba cuts 新鲜 / 水果. A token counts
    when it contains a cue or lies inside one.
    """
    return token != TARGET and any(cue in token or token in cue for cue in cues)


def check_corpus(corpus, name: str = "corpus") -> pd.DataFrame:
    if not isinstance(corpus, pd.DataFrame):
        raise TypeError(f"{name} must be a DataFrame with columns text and sense (see ats.apple_sentences()), "
                        f"got {type(corpus).__name__}")
    missing = [c for c in COLUMNS if c not in corpus.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {', '.join(missing)}: it needs text and sense "
                         "(see ats.apple_sentences())")
    if len(corpus) == 0:
        raise ValueError(f"{name} is empty: there is nothing to learn from")
    unknown = sorted(set(corpus["sense"]) - set(SENSES))
    if unknown:
        raise ValueError(f"{name} has unknown sense labels {unknown}: each sense must be '水果' or '品牌'")
    return corpus


def head_tokens(text: str, cut=None) -> list[str]:
    """The tokens the head reads: apple_tokens(text, cut) without punctuation, which decides no sense."""
    return [t for t in apple_tokens(text, cut) if not all(unicodedata.category(ch).startswith("P") for ch in t)]
