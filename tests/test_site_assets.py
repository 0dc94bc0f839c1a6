"""What the built site makes a reader's browser load: little, and nothing that fails.

Targets (issue 9): every page at most 2 MB on first load, counting the bytes a
static host sends (text gzip-compressed), for a reader with no Chinese font;
the whole site at most 16 MB on disk; no figure over 300 KB. Like
tests/test_site.py these read the built site (`make test` builds it first;
ATTN_STEPS_SITE points at another build). tools/page_weight.py prints the
same figures, and with --browser measures them in headless Chromium.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from tests.test_site import BOOK_PAGES, CHAPTERS, SITE, local_file, page
from tools.page_weight import PAGE_LIMIT, SITE_LIMIT, pages, site_size, static_weight

pytestmark = pytest.mark.notebook

FIGURE_LIMIT = 300_000
SHIPPED_FONT = Path(__file__).resolve().parent.parent / "attn_steps" / "data" / "NotoSansCJKsc-Regular-GB2312.otf"
MATHJAX_SOURCE = Path(importlib.util.find_spec("sphinx-mathjax-offline").origin).parent / "static" / "mathjax"


# Every page a reader can open: the book's pages in _toc.yml, and Sphinx's own.
PAGES = BOOK_PAGES + CHAPTERS + ["genindex", "search"]
every_page = pytest.mark.parametrize("name", PAGES, ids=lambda n: n.split("/")[-1])


def site_pages() -> list[str]:
    if not SITE.is_dir():
        pytest.fail(f"no built site at {SITE}: run `make book` first")
    return [p.relative_to(SITE).with_suffix("").as_posix() for p in pages(SITE)]


def cjk_css() -> str:
    return (SITE / "_static" / "cjk.css").read_text(encoding="utf-8")


def web_font() -> Path:
    """The file the @font-face rule of cjk.css names after the local() fonts."""
    urls = re.findall(r"""url\(["']?([^"')]+)["']?\)""", cjk_css())
    assert len(urls) == 1, f"cjk.css should name one web font file, names {urls}"
    return SITE / "_static" / urls[0]


def in_font_range(text: str) -> set[str]:
    """The characters of `text` that the web font is used for (its unicode-range in cjk.css)."""
    spec = re.search(r"unicode-range:\s*([^;}]+)", cjk_css()).group(1)
    ranges = [tuple(int(x, 16) for x in part.strip()[2:].split("-")) for part in spec.split(",")]
    return {c for c in text if any(r[0] <= ord(c) <= r[-1] for r in ranges)}


def test_no_figure_over_300_kb():
    """If this broke, a reader on a slow or metered connection would wait for (and pay for) a
    figure of megabytes where a few hundred kilobytes draw it just as sharply."""
    pngs = list((SITE / "_images").glob("*.png"))
    assert pngs, "no figures in the built site"
    heavy = {p.name: p.stat().st_size for p in pngs if p.stat().st_size > FIGURE_LIMIT}
    assert heavy == {}


def test_site_ships_the_web_font_as_a_woff2_subset():
    """If this broke, readers with no Chinese font would download the whole GB2312 font
    (1.6 MB) or an uncompressed one, instead of the few hundred characters the book uses."""
    font = web_font()
    assert font.suffix == ".woff2" and font.read_bytes()[:4] == b"wOF2"
    with TTFont(font) as subset, TTFont(SHIPPED_FONT) as full:
        assert len(subset.getBestCmap()) < len(full.getBestCmap()) / 3
    assert font.stat().st_size < 400_000
    assert not list(SITE.rglob("*.otf")), "the full OTF is copied to the site"
    assert (SITE / "_static" / "NotoSansCJKsc-OFL.txt").is_file(), "the font's licence must travel with it"


REST_FONT_LIMIT = 600_000  # GB2312's first level, fetched only when a reader types a character that needs it


def test_the_rest_of_gb2312s_first_level_ships_as_a_second_woff2_with_its_unicode_range():
    """If this broke, a typed common character the site's subset lacks would be a box for a reader
    with no Chinese font (in neither file), a box or a needless download because the rule's
    unicode-range does not match the file, or that file would cost more than its budget."""
    rule = json.loads((SITE / "_static" / "NotoSansCJKsc-Regular-rest.json").read_text(encoding="utf-8"))
    rest = SITE / rule["file"]
    assert rest.read_bytes()[:4] == b"wOF2" and rest.stat().st_size == rule["bytes"] <= REST_FONT_LIMIT
    with TTFont(rest) as r, TTFont(web_font()) as site, TTFont(SHIPPED_FONT) as full:
        rest_cmap, site_cmap, full_cmap = set(r.getBestCmap()), set(site.getBestCmap()), set(full.getBestCmap())
    left_out = {ord(c) for c in rule["left_out"]}
    assert rest_cmap | site_cmap | left_out == {c for c in full_cmap if in_font_range(chr(c))}
    assert not rest_cmap & site_cmap and not left_out & (rest_cmap | site_cmap) and len(rest_cmap) == rule["characters"]
    assert all(0xD8 <= chr(c).encode("gb2312")[0] <= 0xF7 for c in left_out), "only GB2312's second level is left out"
    ranges = [tuple(int(x, 16) for x in part.strip()[2:].split("-")) for part in rule["unicode_range"].split(",")]
    assert {c for r in ranges for c in range(r[0], r[-1] + 1)} == rest_cmap
    assert rule["family"] in cjk_css() and rule["local"] and all(loc in cjk_css() for loc in rule["local"])
    print(f"\nthe rest of GB2312's first level: {len(rest_cmap)} characters, {rest.stat().st_size / 1000:.0f} kB "
          f"(budget {REST_FONT_LIMIT // 1000} kB), fetched only when a typed character needs it; "
          f"{len(left_out)} second-level ones left out")


@every_page
def test_web_font_covers_every_chinese_character_on_the_page(name):
    """If this broke, a reader with no Chinese font would see an empty box (or another
    font's glyph) for a character of this page that the site's font subset left out."""
    soup = page(name)
    # What the page shows, also what its inline scripts (the explorer) write.
    text = soup.get_text() + "".join(s.get_text() for s in soup.find_all("script"))
    with TTFont(web_font()) as font:
        covered = set(font.getBestCmap())
    missing = sorted(c for c in in_font_range(text) if ord(c) not in covered)
    assert missing == []


def test_whole_site_is_at_most_16_mb():
    """If this broke, publishing and mirroring the book would cost more than it should, most
    likely because a large asset (all of MathJax, a font, a source map) is copied again."""
    total = site_size(SITE)
    assert total <= SITE_LIMIT, f"{total / 1e6:.1f} MB"


@every_page
def test_page_first_load_is_at_most_2_mb(name):
    """If this broke, a first visit to this page on a slow connection would take far longer:
    a heavy figure, script or font is loaded again. The estimate counts HTML, stylesheets,
    scripts, images, the web fonts the stylesheets name and, on pages with math, MathJax with
    all of its fonts: more than a browser fetches."""
    sent = static_weight(SITE, SITE / f"{name}.html")
    assert sent <= PAGE_LIMIT, f"{sent / 1e6:.2f} MB sent"


def test_mathjax_files_that_pages_load_exist():
    """If this broke, formulas would show as raw TeX (component missing) or in the wrong font
    (a font file missing), or a macro that MathJax loads on demand would fail."""
    math_pages = [n for n in site_pages() if page(n).select(".math")]
    assert math_pages, "no page has math: the check below would prove nothing"
    for name in math_pages:
        scripts = [s["src"] for s in page(name).find_all("script", src=True) if "mathjax" in s["src"]]
        assert scripts, f"{name} has math but loads no MathJax"
        assert all(local_file(name, src).is_file() for src in scripts), scripts
    component = (SITE / "_static" / "mathjax" / "tex-chtml.js").read_text(encoding="utf-8")
    fonts = set(re.findall(r"MathJax_[A-Za-z0-9-]+\.woff", component))
    assert fonts
    font_dir = SITE / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert sorted(f for f in fonts if not (font_dir / f).is_file()) == []
    extensions = MATHJAX_SOURCE / "input" / "tex" / "extensions"
    shipped = SITE / "_static" / "mathjax" / "input" / "tex" / "extensions"
    assert sorted(p.name for p in extensions.glob("*.js") if not (shipped / p.name).is_file()) == []


# What MathJax's context menu loads: Math Renderer -> SVG, and the accessibility explorer
# with English speech (which needs the MathML input and the speech rule engine).
MATHJAX_MENU_FILES = ["output/svg.js", "output/svg/fonts/tex.js", "input/mml.js", "a11y/semantic-enrich.js",
                      "a11y/explorer.js", "a11y/complexity.js", "a11y/sre.js", "sre/mathmaps/base.json",
                      "sre/mathmaps/en.json"]


def test_mathjax_menu_options_still_load():
    """If this broke, a reader who switches MathJax's renderer to SVG or turns on its
    accessibility explorer (screen-reader speech) from the formula's context menu would get an
    error instead."""
    shipped = SITE / "_static" / "mathjax"
    assert [f for f in MATHJAX_MENU_FILES if not (shipped / f).is_file()] == []


def test_only_the_mathjax_pages_load_is_shipped():
    """If this broke, the site would carry all of MathJax again (24 MB, most of it components
    and outputs no page loads)."""
    shipped = SITE / "_static" / "mathjax"
    assert not (shipped / "tex-svg-full.js").exists()
    assert not (shipped / "input" / "asciimath.js").exists()
    assert sum(p.stat().st_size for p in shipped.rglob("*") if p.is_file()) < 5_000_000
    assert sorted(p.name for p in (shipped / "sre" / "mathmaps").iterdir()) == ["base.json", "en.json", "nemeth.json"]


def test_pages_do_not_load_fontawesome_js():
    """If this broke, every page would download fontawesome.js (1.5 MB, 0.5 MB compressed)
    to draw icons that the theme's stylesheet already draws with its web fonts."""
    for name in site_pages():
        assert "fontawesome.js" not in (SITE / f"{name}.html").read_text(encoding="utf-8"), name
    assert not (SITE / "_static" / "scripts" / "fontawesome.js").exists()


def test_icon_fonts_ship_once_as_woff2_and_every_font_url_resolves():
    """If this broke, the site would carry the icon fonts' TrueType copies (700 KB no browser here fetches),
    or a stylesheet would point at a font file that is not there (icons drawn as empty boxes)."""
    fonts = SITE / "_static" / "vendor" / "fontawesome" / "webfonts"
    assert sorted(p.suffix for p in fonts.iterdir()) == [".woff2"] * 3
    for css in (SITE / "_static").rglob("*.css"):
        for url in re.findall(r"url\(([^)]+)\)", css.read_text(encoding="utf-8")):
            url = url.strip("'\"")
            if url.startswith(("data:", "http", "#")) or not re.search(r"\.(woff2?|ttf|otf|eot)$", url):
                continue
            assert (css.parent / url).resolve().is_file(), (css.name, url)


@every_page
def test_no_inline_script_is_declared_twice(name):
    """If this broke, the browser console would show "Identifier ... has already been declared"
    on every page (sphinx-thebe's inline configuration, listed twice by Sphinx)."""
    bodies = [s.get_text() for s in page(name).find_all("script", src=False) if s.get_text().strip()]
    repeated = {b[:80] for b in bodies if bodies.count(b) > 1 and re.search(r"\b(const|let)\s", b)}
    assert repeated == set()


def test_the_root_redirect_names_the_icon_too():
    """If this broke, a reader opening the site's root would log a failed request for /favicon.ico before the redirect."""
    text = (SITE / "index.html").read_text(encoding="utf-8")
    assert 'http-equiv="Refresh"' in text and '<link rel="icon" href="_static/favicon.svg" />' in text
    assert (SITE / "_static" / "favicon.svg").is_file()


@every_page
def test_page_names_its_icon_and_a_valid_theme_mode(name):
    """If this broke, every page would log a failed request for /favicon.ico, or the theme an
    "invalid theme mode" error, in the console of every reader's browser."""
    soup = page(name)
    icons = [link["href"] for link in soup.find_all("link", href=True) if "icon" in link.get("rel", [])]
    assert icons and all(local_file(name, href).is_file() for href in icons)
    assert soup.find("html").get("data-theme") in ("light", "dark", "auto")
