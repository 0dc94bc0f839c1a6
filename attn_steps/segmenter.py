"""Stage 0, text -> words: jieba's dictionary method, written out so every step can be shown.

jieba (the segmenter of the book's offline stand-in) cuts a run of Chinese
characters in three steps, each one function here:

    prefix_dict   every dictionary word with its count, and every prefix of a word (count 0),
                  so a scan can stop as soon as no word can start with what it has read;
    dag           for each character k, every j such that text[k:j+1] is a dictionary word
                  (a directed acyclic graph: an edge k -> j+1 per candidate word);
    route         by dynamic programming from the end, the path through the graph with the
                  highest sum of log P(word) = log(count) - log(total); ties go to the longer word.

`cut` adds what jieba's `cut(text, HMM=False)` does around them (`blocks`: runs of
hanzi, Latin letters and digits are cut by the dictionary; spaces and punctuation
become tokens of their own; single letters and digits next to each other are
joined into one token) and equals `jieba.lcut(text, HMM=False)` over jieba's own
dictionary. jieba's default also guesses unknown words with a hidden Markov
model (HMM=True); that is out of scope here: a run no dictionary word covers
falls back to single characters.

The dictionary is cut from jieba's `dict.txt` (MIT licence, shipped with the
jieba package), deterministically and without network: every word jieba counted
at least MIN_COUNT times, plus every word that occurs anywhere in the chapters'
sentences or the book's 苹果 corpus (so they have exactly the candidates they have
in jieba), keeping jieba's total count so every log-probability is jieba's own.
`to_json` packs it for the wire: the words grouped by length with no separators,
each group's counts from the largest down as differences (tools/make_segmenter_dict.py
measures the choice). `lone_runs` finds where a cut fell back to single characters,
which the page flags: the word may be one the site's dictionary left out. `attn_steps/web/segmenter.js` is
the same code for the browser, function for function (camelCase names).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

# jieba 0.42.1's own patterns (jieba/__init__.py): what it cuts with the dictionary,
# what it treats as whitespace, and which single tokens it joins into Latin runs.
HAN = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)")
SKIP = re.compile(r"(\r\n|\s)")
ENG = re.compile("[a-zA-Z0-9]")
HAN_CHAR = re.compile("[\u4E00-\u9FD5]")

MIN_COUNT = 50  # every word jieba counted this often is kept (52 178 words); see tools/make_segmenter_dict.py
SOURCE = "jieba 0.42.1 dict.txt (MIT licence)"
# jieba's LICENSE (github.com/fxsjy/jieba; the wheel ships none): the MIT licence asks that its notice
# go with every substantial portion, so the site's dictionary table carries it.
JIEBA_LICENCE = """The MIT License (MIT)

Copyright (c) 2013 Sun Junyi

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of
the Software, and to permit persons to whom the Software is furnished to do so,
subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS
FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE."""
# The sentences the chapters segment besides the corpus's (tests/test_segmenter.py finds them in
# the notebooks and fails when one is missing here): their words are kept whatever their counts.
CHAPTER_SENTENCES = ("我喜欢的水果是橙子和苹果", "我爱我的家", "相比苹果我更加喜欢国产的华为", "我的苹果手机没电了。",
                     "我想吃酸菜鱼", "鱼菜酸吃想我", "我想吃酸菜肉", "橙子", "香蕉", "电脑")


@dataclass(frozen=True)
class Dictionary:
    """A prefix dictionary: counts of words (and 0 for prefixes that are no word), and jieba's total."""

    freq: Mapping  # word or prefix -> count; a count of 0 marks a prefix only
    total: int  # sum of the counts of jieba's full dict.txt, so log P(word) is jieba's
    words: tuple  # the words kept (count > 0), in the order they were given
    source: str = SOURCE
    keep: tuple = ()  # the words the book's sentences use: kept whatever their counts
    min_count: int | None = None  # trim's threshold; None for a dictionary given word by word

    @property
    def log_total(self) -> float:
        return math.log(self.total)


# ---- the method, one step per function -------------------------------------


def prefix_dict(entries, total: int, source: str = SOURCE) -> Dictionary:
    """(word, count) pairs -> Dictionary with every prefix of every word (count 0 unless a word itself).

    As jieba's gen_pfdict: a later entry of the same word replaces the earlier count.
    """
    freq: dict[str, int] = {}
    for word, count in entries:
        if not isinstance(word, str) or not word or any(c.isspace() for c in word):
            raise ValueError(f"a dictionary word must be a non-empty string without spaces, got {word!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"the count of {word!r} must be a whole number ≥ 1, got {count!r}")
        freq[word] = count
        for end in range(1, len(word)):
            freq.setdefault(word[:end], 0)
    if isinstance(total, bool) or not isinstance(total, int) or total < max(freq.values(), default=1):
        raise ValueError(f"total must be a whole number at least as large as every count, got {total!r}")
    words = tuple(w for w, c in freq.items() if c > 0)
    return Dictionary(MappingProxyType(freq), total, words, source)  # read-only: site_dictionary is shared


def dag(sentence: str, d: Dictionary) -> list[list[int]]:
    """For each position k (n of them), the ends j (inclusive) of every word text[k:j+1]; [k] when none.

    A lone character that is no word still gets its edge k -> k, so a path always exists.
    """
    graph = []
    n = len(sentence)
    for k in range(n):
        ends, i, frag = [], k, sentence[k]
        while i < n and frag in d.freq:  # stop once no word starts with frag
            if d.freq[frag]:
                ends.append(i)
            i += 1
            frag = sentence[k : i + 1]
        graph.append(ends or [k])
    return graph


def log_prob(word: str, d: Dictionary) -> float:
    """log P(word) = log(count) − log(total); a word not in the dictionary counts 1, as in jieba."""
    return math.log(d.freq.get(word) or 1) - d.log_total


def route(sentence: str, graph: list[list[int]], d: Dictionary) -> list[tuple[float, int]]:
    """(n + 1) pairs: route[k] = (best sum of log P over text[k:], end of the first word of that path).

    Filled from the end (route[n] = (0, 0)); max over (score, end) tuples, so on equal
    scores the larger end (the longer word) wins, exactly as jieba's calc.
    """
    n = len(sentence)
    best = [(0.0, 0)] * (n + 1)
    for k in range(n - 1, -1, -1):
        best[k] = max((math.log(d.freq.get(sentence[k : j + 1]) or 1) - d.log_total + best[j + 1][0], j)
                      for j in graph[k])
    return best


def follow(sentence: str, best: list[tuple[float, int]]) -> list[str]:
    """The words along the route from position 0, with single letters/digits in a row joined (abc, 2024)."""
    words, latin, k = [], "", 0
    while k < len(sentence):
        end = best[k][1] + 1
        word = sentence[k:end]
        if len(word) == 1 and ENG.match(word):
            latin += word
        else:
            if latin:
                words.append(latin)
                latin = ""
            words.append(word)
        k = end
    if latin:
        words.append(latin)
    return words


def blocks(text: str) -> list[tuple[str, bool]]:
    """text -> (piece, by_dictionary) in order: runs of hanzi/Latin/digits (True), else one token each (False).

    Whitespace stays a token of its own ('\\r\\n' is one), as jieba yields it.
    """
    out = []
    for block in HAN.split(text):
        if not block:
            continue
        if HAN.match(block):
            out.append((block, True))
            continue
        for piece in SKIP.split(block):
            if SKIP.match(piece):
                out.append((piece, False))
            else:
                out.extend((ch, False) for ch in piece)
    return out


def cut(text: str, d: Dictionary | None = None) -> list[str]:
    """The words of text, equal to jieba.lcut(text, HMM=False) over the same dictionary (spaces included)."""
    d = _check(text, d)
    words = []
    for piece, by_dictionary in blocks(text):
        words += follow(piece, route(piece, dag(piece, d), d)) if by_dictionary else [piece]
    return words


def explain(text: str, d: Dictionary | None = None) -> list[dict]:
    """Every intermediate of `cut`, one dict per block, as the explorer shows them.

    A dictionary block: {"text", "by_dictionary": True, "dag": for each position the candidates
    [{"word", "end", "log_prob", "known"}], "route": [{"score", "end"}] (n + 1 rows),
    "words"}. Any other block: {"text", "by_dictionary": False, "words": [text]}.
    known is False for a lone character that is no dictionary word (the fallback).
    """
    d = _check(text, d)
    out = []
    for piece, by_dictionary in blocks(text):
        if not by_dictionary:
            out.append({"text": piece, "by_dictionary": False, "words": [piece]})
            continue
        graph = dag(piece, d)
        best = route(piece, graph, d)
        candidates = [[{"word": piece[k : j + 1], "end": j, "log_prob": log_prob(piece[k : j + 1], d),
                        "known": bool(d.freq.get(piece[k : j + 1]))} for j in ends]
                      for k, ends in enumerate(graph)]
        out.append({"text": piece, "by_dictionary": True, "dag": candidates,
                    "route": [{"score": s, "end": j} for s, j in best], "words": follow(piece, best)})
    return out


def _check(text, d: Dictionary | None) -> Dictionary:
    if not isinstance(text, str):
        raise TypeError(f"text must be a string (str), got {type(text).__name__}")
    if d is None:
        return site_dictionary()
    if not isinstance(d, Dictionary):
        raise TypeError(f"d must be a segmenter Dictionary (see site_dictionary()), got {type(d).__name__}")
    return d


# ---- the dictionary: cut from jieba's dict.txt -----------------------------


def jieba_dict_path() -> Path:
    """Where the installed jieba keeps dict.txt, found without importing jieba (whose import of
    pkg_resources warns under setuptools 80, which the book's build would take for an error)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("jieba is not installed, and its dict.txt is the segmenter's source: "
                                "pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "dict.txt"


@functools.lru_cache(maxsize=4)
def read_jieba_dict(path: str | None = None) -> tuple[tuple[tuple[str, int], ...], int]:
    """dict.txt -> ((word, count) per line, in file order; jieba's total: the sum over every line)."""
    entries, total = [], 0
    with open(path or jieba_dict_path(), encoding="utf-8") as f:
        for line in f:
            word, count = line.strip().split(" ")[:2]
            entries.append((word, int(count)))
            total += int(count)
    return tuple(entries), total


def words_in(texts, entries) -> set[str]:
    """Every dictionary word that occurs anywhere inside one of the texts (all their DAG candidates)."""
    longest = max(len(w) for w, _ in entries)
    inside = {t[i:j] for t in texts for i in range(len(t)) for j in range(i + 1, min(len(t), i + longest) + 1)}
    return {w for w, _ in entries if w in inside}


def trim(entries, total: int, min_count: int = MIN_COUNT, keep=()) -> Dictionary:
    """Every word counted at least `min_count` times plus every word in `keep`, jieba's total kept.

    Words are ordered by length, then by count from the largest down, ties in file order: the
    order to_json packs them in, so the same inputs give the same dictionary, byte for byte.
    """
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"min_count must be a whole number ≥ 1, got {min_count!r}")
    latest = dict(entries)  # a repeated word counts as its last line, as in jieba
    first = {}
    for i, (word, _) in enumerate(entries):
        first.setdefault(word, i)
    book = tuple(sorted(set(keep) & set(latest), key=first.get))
    below = [w for w in book if latest[w] < min_count]
    chosen = [w for w, c in latest.items() if c >= min_count] + below
    kept = [(w, latest[w]) for w in sorted(chosen, key=lambda w: (len(w), -latest[w], first[w]))]
    source = (f"{SOURCE}: the {len(kept) - len(below)} words counted at least {min_count} times "
              f"and {len(below)} rarer ones the book's sentences use")
    return dataclasses.replace(prefix_dict(kept, total, source), keep=book, min_count=min_count)


@functools.lru_cache(maxsize=1)
def site_dictionary() -> Dictionary:
    """The book's dictionary: jieba's words counted at least MIN_COUNT times plus every word of the book's sentences."""
    from .corpus import apple_sentences

    entries, total = read_jieba_dict()
    return trim(entries, total, MIN_COUNT, words_in([*CHAPTER_SENTENCES, *apple_sentences()["text"]], entries))


def full_dictionary() -> Dictionary:
    """All of jieba's dict.txt: with it `cut` is jieba's HMM=False cut (a check, and a comparison)."""
    entries, total = read_jieba_dict()
    return prefix_dict(entries, total, f"{SOURCE}: every word")


def to_json(d: Dictionary) -> dict:
    """What segmenter.js loads: pack_words of the words, their counts by length, jieba's total, source, licence.

    The rarer words kept for the book's sentences (d.keep) are not marked: the page treats every word alike.
    min_count and jieba_words (how many words dict.txt has) let the page say how much of jieba it holds.

    counts[n] lists, for the words of length n (largest count first), the first count and then
    how much each next count is smaller: small numbers, which gzip packs well.
    """
    words = sorted(d.words, key=lambda w: (len(w), -d.freq[w]))  # stable: trim's order is kept
    counts = {}
    for n, group in pack_words(words).items():
        c = [d.freq[group[i : i + int(n)]] for i in range(0, len(group), int(n))]
        counts[n] = ",".join(map(str, [c[0], *(a - b for a, b in zip(c, c[1:]))]))
    return {"source": d.source, "licence": JIEBA_LICENCE, "total": d.total, "words": pack_words(words),
            "counts": counts, "min_count": d.min_count, "jieba_words": len(dict(read_jieba_dict()[0]))}


def from_json(data: dict) -> Dictionary:
    """to_json's dictionary back, as segmenter.js's fromJson reads it."""
    entries = []
    for n in sorted(data["words"], key=int):  # as JavaScript orders the keys "1", "2", … "16"
        group = data["words"][n]
        c = list(itertools.accumulate((int(x) for x in data["counts"][n].split(",")), lambda a, b: a - b))
        entries += zip(unpack_words({n: group}), c)
    return dataclasses.replace(prefix_dict(entries, data["total"], data["source"]), min_count=data["min_count"])


def pack_words(words) -> dict[str, str]:
    """words -> {length: the words of that length run together}, each group in the given order."""
    groups: dict[str, list[str]] = {}
    for w in words:
        groups.setdefault(str(len(w)), []).append(w)
    return {n: "".join(ws) for n, ws in sorted(groups.items(), key=lambda kv: int(kv[0]))}


def unpack_words(groups: dict[str, str]) -> list[str]:
    """pack_words back: every group cut every n characters, shortest words first (as JavaScript orders the keys)."""
    return [groups[n][i : i + int(n)] for n in sorted(groups, key=int) for i in range(0, len(groups[n]), int(n))]


def lone_runs(block: dict) -> list[list[str]]:
    """The runs of two or more single hanzi in a row that `explain`'s block was cut into.

    There no dictionary word covers them together: they may be words of one
    character each (我 / 想 / 吃), or a word the site's dictionary left out (散步 with
    a smaller dictionary), or one jieba has no entry for at all.
    """
    runs, run = [], []
    for w in [*block["words"], ""]:
        if len(w) == 1 and HAN_CHAR.match(w):
            run.append(w)
            continue
        if len(run) > 1:
            runs.append(run)
        run = []
    return runs
