"""verse.js in headless Chromium judges form and rhyme as attn_steps/verse.py does.

If these fail, a poem the poet writes in the reader's browser would be said to
have a correct form, or its rhyme characters to rhyme, where Python (and the
chapter's numbers) says otherwise. The page here is a bare one with verse.js and
the table verse.rhyme_table_json() gives, served on 127.0.0.1 as a static host
serves the site.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import attn_steps as ats
from attn_steps import verse

from tools import browser
from .conftest import require_browser

PACKAGE = Path(ats.__file__).resolve().parent
PAGE = """<!doctype html><meta charset="utf-8"><title>verse</title><link rel="icon" href="data:,">
<script src="verse.js"></script>"""
LOAD = """
const done = arguments[arguments.length - 1];
fetch("pingshui.json").then((r) => r.json()).then((table) => {
  window.table = table;
  window.verse = AttnVerse.withTable(table);
  done(Object.keys(table).length);
}).catch((e) => done(String(e)));
"""
ODD = ["", "床前明月光", "床前明月光。疑是地上霜，", "白日依山，黄河入海。欲穷千里，更上一层。",
       "白日依山尽，黄河入海流。欲穷千里目，更上一层楼", "𥮾日依山尽，黄河入海𥮾。欲穷千里目，更上一层楼。",
       "白日依山尽，黄河入海流。欲穷千里目，更上一层𥮾。", "，。", "啼啼啼啼啼，啼啼啼啼啼。啼啼啼啼啼，啼啼啼啼啼。"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    require_browser()
    site = tmp_path_factory.mktemp("verse-page")
    (site / "index.html").write_text(PAGE, encoding="utf-8")
    (site / "verse.js").write_text((PACKAGE / "web" / "verse.js").read_text(encoding="utf-8"), encoding="utf-8")
    (site / "pingshui.json").write_text(verse.rhyme_table_json(), encoding="utf-8")
    with browser.serve(site) as url, browser.chromium() as driver:
        driver.get(url + "index.html")
        assert driver.execute_async_script(LOAD) == 106
        yield driver
        assert browser.console_errors(driver) == []


def test_javascript_reads_every_test_poem_as_python(page, capsys):
    poems = [*ats.test_poems(), *ODD]
    theirs = page.execute_script("""return arguments[0].map((p) => {
        const pairs = window.verse.rhymePairs(p);
        return [window.verse.verseForm(p), pairs, pairs.map(([a, b]) => window.verse.rhymes(a, b))];
      });""", poems)
    ours = [[list(f) if (f := ats.verse_form(p)) else None, [list(pair) for pair in ats.rhyme_pairs(p)],
             [ats.rhymes(a, b) for a, b in ats.rhyme_pairs(p)]] for p in poems]
    same = sum(a == b for a, b in zip(ours, theirs))
    with capsys.disabled():
        print(f"\nverse.js in Chromium: {same}/{len(poems)} poems read as verse.py (form, rhyme pairs, rhymes)")
    assert same == len(poems)
    assert any("𥮾" in str(pairs) for _, pairs, _ in ours)  # a character outside the BMP sits at a rhyme slot


def test_javascript_gives_every_characters_groups_as_python(page):
    chars = sorted(set(verse.rhyme_table()) | {ch for p in ats.test_poems() for ch in p}) + ["x", "啼", "𥮾"]
    theirs = page.execute_script("return arguments[0].map((ch) => window.verse.rhymeGroups(ch));", chars)
    assert theirs == [list(ats.rhyme_groups(ch)) for ch in chars]
    assert theirs[chars.index("光")] == ["下平七阳"]


def test_javascript_gives_pythons_rhyme_rate(page):
    poems = ats.test_poems()
    sets = [poems, poems[:7], poems[100:101], [*poems[:50], "not a poem"]]
    theirs = page.execute_script("return arguments[0].map((ps) => window.verse.rhymeRate(ps));", sets)
    assert theirs == [ats.rhyme_rate(ps) for ps in sets]  # the same counts, so the same float
    # the functions taking the table themselves agree with the bound ones
    assert page.execute_script("return AttnVerse.rhymeRate(arguments[0], window.table);", poems) == theirs[0]


def test_javascript_refuses_bad_input_as_python(page):
    tries = {
        "rate of one string": ("window.verse.rhymeRate(arguments[0])", "床前明月光", ats.rhyme_rate),
        "rate of a number in the list": ("window.verse.rhymeRate(arguments[0])", ["床前明月光", 7], ats.rhyme_rate),
        "rate of no poem of form": ("window.verse.rhymeRate(arguments[0])", ["床前明月光"], ats.rhyme_rate),
        "rate of no judged pair": ("window.verse.rhymeRate(arguments[0])", [ODD[-1]], ats.rhyme_rate),
        "rate of an empty list": ("window.verse.rhymeRate(arguments[0])", [], ats.rhyme_rate),
        "groups of two characters": ("window.verse.rhymeGroups(arguments[0])", "光霜", ats.rhyme_groups),
        "groups of a number": ("window.verse.rhymeGroups(arguments[0])", 7, ats.rhyme_groups),
        "pairs of a list": ("window.verse.rhymePairs(arguments[0])", ["白日"], ats.rhyme_pairs),
    }
    for name, (call, arg, python) in tries.items():
        message = page.execute_script(
            f"try {{ {call}; return null; }} catch (e) {{ return [e.name, e.message]; }}", arg)
        with pytest.raises((TypeError, ValueError)) as raised:
            python(arg)
        assert message is not None, name
        kind = "TypeError" if raised.type is TypeError else "Error"
        assert message[0] == kind and message[1] == str(raised.value), name
    bad_table = page.execute_script(
        "try { AttnVerse.withTable([1]); return null; } catch (e) { return e.message; }")
    assert "rhyme_table_json" in bad_table
