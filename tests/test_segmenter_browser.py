"""segmenter.js and wordvecs.js in headless Chromium give Python's words, DAG, route and vectors.

If these fail, a sentence typed on the static site would be cut (or embedded)
differently from `attn_steps.segmenter.cut` and `wordvecs.lookup` in Python.
The page here is a bare one with the two scripts and the two tables, served
on 127.0.0.1 as a static host serves the site; the explorer's wiring is tested
with the built book.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import attn_steps as ats
from attn_steps import segmenter as sg
from attn_steps import wordvecs as wv

from tools import browser
from .conftest import require_browser
from .segmenter_tables import head_and_table, site_tables
from .test_segmenter import AWKWARD, chapter_sentences, chapter_strings

pytestmark = pytest.mark.browser

PACKAGE = Path(ats.__file__).resolve().parent
PAGE = """<!doctype html><meta charset="utf-8"><title>segmenter</title><link rel="icon" href="data:,">
<script src="segmenter.js"></script><script src="wordvecs.js"></script>"""
LOAD = """
const done = arguments[arguments.length - 1];
Promise.all(["segmenter-dict.json", "wordvecs-d10.json", "head.json"].map((f) => fetch(f).then((r) => r.json())))
  .then(([dict, table, head]) => {
    window.dict = AttnSegmenter.fromJson(dict);
    window.vectors = AttnWordVecs.loadTable(table, window.dict);
    window.head = head;
    window.headRows = AttnWordVecs.loadTable(head, window.dict);
    done(window.dict.words.length);
  }).catch((e) => done(String(e)));
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    require_browser()
    site = tmp_path_factory.mktemp("segmenter-page")
    (site / "index.html").write_text(PAGE, encoding="utf-8")
    for name in ("segmenter.js", "wordvecs.js"):
        (site / name).write_text((PACKAGE / "web" / name).read_text(encoding="utf-8"), encoding="utf-8")
    for name, table in zip(("segmenter-dict.json", "wordvecs-d10.json"), site_tables()):
        (site / name).write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    (site / "head.json").write_text(json.dumps(head_and_table()[1], ensure_ascii=False), encoding="utf-8")
    with browser.serve(site) as url, browser.chromium() as driver:
        driver.get(url + "index.html")
        assert driver.execute_async_script(LOAD) == len(sg.site_dictionary().words)
        yield driver
        assert browser.console_errors(driver) == []


def texts() -> list[str]:
    corpus = list(ats.apple_sentences()["text"])
    assert len(corpus) >= 200
    return [*chapter_sentences(), *chapter_strings(), *corpus, *AWKWARD]


def test_javascript_cuts_every_sentence_as_python(page, capsys):
    sentences = texts()
    theirs = page.execute_script("return arguments[0].map((t) => AttnSegmenter.cut(t, window.dict));", sentences)
    d = sg.site_dictionary()
    same = sum(a == sg.cut(t, d) for t, a in zip(sentences, theirs))
    with capsys.disabled():
        print(f"\nsegmenter.js in Chromium: {same}/{len(sentences)} texts cut as segmenter.py "
              "(chapters' sentences and strings, the whole 苹果 corpus, awkward input)")
    assert same == len(sentences)


def _same_explanation(ours, theirs) -> bool:
    """Equal records, the log-probabilities and route scores within 1e-12 (Math.log may differ in the last bit)."""
    if isinstance(ours, dict):
        return ours.keys() == theirs.keys() and all(_same_explanation(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list):
        return len(ours) == len(theirs) and all(_same_explanation(a, b) for a, b in zip(ours, theirs))
    if isinstance(ours, float):
        return math.isclose(ours, theirs, rel_tol=0, abs_tol=1e-12)
    return ours == theirs and type(ours) is type(theirs)


def test_javascript_shows_the_same_dag_and_route(page):
    sentences = [*chapter_sentences(), *list(ats.apple_sentences()["text"])[::4], *AWKWARD]
    theirs = page.execute_script("return arguments[0].map((t) => AttnSegmenter.explain(t, window.dict));", sentences)
    d = sg.site_dictionary()
    differ = [t for t, e in zip(sentences, theirs) if not _same_explanation(sg.explain(t, d), e)]
    assert differ == []


def test_javascript_decodes_the_vectors_python_decodes(page):
    d = sg.site_dictionary()
    words = sorted({w for t in texts() for w in sg.cut(t, d) if w.strip()})
    theirs = page.execute_script("return AttnWordVecs.lookup(arguments[0], window.vectors);", words)
    X, missing = wv.lookup(words, wv.load_table(site_tables()[1], d))
    assert theirs["missing"] == missing and missing  # Latin runs such as iPhone15 and the emoji are reported
    rows = [i for i in range(len(words)) if i not in missing]
    assert [theirs["X"][i] for i in rows] == X.iloc[rows].to_numpy().tolist()  # the same products, bit for bit
    assert all(theirs["X"][i] is None for i in missing)


def test_javascript_runs_chapter_4s_head_as_python(page):
    from attn_steps.training import head_tokens

    table = head_and_table()[1]
    rows = wv.load_table(table, sg.site_dictionary())
    sentences = [head_tokens(t) for t in ats.apple_sentences()["text"]]
    known = [t for t in sentences if all(w in rows.index for w in t)]
    theirs = page.execute_script(
        "return arguments[0].map((t) => AttnWordVecs.headVerdict(t, window.head, window.headRows));", sentences)
    assert len(known) > 300 and [t for t, v in zip(sentences, theirs) if "unknown" in v] == [
        t for t in sentences if t not in known]
    for tokens, verdict in zip(sentences, theirs):
        if tokens in known:
            sense, p, row = wv.head_verdict(tokens, table, rows)
            assert verdict["sense"] == sense and verdict["p"] == pytest.approx(p, abs=1e-12)
            assert verdict["weights"] == pytest.approx(row.to_list(), abs=1e-12)


def test_javascript_refuses_bad_input_with_a_message(page):
    errors = page.execute_script("""
      const tries = [() => AttnSegmenter.cut(42, window.dict), () => AttnSegmenter.cut("苹果", {}),
                     () => AttnSegmenter.prefixDict(["苹 果"], [3], 10),
                     () => AttnWordVecs.loadTable({dictionary_words: 1, words: {2: "苹果"}}, window.dict),
                     () => AttnWordVecs.loadTable({dictionary_words: window.dict.words.length, words: {2: "苹菓"}}, window.dict)];
      return tries.map((f) => { try { f(); return null; } catch (e) { return e.message; } });""")
    assert all(errors) and "another dictionary" in errors[-1] and "another dictionary" in errors[-2]


def test_everyday_words_are_whole_and_lone_characters_flagged_as_in_python(page):
    """If this broke, the site would cut 散步 into 散 / 步 (or 饭馆 into 饭 / 馆), or flag other runs of
    single characters than segmenter.py's lone_runs, so stage 0's note would not match its table."""
    d = sg.site_dictionary()
    texts = ["我们去散步吧", "这家饭馆很好吃", "我想吃酸菜鱼，奥利给！", *chapter_sentences(), *AWKWARD]
    theirs = page.execute_script("return arguments[0].map((t) => AttnSegmenter.explain(t, window.dict)"
                                 ".map((r) => [r.words, AttnSegmenter.loneRuns(r)]));", texts)
    ours = [[[b["words"], sg.lone_runs(b)] for b in sg.explain(t, d)] for t in texts]
    assert theirs == ours
    assert "散步" in theirs[0][0][0] and "饭馆" in theirs[1][0][0] and theirs[2][2][1] == [["奥", "利", "给"]]
