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

import numpy as np
import pandas as pd

from .verse import verse_form

form = verse_form  # the form check lives in verse; chapter 9 still imports it from here as `form`

ROLES = {
    "previous character": "each character (from the 2nd) → the character just before it",
    "same column, previous line": "a character of line j ≥ 1 → the same column of line j − 1",
    "parallel position (对仗)": "a character of a couplet's second line → the same column of its first line",
    "rhyme": "the last character of an even line (4th, 6th, 8th) → the last character of the previous even line",
    "rhyme, one before": "the character before that last one → the last character of the previous even line",
    "punctuation": "every position that can see a ，or 。 → all of them",
    "start token": "every character → <s>",
}
# What the pages call each role: a short name (the widget's labels, the chapter's table) and, in prose, what it means.
ROLE_NAMES = {
    "previous character": "前一字",
    "same column, previous line": "上句同列",
    "parallel position (对仗)": "对仗",
    "rhyme": "韵脚",
    "rhyme, one before": "韵脚前",
    "punctuation": "标点",
    "start token": "起始符",
}
ROLE_MEANINGS = {
    "previous character": "每个字看它前面的那个字",
    "same column, previous line": "一行的每个字看上一行同一列的字",
    "parallel position (对仗)": "一联下句的每个字看上句同一列的字",
    "rhyme": "偶数行的末字看上一个偶数行的末字",
    "rhyme, one before": "偶数行末字之前的那个字看上一个偶数行的末字：下一个字就要押韵",
    "punctuation": "每个字看前面所有的逗号和句号",
    "start token": "每个字看开头记号 `<s>`",
}
CLEAR_MARGIN = 3.0  # a role is named for a head only when its score is ≥ 3× both baselines


def patterns(L: int, n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For a form: each role's (T, T) 0/1 pattern of expected (query, key) pairs and its (T,) rows where it applies."""
    T = n * (L + 1) + 1

    def pos(line, col):
        return line * (L + 1) + col + 1

    out = {}
    for role in ROLES:
        P = np.zeros((T, T))
        if role == "previous character":
            for q in range(2, T):
                P[q, q - 1] = 1
        elif role == "start token":
            P[1:, 0] = 1
        elif role == "punctuation":
            punct = [pos(j, L) for j in range(n)]
            for q in range(1, T):
                P[q, [k for k in punct if k <= q]] = 1
        else:
            for j in range(1, n):
                for c in range(L + 1):
                    if role == "same column, previous line":
                        P[pos(j, c), pos(j - 1, c)] = 1
                    elif role == "parallel position (对仗)" and j % 2 == 1 and c < L:
                        P[pos(j, c), pos(j - 1, c)] = 1
                    elif role == "rhyme" and j % 2 == 1 and j >= 3 and c == L - 1:
                        P[pos(j, c), pos(j - 2, L - 1)] = 1
                    elif role == "rhyme, one before" and j % 2 == 1 and j >= 3 and c == L - 2:
                        P[pos(j, c), pos(j - 2, L - 1)] = 1
        out[role] = (P, P.any(axis=1))
    return out


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


def head_roles(poet, poems, untrained_seed: int = 0) -> pd.DataFrame:
    """One row per (role, layer, head): score, untrained, uniform, queries (how many query positions were averaged).

    poems: regular poems (others are skipped; df.attrs says how many were used).
    untrained: the same score for `poet.untrained(untrained_seed)`; uniform: for
    weights 1/(q+1) on every visible key. Characters outside the vocabulary are
    read as <unk> silently here.
    """
    if isinstance(poems, str) or not hasattr(poems, "__iter__"):
        raise TypeError("poems must be a list of poem strings, e.g. the test poems")
    poems = list(poems)
    for p in poems:
        if not isinstance(p, str):
            raise TypeError(f"every poem must be a string (str), got {type(p).__name__}")
    by_form, skipped = {}, 0
    for p in poems:
        f = verse_form(p)
        if f is None or len(p) + 1 > poet.config.block_size:
            skipped += 1
            continue
        by_form.setdefault(f, []).append(poet.encode(p, errors="ignore"))
    if not by_form:
        raise ValueError("none of the poems is regular verse (4 or 8 lines of 5 or 7 characters, ，。 alternating): "
                         "there is nothing to score the roles on")
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
    df.attrs.update(poems=sum(len(r) for r in by_form.values()), skipped=skipped, roles=dict(ROLES))
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
