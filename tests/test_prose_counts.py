"""Every count of sentences that the book's prose types by hand is the count in the data.

Markdown pages cannot compute, so each count they quote is listed here with
the number it must equal, computed from `ats.apple_sentences()`; and any other
"N 句" / "N sentences" in the prose fails until it is listed. If this fails, a
reader is told the 苹果 corpus has a size it does not have (the introduction
once said 434 sentences when the corpus had 754).
"""

import json
import re
from pathlib import Path

import pytest

import attn_steps as ats

ROOT = Path(__file__).resolve().parent.parent
FIRST_BATCH = 434  # rows written before the second batch: a fact of history, not a column of the CSV
# Counts of other things that happen to read "N 句", each checked where it stands.
NOT_THE_CORPUS = {"notebooks/07_masks.ipynb": ["(2 句, 8 个位置, 8 维)"]}  # a batch's shape, asserted in chapter 7
COUNT = re.compile(r"\d[\d,]*\s*(?:句|sentences)")


def prose(path: Path) -> str:
    """The text a reader reads: a Markdown file, or the Markdown cells of a notebook."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


PAGES = sorted([*ROOT.glob("book/*.md"), *ROOT.glob("notebooks/*.ipynb"), ROOT / "README.md",
                ROOT / "attn_steps" / "data" / "apple_sentences.md"])


def expected_phrases() -> dict[str, list[str]]:
    """Page (relative path) -> the phrases with counts it must contain, each count computed from the data."""
    c = ats.apple_sentences()

    def n(**where) -> int:
        """How many sentences have every column value in where (n() is the whole corpus)."""
        rows = c
        for column, value in where.items():
            rows = rows[rows[column] == value]
        return len(rows)

    second = c.iloc[FIRST_BATCH:]["sense"].value_counts()
    assert second.nunique() == 1, second  # "160 per sense" is one number only if both senses agree
    table = [f"| {label} | {n(sense=s, split='train')} | {n(sense=s, split='test')} | {n(sense=s)} |"
             for s, label in (("水果", "水果 (the fruit)"), ("品牌", "品牌 (Apple, the company or its products)"))]
    return {
        "book/intro.md": [f"本书手写的 {n()} 句话"],
        "book/references.md": [f"{n()} 句为本书手写的句子"],
        "README.md": [f"training split (chapter 4; {n(split='train')} sentences"],
        "attn_steps/data/apple_sentences.md": [
            f"{n()} sentences in Simplified Chinese", f"{n(split='test')} sentences ({n(split='test') / n():.0%}",
            *table, f"| all | {n(split='train')} | {n(split='test')} | {n()} |",
            f"The first {FIRST_BATCH} rows", f"rows\n{FIRST_BATCH + 1}–{n()}, {second.iloc[0]} per sense"],
    }


@pytest.fixture(scope="module")
def phrases():
    return expected_phrases()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_count_the_page_quotes_is_the_datas(page, phrases):
    text = prose(page)
    listed = phrases.get(str(page.relative_to(ROOT)), [])
    missing = [p for p in listed if p not in text]
    assert not missing, f"{page.name} no longer says (or miscounts): {missing}"
    for phrase in listed + NOT_THE_CORPUS.get(str(page.relative_to(ROOT)), []):
        text = text.replace(phrase, "")
    unchecked = COUNT.findall(text)
    assert not unchecked, f"{page.name} quotes counts no test checks: {unchecked}; list them in expected_phrases()"


def test_the_introduction_counts_text1s_tokens():
    """The introduction's shapes are for text1's 8 tokens; chapter 2 asserts the same segmentation for every source."""
    text1 = "我喜欢的水果是橙子和苹果"
    assert f"{len(ats.segment(text1))} 个词元" in prose(ROOT / "book" / "intro.md")
