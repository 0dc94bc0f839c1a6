"""What each head of the poet does, as a number: the share of its attention on the pairs a role expects.

In the manner of TransformerLens's head detector: a role is a pattern of
(query, key) pairs; a head's score is the attention weight it puts on the
role's keys, summed over those keys, averaged over every query position where
the role applies, over all the poems. Two baselines sit beside each score: the
same architecture before training (`Poet.untrained`) and attention spread
evenly over the visible positions (1/(q+1) per key). A role is worth naming
only when a score clears both clearly.

Positions: 0 is <s>, character i of the poem is at i + 1. A line is L
characters and its closing ，or 。; lines are numbered 0, 1, 2, ... so the
second line of each couplet (an "even line" of the poem, 2nd, 4th, ...) has
an odd number here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .verse import verse_form


@dataclass(frozen=True)
class Role:
    """A role: its name (the tables' key), what the pages call it, what it means, and its pattern.

    pattern(L, n) → the (T, T) 0/1 matrix of expected (query, key) pairs for a form of
    n lines of L characters (T = n·(L + 1) + 1); the rows where it applies are its
    non-empty rows. Adding a role is one decorated pattern function (`@role(...)`).
    """

    name: str
    short: str  # the widget's labels, the chapter's table
    meaning: str  # in prose, Chinese
    pairs: str  # the same, in English
    pattern: Callable[[int, int], np.ndarray]


ROLES: dict[str, Role] = {}  # name → Role, in the order the roles are defined below


def role(name: str, short: str, meaning: str, pairs: str):
    """Register the pattern function it decorates as a role: one record per role."""

    def register(pattern):
        ROLES[name] = Role(name, short, meaning, pairs, pattern)
        return pattern

    return register


def _pos(L: int, line: int, col: int) -> int:
    """The position of a character: 0 is <s>, line j's column c (c = L is its ，or 。) sits at j·(L + 1) + c + 1."""
    return line * (L + 1) + col + 1


def _empty(L: int, n: int) -> np.ndarray:
    T = n * (L + 1) + 1
    return np.zeros((T, T))


@role("previous character", "前一字", "每个字看它前面的那个字",
      "each character (from the 2nd) → the character just before it")
def previous_character(L: int, n: int) -> np.ndarray:
    P = _empty(L, n)
    for q in range(2, len(P)):
        P[q, q - 1] = 1
    return P


@role("same column, previous line", "上句同列", "一行的每个字看上一行同一列的字",
      "a character of line j ≥ 1 → the same column of line j − 1")
def same_column_previous_line(L: int, n: int) -> np.ndarray:
    P = _empty(L, n)
    for j in range(1, n):
        for c in range(L + 1):
            P[_pos(L, j, c), _pos(L, j - 1, c)] = 1
    return P


@role("parallel position (对仗)", "对仗", "一联下句的每个字看上句同一列的字",
      "a character of a couplet's second line → the same column of its first line")
def parallel_position(L: int, n: int) -> np.ndarray:
    P = _empty(L, n)
    for j in range(1, n, 2):
        for c in range(L):
            P[_pos(L, j, c), _pos(L, j - 1, c)] = 1
    return P


@role("rhyme", "韵脚", "偶数行的末字看上一个偶数行的末字",
      "the last character of an even line (4th, 6th, 8th) → the last character of the previous even line")
def rhyme(L: int, n: int, before: int = 0) -> np.ndarray:
    P = _empty(L, n)
    for j in range(3, n, 2):
        P[_pos(L, j, L - 1 - before), _pos(L, j - 2, L - 1)] = 1
    return P


@role("rhyme, one before", "韵脚前", "偶数行末字之前的那个字看上一个偶数行的末字：下一个字就要押韵",
      "the character before that last one → the last character of the previous even line")
def rhyme_one_before(L: int, n: int) -> np.ndarray:
    return rhyme(L, n, before=1)


@role("punctuation", "标点", "每个字看前面所有的逗号和句号", "every position that can see a ，or 。 → all of them")
def punctuation(L: int, n: int) -> np.ndarray:
    P = _empty(L, n)
    marks = [_pos(L, j, L) for j in range(n)]
    for q in range(1, len(P)):
        P[q, [k for k in marks if k <= q]] = 1
    return P


@role("start token", "起始符", "每个字看开头记号 `<s>`", "every character → <s>")
def start_token(L: int, n: int) -> np.ndarray:
    P = _empty(L, n)
    P[1:, 0] = 1
    return P


CLEAR_MARGIN = 3.0  # a role is named for a head only when its score is ≥ 3× both baselines


def patterns(L: int, n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For a form: each role's (T, T) 0/1 pattern of expected (query, key) pairs and its (T,) rows where it applies."""
    return {name: (P, P.any(axis=1)) for name, P in ((name, r.pattern(L, n)) for name, r in ROLES.items())}


def role_sums(poet, by_form: dict) -> dict[str, np.ndarray]:
    """Per role: (n_layer, n_head) attention on the expected keys, summed over poems and query rows."""
    c = poet.config
    sums = {role: np.zeros((c.n_layer, c.n_head)) for role in ROLES}
    for (L, n), rows in by_form.items():
        pats = patterns(L, n)
        for k in range(0, len(rows), 32):
            _, weights = poet.forward(rows[k:k + 32], logits=False)
            W = np.stack(weights, axis=1).sum(axis=0)  # (n_layer, nh, T, T), summed over the poems
            for role, (P, _) in pats.items():
                sums[role] += (W * P).sum(axis=(-1, -2))
    return sums


def regular_poems(poems, block_size: int) -> tuple[list[str], int]:
    """(the regular poems that fit the context, how many were skipped): what head_roles and the knock-outs measure on."""
    if isinstance(poems, str) or not hasattr(poems, "__iter__"):
        raise TypeError("poems must be a list of poem strings, e.g. the test poems")
    poems = list(poems)
    for p in poems:
        if not isinstance(p, str):
            raise TypeError(f"every poem must be a string (str), got {type(p).__name__}")
    kept = [p for p in poems if verse_form(p) is not None and len(p) + 1 <= block_size]
    if not kept:
        raise ValueError("none of the poems is regular verse (4 or 8 lines of 5 or 7 characters, ，。 alternating): "
                         "there is nothing to measure the heads on")
    return kept, len(poems) - len(kept)


def head_roles(poet, poems, untrained_seed: int = 0) -> pd.DataFrame:
    """One row per (role, layer, head): score, untrained, uniform, queries (how many query positions were averaged).

    poems: regular poems (others are skipped; df.attrs says how many were used).
    untrained: the same score for `poet.untrained(untrained_seed)`; uniform: for
    weights 1/(q+1) on every visible key. Characters outside the vocabulary are
    read as <unk> silently here.
    """
    kept, skipped = regular_poems(poems, poet.config.block_size)
    by_form = {}
    for p in kept:
        by_form.setdefault(verse_form(p), []).append(poet.encode(p, errors="ignore"))
    queries = {role: 0 for role in ROLES}
    uniform = {role: 0.0 for role in ROLES}
    for (L, n), rows in by_form.items():
        for role, (P, applies) in patterns(L, n).items():
            queries[role] += applies.sum() * len(rows)
            visible = np.arange(P.shape[0]) + 1.0
            uniform[role] += (P.sum(axis=1) / visible)[applies].sum() * len(rows)
    trained = role_sums(poet, by_form)
    untrained = role_sums(poet.untrained(untrained_seed), by_form)
    c = poet.config
    records = []
    for role in ROLES:
        q = queries[role]
        for layer in range(c.n_layer):
            for head in range(c.n_head):
                records.append(dict(role=role, layer=layer, head=head,
                                    score=trained[role][layer, head] / q if q else np.nan,
                                    untrained=untrained[role][layer, head] / q if q else np.nan,
                                    uniform=uniform[role] / q if q else np.nan, queries=int(q)))
    df = pd.DataFrame(records)
    df.attrs.update(poems=sum(len(r) for r in by_form.values()), skipped=skipped,
                    roles={name: r.pairs for name, r in ROLES.items()})
    return df


def named_roles(roles: pd.DataFrame, margin: float = CLEAR_MARGIN) -> dict[tuple[int, int], list[str]]:
    """{(layer, head): the roles it looks like}: each role whose score is ≥ margin × both baselines, clearest first."""
    need = {"role", "layer", "head", "score", "untrained", "uniform"}
    if not hasattr(roles, "columns") or not need <= set(roles.columns):
        raise TypeError("roles must be the DataFrame ats.head_roles(poet, poems) returns")
    out: dict[tuple[int, int], list[tuple[float, str]]] = {}
    for r in roles.itertuples():
        floor = max(r.untrained, r.uniform)
        if np.isfinite(r.score) and r.score > 0 and r.score >= margin * floor:
            out.setdefault((int(r.layer), int(r.head)), []).append((-r.score / floor if floor > 0 else -np.inf, r.role))
    return {k: [role for _, role in sorted(v)] for k, v in out.items()}
