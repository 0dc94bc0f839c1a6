"""Alt texts on the built site: every image in a page's content says in Chinese what it shows (issue 31).

If these broke, a screen reader would read a figure as its file name ("../_images/5748fcd3….png"), or
as nothing, on the page where it happened. Reads _build/html (or ATTN_STEPS_SITE), like tests/test_site.py.
"""

from __future__ import annotations

import re

import pytest

from .test_site import CHAPTERS, CJK, SITE, article, page

pytestmark = pytest.mark.notebook

HASH = re.compile(r"[0-9a-f]{16,}")
PATHLIKE = re.compile(r"^(\.{0,2}/|[a-z]+:)|^\S*\.(png|svg|jpe?g|gif|webp)$", re.IGNORECASE)  # ../_images/x.png, x.png


def content_pages() -> list[str]:
    """Every page of the built site (prose and chapters, the index and search too), as names like 'book/intro'."""
    if not SITE.is_dir():
        pytest.fail(f"no built site at {SITE}: run `make book` first")
    return sorted(str(p.relative_to(SITE).with_suffix("")) for p in SITE.rglob("*.html")
                  if not {"_static", "_sources", "_images"} & set(p.relative_to(SITE).parts))


def test_every_image_in_every_page_has_a_real_alt():
    bad = []
    count = 0
    for name in content_pages():
        for img in article(page(name)).find_all("img"):
            count += 1
            alt = (img.get("alt") or "").strip()
            if not alt or alt == img.get("src") or HASH.search(alt) or PATHLIKE.search(alt) or not CJK.search(alt):
                bad.append(f"{name}: {img.get('src')} alt={alt[:80]!r}")
    assert count > 30, f"only {count} images found: is this the built book?"
    assert not bad, "images whose alt is empty, a path, a hash or not Chinese:\n" + "\n".join(bad)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.split("/")[-1] for c in CHAPTERS])
def test_chapter_figures_are_described_from_their_numbers(chapter):
    """Each figure's alt is the helper's description: what it is and at least one number read off it."""
    imgs = [img for img in article(page(chapter)).find_all("img") if img.get("src", "").endswith(".png")]
    assert imgs
    for img in imgs:
        alt = img["alt"]
        assert re.search(r"图|网格", alt) and re.search(r"\d", alt), alt


def test_softmax_heatmap_names_the_sentence_and_its_largest_cells():
    """Chapter 8's weights of text1, alone in a figure, as the issue asks: stage, sentence, shape, largest cell."""
    alts = [img["alt"] for img in article(page("notebooks/08_tiles_and_cache")).find_all("img")]
    softmax = [a for a in alts if a.startswith("热力图「softmax(Q·Kᵀ/√d_k)")]
    assert softmax, alts
    assert "句子「我喜欢的水果是橙子和苹果」" in softmax[0] and "8 行 × 8 列" in softmax[0]
    assert re.search(r"(最大的格：|有 \d+ 格是 1\.00：)\S+ → \S+", softmax[0])


def test_a_strip_of_stages_has_its_long_description_under_it():
    """plot_steps draws every stage at once: the alt summarises, a <details> under it describes each panel."""
    soup = article(page("notebooks/02_walkthrough"))
    strips = [img for img in soup.find_all("img") if "一步一步的" in img.get("alt", "")]
    assert strips, "chapter 2's strip of stages is not described as one"
    details = strips[0].find_next("details", class_="figure-description")
    assert details is not None and details.summary.get_text() == "图的文字描述"
    lines = [p.get_text() for p in details.find_all("p")]
    assert len(lines) >= 8 and lines[0].startswith("（1）热力图「X")
