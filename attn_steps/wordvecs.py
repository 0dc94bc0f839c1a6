"""Per-word vectors for the browser.

On the static site a reader types a sentence; the page segments it
(segmenter.js) and needs X without a kernel. So at build time we export
`embed(words, dim, context=False)` (each word embedded on its own, no
neighbours) for the VECTOR_WORDS most frequent words of the segmenter's
dictionary (and the rarer ones the book's sentences use) and for every
character a word may be split into (the GB2312 characters, which the site's
font draws, and printable ASCII), quantised to 16 bits with one scale per
column: value ≈ scale[c] · q, q an integer in −32767..32767. `wordvecs.js` decodes it.
Not every dictionary word: a row costs 20 bytes that gzip cannot shrink (the
numbers look random), so 52 000 rows would be 1 MB; a rarer word is looked up
character by character, and the page says so.

Unlike the chapters' contextual tok2vec vectors, these are per word: 苹果 has
one row whatever surrounds it. Chapter 4's trained head (context=False) needs
even less per word, two numbers (export_head_table, head_verdict).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import checks
from .embeddings import REAL_SOURCE, STAND_IN_SOURCE, WIDTH, pipeline, unique_labels, use_trained_model, with_characters
from .layers import layer_norm
from .segmenter import cut, pack_words, unpack_words

LEVELS = 32767  # symmetric int16: −32767..32767, so 0 stays exactly 0
VECTOR_WORDS = 8_000  # words with a row of their own; tools/make_segmenter_dict.py prints what it costs


def word_vectors(words, dim: int = 10) -> np.ndarray:
    """(n, dim) the first dim numbers of each word's vector on its own: embed(words, dim, context=False).

    The same pipeline, fed as one batch (nlp.pipe of one-word documents) rather
    than one call per word: for a dictionary of 20 000 words that is minutes
    against seconds, and the tests check the numbers are bit for bit embed's.
    """
    words = checks.words(words)
    dim = checks.dim(dim, WIDTH)
    nlp = pipeline(use_trained_model(None))  # first: it imports spaCy with its import-time warnings silenced
    from spacy.tokens import Doc

    docs = nlp.pipe((Doc(nlp.vocab, words=[w]) for w in words), batch_size=1000)
    return np.array([doc[0].vector[:dim] for doc in docs], dtype=np.float64)


def fallback_chars() -> list[str]:
    """The single characters a fallback token may be: GB2312 (hanzi, punctuation, full-width forms) and ASCII."""
    chars = [chr(c) for c in range(0x21, 0x7F)]
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                char = bytes((hi, lo)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            if not char.isspace():  # U+3000, the ideographic space, is a separator, never a token
                chars.append(char)
    return chars


def vector_words(d, n: int = VECTOR_WORDS) -> list[str]:
    """The n most frequent words of dictionary d (ties in d's order) and every word of the book's sentences (d.keep),
    in the order a packed table is read back (by length, then d's order)."""
    top = set(sorted(d.words, key=lambda w: -d.freq[w])[:n]) | set(d.keep)
    return unpack_words(pack_words([w for w in d.words if w in top]))  # the order the table's rows are read in


def table_tokens(dictionary_words) -> list[str]:
    """The dictionary's words, then every fallback character that is not already one of them."""
    words = list(dictionary_words)
    known = set(words)
    return words + [c for c in fallback_chars() if c not in known]


def quantise(V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, d) floats -> ((n, d) int16, (d,) scale): V ≈ q · scale, the error at most scale/2 per entry.

    16 bits, not 8: the stand-in's scores are large (tens after ÷√d_k), so the softmax
    is nearly one-hot and 8 bits moved some weights by more than 0.5 (measured in
    tests/test_wordvecs.py); 16 bits keep every stage within a few thousandths.
    """
    V = np.asarray(V, dtype=np.float64)
    if V.ndim != 2 or not np.isfinite(V).all():
        raise ValueError(f"quantise takes a finite 2-D array (tokens × dim), got shape {V.shape}")
    peak = np.abs(V).max(axis=0)  # (d,)
    scale = np.where(peak > 0, peak / LEVELS, 1.0)  # a column of zeros: any scale decodes to 0
    return np.rint(V / scale).astype("<i2"), scale


def dequantise(q: np.ndarray, scale) -> np.ndarray:
    """(n, d) integers and (d,) scale -> (n, d) floats: what the browser computes from the table."""
    return q.astype(np.float64) * np.asarray(scale, dtype=np.float64)


def export_table(d, dim: int = 10) -> dict:
    """The JSON the browser loads for dictionary d: its words (packed), scales and the rows as one base64 string.

    Rows follow vector_words(d), packed as segmenter.pack_words, then `extra` (the
    fallback characters that are no such word); vectors holds rows·dim little-endian
    int16, row after row. wordvecs.js decodes it.
    """
    words = vector_words(d)
    extra = table_tokens(words)[len(words):]
    q, scale = quantise(word_vectors([*words, *extra], dim))
    source = REAL_SOURCE if use_trained_model(None) else STAND_IN_SOURCE
    return {"source": source, "context": False, "dim": int(dim), "dictionary_words": len(d.words),
            "words": pack_words(words), "extra": "".join(extra), "scale": [float(s) for s in scale],
            "vectors": base64.b64encode(q.tobytes()).decode("ascii")}


def table_rows(table: dict, d) -> list[str]:
    """The tokens of an exported table's rows, in order; refuses a table made for another dictionary."""
    words = unpack_words(table["words"])
    if table["dictionary_words"] != len(d.words) or not all(d.freq.get(w) for w in words):
        raise ValueError("this vector table was exported for another dictionary: export it again from this one")
    return [*words, *table["extra"]]


def load_table(table: dict, d) -> pd.DataFrame:
    """The exported table back as a DataFrame (one row per token), as the browser reads it."""
    tokens = table_rows(table, d)
    q = np.frombuffer(base64.b64decode(table["vectors"]), dtype="<i2").reshape(len(tokens), table["dim"])
    vectors = pd.DataFrame(dequantise(q, table["scale"]), index=pd.Index(tokens, name="token"))
    vectors.attrs["source"] = table["source"]
    return vectors


def lookup(words, vectors: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    """words -> (X, missing): each word's row of the table (NaN when the table lacks it) and those positions.

    A word the table lacks (a Latin run such as iPhone15, a character outside
    GB2312, an emoji) is reported, never given a silent zero row.
    """
    words = checks.words(words)
    missing = [i for i, w in enumerate(words) if w not in vectors.index]
    X = vectors.reindex(words)
    X.index = pd.Index(unique_labels(words), name="token")
    X.attrs.update(source=vectors.attrs.get("source", ""), tokens=words, context=False, stage="X", formula="X",
                   kind="signed")
    return X, missing


# ---- chapter 4's trained head, per word ----------------------------------------


def head_id(head) -> str:
    """A short fingerprint of a trained head (settings, source, weights to 9 digits).

    The site's head table is trained at build time as chapter 4 trains its head;
    the chapter's explorer carries this id and refuses a table with another one,
    rather than showing a verdict of a different head.
    """
    h = hashlib.sha1(json.dumps({"settings": head.settings, "source": head.source}, sort_keys=True,
                                default=str).encode())
    for a in (head.params.Wq, head.params.Wk, head.params.Wv, head.params.u, np.atleast_1d(head.params.b)):
        h.update((np.round(np.asarray(a, dtype=np.float64), 9) + 0.0).tobytes())  # + 0.0: −0 hashes as 0
    return h.hexdigest()[:16]


def export_head_table(head, d, held_out: pd.DataFrame | None = None) -> dict:
    """What chapter 4's page needs to run a trained head (context=False) on a typed sentence, per word.

    With per-word vectors 苹果's query q = LN(x_苹果)·Wq is one fixed row, so each word i
    needs only two numbers: its scaled score s_i = q·(LN(x_i)·Wk)/√d_k and its vote
    r_i = (LN(x_i)·Wv)·u; then w = softmax(s) over the words but the target, and
    p(品牌) = σ(Σ w_i r_i + b). Two int16 columns per row instead of 96.
    calibration: training.calibration of the head on held_out (default: the corpus's
    test split), so the page can say how often a verdict as sure as the typed one was right.
    """
    from .corpus import SENSES, TARGET, apple_sentences
    from .training import calibration

    settings = head.settings
    if settings["context"] or settings["self_attend"]:
        raise ValueError("only a head trained with context=False and self_attend=False reads one fixed query per word")
    words = vector_words(d)
    tokens = table_tokens(words)
    X = layer_norm(word_vectors(tokens, settings["dim"]))  # (n, dim)
    if settings["chars"]:  # as training.features: each word's characters' mean joins its row
        X = with_characters(X, tokens, lambda letters: word_vectors(letters, settings["dim"]))
    X = X.to_numpy()  # (n, dim) or (n, 2·dim)
    p = head.params
    q = X[tokens.index(TARGET)] @ p.Wq  # (d_k,)
    columns = np.stack([(X @ p.Wk) @ q / np.sqrt(p.Wq.shape[1]), (X @ p.Wv) @ p.u], axis=1)  # (n, 2)
    qs, scale = quantise(columns)
    if held_out is None:
        held_out = apple_sentences().query("split == 'test'")
    bins = calibration(head.evaluate(held_out))[["lo", "hi", "sentences", "correct"]]
    return {"source": head.source, "head_id": head_id(head), "senses": list(SENSES), "target": TARGET,
            "b": float(p.b), "dim": 2, "calibration": bins.to_dict("records"),
            "dictionary_words": len(d.words), "words": pack_words(words), "extra": "".join(tokens[len(words):]),
            "scale": [float(x) for x in scale], "vectors": base64.b64encode(qs.tobytes()).decode("ascii")}


def head_reading(tokens, table: dict, rows: pd.DataFrame) -> pd.DataFrame:
    """How the head reads the tokens, one row per word: score, weight, vote and weight_x_vote.

    rows = load_table(table, d). tokens are the head's (training.head_tokens: 苹果 split
    out, no punctuation); the first 苹果 is the query and may not attend to itself: its
    score is −∞ (the mask M), its weight 0. Σ weight_x_vote + b is the logit of p(品牌).
    """
    tokens = checks.words(tokens)
    if table["target"] not in tokens:
        raise ValueError(f"the sentence has no {table['target']}: the head classifies that word")
    unknown = [t for t in tokens if t not in rows.index]
    if unknown:
        raise ValueError(f"the table has no vector for {unknown}: the head cannot read them")
    s, r = rows.loc[tokens, 0].to_numpy(), rows.loc[tokens, 1].to_numpy()
    allowed = np.arange(len(tokens)) != tokens.index(table["target"])
    if not allowed.any():
        raise ValueError(f"the head needs a word besides {table['target']} to look at")
    w = np.where(allowed, np.exp(s - s[allowed].max()), 0.0)
    w /= w.sum()
    return pd.DataFrame({"score": np.where(allowed, s, -np.inf), "weight": w, "vote": r, "weight_x_vote": w * r},
                        index=pd.Index(unique_labels(tokens), name="token"))


def head_verdict(tokens, table: dict, rows: pd.DataFrame) -> tuple[str, float, pd.Series]:
    """(sense, its probability, 苹果's attention row) from export_head_table's numbers: head.predict's, per word."""
    reading = head_reading(tokens, table, rows)
    prob = 1 / (1 + np.exp(-(reading["weight"].to_numpy() @ reading["vote"].to_numpy() + table["b"])))
    sense, p = (table["senses"][1], prob) if prob > 0.5 else (table["senses"][0], 1 - prob)
    return sense, float(p), reading["weight"].rename(table["target"])


def deciding_word(reading: pd.DataFrame, sense: str, senses) -> str | None:
    """The word whose weighted vote pushed hardest toward the verdict; None when none pushed that way (b decided).

    Toward 品牌 is a positive w × vote, toward 水果 a negative one: the largest |w × vote|
    among the words on the verdict's side.
    """
    toward = reading["weight_x_vote"] * (1 if sense == senses[1] else -1)
    return str(toward.idxmax()) if toward.max() > 0 else None


def field_tokens(text: str, d) -> list[str]:
    """The tokens chapter 4's text field gives the head for text, as explorer_typing.js makes them.

    The book's segmenter with the site's dictionary d (segmenter.cut, not spaCy's), 苹果 split
    out and punctuation dropped as training.head_tokens does (appleTokens), then a word the
    site's table lacks split into its characters when it has them all, and a character it
    lacks left out (lookupable).
    """
    from .corpus import head_tokens

    known = set(table_tokens(vector_words(d)))
    tokens = []
    for word in head_tokens(text, cut=lambda t: cut(t, d)):
        if word in known:
            tokens.append(word)
        elif len(word) > 1 and all(c in known for c in word):
            tokens += list(word)
        else:
            tokens += [c for c in word if c in known]
    return tokens


def both_cuts(head, texts, d) -> pd.DataFrame:
    """Chapter 4 §7: each sentence as the page reads it (spaCy's cut) and as the site's text field does
    (field_tokens), with the head's verdict on each. Same head, same per-word vectors: only the cut differs
    (and the field's 16-bit tables, which move p by less than 0.002)."""
    from .corpus import head_tokens

    rows = {}
    for text in texts:
        page, field = head_tokens(text), field_tokens(text, d)
        (page_sense, page_p), (field_sense, field_p) = head.predict(text), head.predict(field)
        rows[text] = {"本页切成": " / ".join(page), "本页的判断": page_sense, "本页的概率": page_p,
                      "输入框切成": " / ".join(field), "输入框的判断": field_sense, "输入框的概率": field_p,
                      "切法相同": page == field}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("句子")
