"""Stage 0: the book's segmenter cuts as jieba's HMM=False cut, and its trimmed dictionary keeps that on the book's text.

If these fail, a reader would see the site's segmentation (and so every
stage after it) differ from the chapters', or a DAG whose numbers are not
jieba's.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from pathlib import Path

import pytest

import attn_steps as ats
from attn_steps import segmenter as sg

from .conftest import TEXT1, TEXT2

ROOT = Path(__file__).resolve().parent.parent
# Calls whose first argument is a sentence a chapter segments, and names a chapter gives its sentences.
SENTENCE_CALLS = {"embed", "explore", "segment", "predict", "attention_row", "steps", "apple_tokens", "head_tokens"}
# Whatever jieba's own regular expressions make of these, ours must too.
AWKWARD = ["abc 123苹果iPhone15 Pro\r\n很好😀！", "  ", "C++和AT&T的B超", "3.14%的人用c#写_代码-测试",
           "ｉＰｈｏｎｅ１５和１２３", "\t苹果\u3000手机\xa0电池\x1c", "", "。。。", "a", "苹"]


def _code_cells():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":  # IPython magics (%pip, !ls) are no Python: parse them as pass
                yield ast.parse(re.sub(r"(?m)^(\s*)[%!].*$", r"\1pass", "".join(cell["source"])))


def _chinese_literals(node) -> list[str]:
    return [n.value for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and re.search("[\u4e00-\u9fff]", n.value)]


def chapter_sentences() -> list[str]:
    """The sentences the chapters embed, explore or classify (text1 = ..., ats.embed("..."), ...)."""
    found = []
    for tree in _code_cells():
        for node in ast.walk(tree):
            args = []
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in SENTENCE_CALLS:
                args = node.args[:1]
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id.startswith("text")
                                                     for t in node.targets):
                args = [node.value]
            found += [s for a in args for s in _chinese_literals(a) if s not in found]
    return found


def chapter_strings() -> list[str]:
    """Every Chinese string in the chapters' code: sentences, and labels and titles (text a reader might type)."""
    found = []
    for tree in _code_cells():
        found += [s for s in _chinese_literals(tree) if s not in found]
    return found


@pytest.fixture(scope="module")
def jieba():
    import jieba as jb

    jb.setLogLevel(logging.WARNING)
    jb.initialize()
    return jb


@pytest.fixture(scope="module")
def full():
    return sg.full_dictionary()


@pytest.fixture(scope="module")
def corpus():
    return list(ats.apple_sentences()["text"])


def test_the_chapters_sentences_are_found():
    sentences = chapter_sentences()
    assert TEXT1 in sentences and TEXT2 in sentences and "我想吃酸菜鱼" in sentences
    missing = [s for s in sentences if s not in sg.CHAPTER_SENTENCES]
    assert missing == [], f"add {missing} to segmenter.CHAPTER_SENTENCES, so the dictionary keeps their words"
    assert len(chapter_strings()) > 3 * len(sentences)


def test_over_jiebas_whole_dictionary_the_cut_is_jiebas_cut(jieba, full, corpus):
    texts = corpus + chapter_strings() + AWKWARD
    differ = [t for t in texts if sg.cut(t, full) != jieba.lcut(t, HMM=False)]
    assert differ == []


def test_dag_and_route_are_jiebas_number_for_number(jieba, full, corpus):
    for text in [TEXT1, TEXT2, *corpus[::25]]:
        graph = sg.dag(text, full)
        assert {k: ends for k, ends in enumerate(graph)} == jieba.dt.get_DAG(text)
        theirs = {}
        jieba.dt.calc(text, jieba.dt.get_DAG(text), theirs)
        assert sg.route(text, graph, full) == [theirs[k] for k in range(len(text) + 1)]


def test_an_exact_tie_goes_to_the_longer_word_as_in_jieba(tmp_path):
    import jieba as jb

    # Counts 4, 4, 1 out of 16: log(1/16) equals 2·log(4/16) exactly in floating point (powers of two),
    # so 甲乙 and 甲 / 乙 score the same and only the tie rule decides.
    entries = [("甲", 4), ("乙", 4), ("甲乙", 1), ("丙", 7)]
    (tmp_path / "tie.txt").write_text("".join(f"{w} {c}\n" for w, c in entries), encoding="utf-8")
    tokenizer = jb.Tokenizer(str(tmp_path / "tie.txt"))
    tokenizer.tmp_dir = str(tmp_path)  # its cache goes here, not into the system's temp folder
    d = sg.prefix_dict(entries, total=16)
    assert sg.log_prob("甲乙", d) == sg.log_prob("甲", d) + sg.log_prob("乙", d)
    assert sg.cut("甲乙", d) == tokenizer.lcut("甲乙", HMM=False) == ["甲乙"]


def test_the_site_dictionary_keeps_jiebas_cut_on_the_corpus_and_the_chapters(jieba, corpus, capsys):
    d = sg.site_dictionary()
    same = [sg.cut(t, d) == jieba.lcut(t, HMM=False) for t in corpus]
    chapters = [t for t in chapter_sentences() if sg.cut(t, d) != jieba.lcut(t, HMM=False)]
    strings = chapter_strings()
    strings_same = sum(sg.cut(t, d) == jieba.lcut(t, HMM=False) for t in strings)
    with capsys.disabled():
        print(f"\nsite dictionary ({len(d.words)} words): the 苹果 corpus {sum(same)}/{len(corpus)} sentences "
              f"cut as jieba.lcut(HMM=False); the chapters' {len(chapter_sentences())} sentences: "
              f"{len(chapter_sentences()) - len(chapters)} the same; every Chinese string of the chapters' code: "
              f"{strings_same}/{len(strings)}")
    assert sum(same) / len(corpus) >= 0.95
    assert chapters == []


def test_on_sentences_it_was_not_cut_for_most_still_cut_as_jieba(jieba, capsys):
    # The corpus's test split cut with a dictionary that kept only the training split's words:
    # what a reader's own sentence gets. The rest differ where a word of the test sentence is
    # counted fewer than MIN_COUNT times (jieba's long tail), so the route takes its pieces.
    entries, total = sg.read_jieba_dict()
    corpus = ats.apple_sentences()
    train, test = corpus[corpus.split == "train"]["text"], corpus[corpus.split == "test"]["text"]
    d = sg.trim(entries, total, sg.MIN_COUNT, sg.words_in(train, entries))
    share = sum(sg.cut(t, d) == jieba.lcut(t, HMM=False) for t in test) / len(test)
    with capsys.disabled():
        print(f"\nheld out: {share:.1%} of the test split cut as jieba with a dictionary cut for the training split")
    assert share >= 0.80  # 84.5% with every word counted ≥ 50 times; 70.5% with the 16 000 most frequent


@pytest.mark.parametrize("text, words", [("我们去散步吧", ["我们", "去", "散步", "吧"]),
                                         ("这家饭馆很好吃", ["这家", "饭馆", "很", "好吃"])])
def test_everyday_words_the_old_16000_words_split_are_whole(text, words, jieba):
    """If this broke, the page would cut 散步 into 散 / 步 (or 饭馆 into 饭 / 馆), as with the old
    16 000-word dictionary, and show log P tables that make jieba's method look wrong."""
    assert sg.cut(text, sg.site_dictionary()) == words == jieba.lcut(text, HMM=False)


def test_a_run_of_single_characters_is_flagged_as_the_page_flags_it():
    """If this broke, the page would not say where a typed word may be missing from the dictionary."""
    d = sg.site_dictionary()
    assert [sg.lone_runs(b) for b in sg.explain("我想吃酸菜鱼，奥利给！", d) if b["by_dictionary"]] == [
        [["我", "想", "吃"]], [["奥", "利", "给"]]]
    assert [sg.lone_runs(b) for b in sg.explain("我们去散步吧abc", d)] == [[]]
    small = sg.prefix_dict([("我们", 5), ("去", 3)], total=100)
    assert sg.lone_runs(sg.explain("我们去散步", small)[0]) == [["去", "散", "步"]]


def test_the_packed_table_reads_back_as_the_same_dictionary():
    """If this broke, the page's segmenter would load other words or counts than Python's."""
    d = sg.site_dictionary()
    data = sg.to_json(d)
    back = sg.from_json(json.loads(json.dumps(data, ensure_ascii=False, sort_keys=True)))
    assert sorted(back.words) == sorted(d.words) and dict(back.freq) == dict(d.freq) and back.total == d.total
    assert sg.unpack_words(sg.pack_words(["苹果", "我", "酸菜鱼", "手机"])) == ["我", "苹果", "手机", "酸菜鱼"]
    assert sg.unpack_words({"10": "中华人民共和国国务院", "2": "苹果"}) == ["苹果", "中华人民共和国国务院"]  # as JS reads it

def test_a_word_outside_the_dictionary_falls_back_to_characters(jieba):
    d = sg.prefix_dict([("苹果", 5), ("手机", 4)], total=100)
    assert sg.cut("苹果手机壳", d) == ["苹果", "手机", "壳"]
    block = sg.explain("苹果手机壳", d)[0]
    assert block["dag"][4] == [{"word": "壳", "end": 4, "log_prob": pytest.approx(-4.60517, abs=1e-5), "known": False}]


def test_explain_gives_what_the_page_shows_and_agrees_with_cut():
    d = sg.site_dictionary()
    text = "我的苹果手机没电了。"
    blocks = sg.explain(text, d)
    assert [w for b in blocks for w in b["words"]] == sg.cut(text, d)
    han = blocks[0]
    assert han["text"] == "我的苹果手机没电了" and han["by_dictionary"] and blocks[1]["by_dictionary"] is False
    assert len(han["dag"]) == len(han["text"]) and len(han["route"]) == len(han["text"]) + 1
    at_apple = {c["word"]: c["log_prob"] for c in han["dag"][2]}
    assert set(at_apple) >= {"苹", "苹果"}  # why 苹果手机 becomes 苹果 / 手机: no word 苹果手机 in jieba's dict
    assert at_apple["苹果"] == pytest.approx(sg.log_prob("苹果", d))
    route = han["route"]
    for k, row in enumerate(route[:-1]):  # each score is the best first word plus the best from its end on
        best = max(c["log_prob"] + route[c["end"] + 1]["score"] for c in han["dag"][k])
        assert row["score"] == pytest.approx(best, abs=1e-12)


def test_the_dictionary_is_the_same_every_time_and_keeps_jiebas_total():
    entries, total = sg.read_jieba_dict()
    d = sg.site_dictionary()
    book = [*sg.CHAPTER_SENTENCES, *ats.apple_sentences()["text"]]
    again = sg.trim(entries, total, sg.MIN_COUNT, sg.words_in(book, entries))
    assert sg.to_json(again) == sg.to_json(d)
    rarer = [w for w in d.words if d.freq[w] < sg.MIN_COUNT]
    assert d.total == total == 60101967 and 50_000 < len(d.words) < 60_000 and set(rarer) <= set(d.keep)
    assert all(d.freq[w[:i]] >= 0 for w in d.words for i in range(1, len(w)))


@pytest.mark.parametrize("call, error, match", [
    (lambda: sg.cut(42), TypeError, "text must be a string"),
    (lambda: sg.cut("苹果", {"苹果": 1}), TypeError, "Dictionary"),
    (lambda: sg.prefix_dict([("苹 果", 3)], 10), ValueError, "without spaces"),
    (lambda: sg.prefix_dict([("苹果", 0)], 10), ValueError, "whole number ≥ 1"),
    (lambda: sg.prefix_dict([("苹果", 30)], 10), ValueError, "total"),
    (lambda: sg.trim([("苹果", 3)], 3, min_count=0), ValueError, "min_count"),
])
def test_bad_input_gets_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_how_often_jiebas_hmm_cuts_otherwise_is_measured(jieba, capsys):
    # The stand-in's ats.segment (spaCy's jieba tokenizer) cuts with jieba's HMM on: it joins runs
    # of single characters no dictionary word covers into new words (这箱, 放久, 就会变), which this
    # segmenter, like jieba's HMM=False, leaves as characters. On these sentences a typed sentence
    # on the site is cut otherwise than in the chapters (the trained model cuts with pkuseg).
    d = sg.site_dictionary()
    corpus = list(ats.apple_sentences()["text"])
    same = sum(sg.cut(t, d) == jieba.lcut(t) for t in corpus)
    with capsys.disabled():
        print(f"\njieba with its HMM (the stand-in's ats.segment): {same}/{len(corpus)} corpus sentences cut the same")
    assert 0.6 * len(corpus) <= same < len(corpus)
