"""Checks of the built site, as a reader would meet it.

`make test` builds the site (`jupyter-book build . -W --keep-going`) before
pytest runs, so _build/html exists then. To check another build, point
ATTN_STEPS_SITE at its html folder:

    ATTN_STEPS_SITE=/tmp/sitebuild/_build/html .venv/bin/python -m pytest tests/test_site.py
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup
from PIL import Image, ImageStat

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("ATTN_STEPS_SITE", ROOT / "_build" / "html")).resolve()

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
REPO_URL = CONFIG["repository"]["url"].rstrip("/")
REPO = urlsplit(REPO_URL).path.strip("/")  # owner/name
BRANCH = CONFIG["repository"].get("branch", "main")
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
CHAPTERS = [
    entry["file"]
    for part in TOC.get("parts", [])
    for entry in part.get("chapters", [])
    if entry["file"].startswith("notebooks/")
]
BOOK_PAGES = ["book/intro", "book/glossary", "book/references", "book/testing"]

MIN_FIGURES = 3  # every chapter draws at least this many heatmaps
MIN_SIDE, MAX_SIDE = 100, 8000  # pixels: neither a thumbnail nor a runaway figure
CJK = re.compile(r"[\u4e00-\u9fff]")
MIN_CJK_CHARS = 100


@cache
def page(name: str) -> BeautifulSoup:
    """The built page for a source file name like 'notebooks/01_toy_example'."""
    if not SITE.is_dir():
        pytest.fail(f"no built site at {SITE}: run `make book` first "
                    "(or set ATTN_STEPS_SITE to a built _build/html folder)")
    path = SITE / f"{name}.html"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make book` (a page that is not built is not on the site)")
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def article(soup: BeautifulSoup):
    """The page's main text, without the sidebar, header and footer."""
    return soup.find("article") or soup.find("main") or soup


def local_file(name: str, src: str) -> Path:
    """The file a relative src/href on page `name` points to."""
    return (SITE / name).parent.joinpath(unquote(urlsplit(src).path)).resolve()


def figures(name: str) -> list[Path]:
    """PNG images in the page's text (launch-button logos and the like excluded)."""
    imgs = article(page(name)).find_all("img")
    return [local_file(name, img["src"]) for img in imgs if img.get("src", "").lower().endswith(".png")]


def output_text(soup: BeautifulSoup) -> str:
    return "\n".join(node.get_text() for node in article(soup).select(".cell_output, .output"))


def embeds_text(chapter: str) -> bool:
    nb = nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)
    return any(c.cell_type == "code" and "ats.embed(" in c.source for c in nb.cells)


def title_of(md: Path) -> str:
    return next(line[2:].strip() for line in md.read_text(encoding="utf-8").splitlines() if line.startswith("# "))


chapters = pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.split("/")[-1] for c in CHAPTERS])


def test_site_has_an_index():
    """If this broke, opening _build/html/index.html (as the README says) would show nothing."""
    if not SITE.is_dir():
        pytest.fail(f"no built site at {SITE}: run `make book` first")
    assert (SITE / "index.html").is_file()
    assert "book/intro.html" in (SITE / "index.html").read_text(encoding="utf-8")


@chapters
def test_chapter_has_figures(chapter):
    """If this broke, the reader would find a chapter without its heatmaps, or with broken
    image icons, or with figures too small to read."""
    pngs = figures(chapter)
    assert len(pngs) >= MIN_FIGURES, f"only {len(pngs)} PNG figures on the page"
    for png in pngs:
        assert png.is_file(), f"image {png} is referenced but missing"
        with Image.open(png) as im:
            width, height = im.size
        assert MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE, f"{png.name} is {width}×{height}"


@chapters
def test_chapter_figures_are_not_blank(chapter):
    """If this broke, a figure would come out as an empty white (or single-colour) rectangle."""
    for png in figures(chapter):
        with Image.open(png) as im:
            spread = ImageStat.Stat(im.convert("L")).stddev[0]
        assert spread > 1.0, f"{png.name} is blank (pixel std {spread:.2f})"


@chapters
def test_chapter_has_launch_and_repository_buttons(chapter):
    """If this broke, the reader would find no button to open this chapter on Binder or Colab,
    or to reach the repository and report a problem."""
    html = str(page(chapter))
    binder = f"https://mybinder.org/v2/gh/{REPO}/{BRANCH}?urlpath=lab/tree/{chapter}.ipynb"
    colab = f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/{chapter}.ipynb"
    assert binder in html
    assert colab in html
    assert f'href="{REPO_URL}"' in html
    assert f"{REPO_URL}/issues/new" in html


@chapters
def test_chapter_has_no_error_or_stderr_output(chapter):
    """If this broke, the page would show a traceback, a warning or a red stderr block in
    the middle of the explanation."""
    soup = article(page(chapter))
    assert soup.select(".output.stderr") == [], "stderr output on the page"
    assert soup.select(".output.traceback") == [], "error traceback on the page"
    text = output_text(page(chapter))
    for marker in ("Traceback (most recent call last)", "Warning:", "Error:"):
        assert marker not in text, f"{marker!r} in a cell output"


@chapters
def test_chapter_has_no_stray_object_reprs(chapter):
    """If this broke, the reader would see lines like '<Axes: ...>' or '<Figure size ...>'
    under a figure: a plot cell not ended with ';'."""
    text = output_text(page(chapter))
    assert not re.search(r"<(Axes|Figure|matplotlib\.\w+)[ :.]", text), "object repr in a cell output"


@chapters
def test_chapter_text_is_chinese(chapter):
    """If this broke, the chapter would have lost its prose (or its Chinese characters
    would have been mangled into escapes or question marks)."""
    text = article(page(chapter)).get_text()
    assert len(CJK.findall(text)) >= MIN_CJK_CHARS


@chapters
def test_chapter_has_no_missing_glyph_warning(chapter):
    """If this broke, matplotlib drew some Chinese labels as empty boxes and said so
    ("Glyph ... missing from font") right on the page."""
    assert "Glyph" not in page(chapter).get_text()


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if (ROOT / f"{c}.ipynb").is_file() and embeds_text(c)],
                         ids=lambda c: c.split("/")[-1])
def test_embedding_chapter_shows_the_source_note(chapter):
    """If this broke, a page with spaCy embeddings would not say whether its numbers come from
    the trained model or the untrained offline stand-in."""
    notes = article(page(chapter)).select("div.admonition.note")
    assert any("嵌入来源" in note.get_text() for note in notes)


@pytest.mark.parametrize("name", BOOK_PAGES, ids=lambda n: n.split("/")[-1])
def test_book_page_has_its_title(name):
    """If this broke, the introduction, glossary or references page would be missing or untitled."""
    h1 = article(page(name)).find("h1")
    assert h1 is not None
    assert title_of(ROOT / f"{name}.md") in h1.get_text()


def test_intro_shows_the_pipeline_figure():
    """If this broke, the first page would lose its one-picture overview of attention
    (or show a broken image icon)."""
    imgs = [img for img in article(page("book/intro")).find_all("img") if img.get("src", "").endswith("pipeline.png")]
    assert imgs, "pipeline.png is not on the intro page"
    png = local_file("book/intro", imgs[0]["src"])
    assert png.is_file()
    with Image.open(png) as im:
        assert im.size[0] >= 800
    assert imgs[0].get("alt"), "the overview figure needs alt text"


def test_the_pipeline_figure_opens_full_size_on_click():
    """If this broke, a reader on a phone (where the figure scrolls in its box) or at 1280 px (where it
    is shrunk to the column) could no longer click it to see it at full size (issue 30)."""
    imgs = [img for img in article(page("book/intro")).find_all("img") if img.get("src", "").endswith("pipeline.png")]
    link = imgs[0].find_parent("a")
    assert link is not None and link.get("href"), "the pipeline figure is not a link to its full-size image"
    target = local_file("book/intro", link["href"])
    assert target.is_file() and target == local_file("book/intro", imgs[0]["src"]), "the link opens another file"
    with Image.open(target) as im:
        assert im.size[0] >= 800  # full size: wider than the ~650 px text column shows it


def test_intro_links_every_chapter():
    """If this broke, the chapter list on the first page would point to a page that does not
    exist or leave a chapter out."""
    hrefs = {urlsplit(a["href"]).path for a in article(page("book/intro")).find_all("a", href=True)}
    for chapter in CHAPTERS:
        assert f"../{chapter}.html" in hrefs, f"intro does not link {chapter}"


def test_glossary_lists_terms():
    """If this broke, the glossary page would be empty or lose its term list."""
    terms = article(page("book/glossary")).select("dl.glossary dt")
    assert len(terms) >= 20
    text = " ".join(t.get_text() for t in terms)
    for term in ("自注意力", "查询", "键", "值", "softmax", "位置编码", "置换等变"):
        assert term in text


@pytest.mark.parametrize("name", BOOK_PAGES + CHAPTERS, ids=lambda n: n.split("/")[-1])
def test_no_unrendered_markup(name):
    """If this broke, the reader would see raw MyST such as "```{note}" or ":::{tip}" instead of
    a note box, because a directive was mistyped."""
    text = article(page(name)).get_text()
    assert not re.search(r"(```|:::)\{\w+", text), "raw MyST directive in the page text"


# TeX a reader would see as source: $…$ that no parser turned into math, or a TeX command.
RAW_TEX = re.compile(r"\$[^$\n]{1,80}\$|\\(text|mathrm|frac|sqrt|sum|cdot|times|le|ge)(?![a-z])")


def prose_text(name: str) -> str:
    """The page's visible text outside code, formulas (MathJax's source), scripts and styles."""
    soup = BeautifulSoup(str(article(page(name))), "html.parser")
    for node in soup.select("pre, code, .math, script, style, .highlight"):
        node.decompose()
    return soup.get_text(" ")


@pytest.mark.parametrize("name", BOOK_PAGES + CHAPTERS, ids=lambda n: n.split("/")[-1])
def test_no_raw_tex_outside_code_and_math(name):
    """If this broke, the reader would see "$l$" or "\\text" as typed instead of a formula,
    e.g. in a sentence a cell generates (myst-nb must parse its Markdown as MyST to find the math)."""
    assert any(page(name).select(".math")) or name == "book/references", "the check saw the page's formulas"
    raw = sorted({m.group(0) for m in RAW_TEX.finditer(prose_text(name))})
    assert not raw, raw


@pytest.mark.parametrize("name", BOOK_PAGES + CHAPTERS, ids=lambda n: n.split("/")[-1])
def test_formulas_reach_mathjax_as_typed(name):
    """If this broke, a formula would render with a letter missing, as d_\\text{model} once showed
    "d_extmodel": a control character (a tab from "\\t") inside the TeX MathJax is given."""
    for node in article(page(name)).select(".math"):
        tex = node.get_text()
        assert not re.search(r"[\x00-\x09\x0b-\x1f]", tex), repr(tex)


@pytest.mark.parametrize("name", BOOK_PAGES + CHAPTERS, ids=lambda n: n.split("/")[-1])
def test_internal_links_resolve(name):
    """If this broke, a reader clicking a link between pages would land on a missing page."""
    for a in article(page(name)).find_all("a", href=True):
        href = a["href"]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path or href.startswith("#"):
            continue
        target = local_file(name, href)
        assert target.is_file(), f"link {href!r} points to a missing file"
