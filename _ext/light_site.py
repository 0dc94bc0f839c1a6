"""Sphinx extension: a built site light enough for a first visit on a slow link.

Run by jupyter-book through `sphinx: local_extensions:` in _config.yml. When
the HTML build has finished it touches only the built site (_build/html):

- MathJax: copies from sphinx-mathjax-offline (which ships all of MathJax,
  24 MB) only the tex-chtml component the pages load and what it can load
  later: its fonts, TeX extensions, and what its context menu offers.
- The Chinese web font: subsets the GB2312 font shipped in attn_steps/data
  (1.6 MB, kept whole for matplotlib) to the characters the site uses, as
  WOFF2, where _static/cjk.css points; and the rest of GB2312's first level and
  symbols as a second WOFF2 (about 0.5 MB) with a small JSON rule beside it
  (REST_FONT_RULE: the family, the local() fonts, the file, its unicode-range,
  and the second-level characters left out for the site's 15 MB). No page loads it:
  the explorer's text field adds it as a FontFace when a reader types, and the
  browser fetches the file only when a typed character falls in its range.
- Theme assets no reader needs: fontawesome.js (the theme's stylesheet draws
  the same icons with its web fonts), the icon fonts' TrueType fallbacks (the
  WOFF2 copies come first), source maps, translation catalogues.
- Figures: re-encodes PNGs with a 256-colour palette (matplotlib's heatmaps
  have flat cells, so values and Chinese labels stay crisp at a third of the
  size).

Each step skips what an earlier build already did, so an unchanged rebuild
stays fast.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent

MATHJAX_COMPONENT = "tex-chtml.js"
# Paths inside MathJax's folder, loaded by the component when a page or the reader asks:
MATHJAX_KEEP = (
    MATHJAX_COMPONENT,
    "output/chtml/fonts/woff-v2",  # the CHTML fonts, each fetched when a formula uses that style
    "input/tex/extensions",  # TeX packages fetched by \require or autoloaded macros
    "input/mml.js",  # needed by the accessibility extensions below
    "output/svg.js",  # the context menu's Math Renderer -> SVG
    "output/svg/fonts",
    "a11y",  # the context menu's Accessibility options (explorer, speech)
    # Speech rules the explorer fetches: the shared base, English (MathJax's default speech locale, the one the
    # site's menu test checks) and Nemeth braille. The ten other locales' rules (3.3 MB) would be fetched only if a
    # reader switched the speech language to Catalan, Danish, German, ..., Hindi; no page here is in those languages.
    "sre/mathmaps/base.json",
    "sre/mathmaps/en.json",
    "sre/mathmaps/nemeth.json",
)

FONT_SOURCE = ROOT / "attn_steps" / "data" / "NotoSansCJKsc-Regular-GB2312.otf"
FONT_LICENCE = ROOT / "attn_steps" / "data" / "OFL.txt"
WEB_FONT = "_static/NotoSansCJKsc-Regular-site.woff2"
WEB_FONT_LICENCE = "_static/NotoSansCJKsc-OFL.txt"
REST_FONT = "_static/NotoSansCJKsc-Regular-rest.woff2"
REST_FONT_RULE = "_static/NotoSansCJKsc-Regular-rest.json"  # explorer_typing.js reads it
FONT_CSS = "_static/cjk.css"

UNUSED_THEME_FILES = ("_static/scripts/fontawesome.js", "_static/scripts/fontawesome.js.LICENSE.txt")
UNUSED_THEME_DIRS = ("_static/locales",)  # gettext catalogues the theme used while building
# The icon fonts' TrueType copies: the theme's stylesheet lists each WOFF2 first, which every browser that runs
# this site's scripts reads, so the TrueType fallback (700 KB) is never fetched; its url() goes from the CSS too.
FONTAWESOME_TTF = "_static/vendor/fontawesome/webfonts"
TTF_FALLBACK = re.compile(r',\s*url\([^)]*fontawesome/webfonts/[^)]*\.ttf\)\s*format\("truetype"\)')
FONTAWESOME_SCRIPT = re.compile(r'[ \t]*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>\n?')

PALETTE_COLOURS = 256


def setup(app):
    app.connect("config-inited", _use_offline_mathjax)
    app.connect("html-page-context", _drop_repeated_inline_scripts, priority=900)  # after myst-nb's scripts (500)
    # After the builder has copied the theme's static files, which this prunes.
    app.connect("build-finished", _lighten, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _use_offline_mathjax(app, config):
    config.mathjax_path = f"mathjax/{MATHJAX_COMPONENT}"


def _drop_repeated_inline_scripts(app, pagename, templatename, context, doctree):
    # sphinx-thebe adds its inline configuration after the builder is set up, so Sphinx
    # lists it twice (once with filename None, once with ""); the second
    # `const THEBE_JS_URL = ...` is a SyntaxError in every page's console.
    # A widget's live form (attn_steps/live.py) leaves its state in the executed notebook, which myst-nb would
    # put on the page as a script of JSON (the widget's scripts again, hundreds of kB): the page runs the
    # widget's HTML and never reads it (_config.yml shows no widget view and loads no ipywidgets JS).
    seen, scripts = set(), []
    for script in context.get("script_files", []):
        if script.attributes.get("type") == "application/vnd.jupyter.widget-state+json":
            continue
        key = (script.filename or "", tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            scripts.append(script)
    context["script_files"] = scripts


def _lighten(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    site = Path(app.outdir)
    copy_mathjax(site)
    drop_unused_theme_assets(site)
    name_icon_on_redirect(site, app.config.html_favicon)
    # The figures and the two fonts side by side: Pillow and Brotli release the GIL, so threads use every core.
    with ThreadPoolExecutor() as pool:
        figures = quantize_figures(site / "_images", pool)
        subset_web_font(site, pool)
        for figure in figures:
            figure.result()


def _mathjax_source() -> Path:
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("sphinx-mathjax-offline is not installed (it is in requirements.txt)")
    return Path(spec.origin).parent / "static" / "mathjax"


def copy_mathjax(site: Path) -> None:
    """Copy the MathJax files in MATHJAX_KEEP; remove any other file left by an earlier build."""
    source, target = _mathjax_source(), site / "_static" / "mathjax"
    wanted = set()
    for keep in MATHJAX_KEEP:
        path = source / keep
        wanted.update(p.relative_to(source) for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file())
    for rel in wanted:
        src, dst = source / rel, target / rel
        if not dst.is_file() or dst.stat().st_size != src.stat().st_size:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    if target.is_dir():
        for path in sorted(target.rglob("*"), reverse=True):  # files before their folders
            if path.is_file() and path.relative_to(target) not in wanted:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def name_icon_on_redirect(site: Path, favicon: str | None) -> None:
    """The site's root index.html is Jupyter Book's one-line redirect, written outside the theme: name the book's icon
    there too, or a browser opening the root asks for /favicon.ico (a failed request in the console) before it moves on."""
    index = site / "index.html"
    if not favicon or not index.is_file():
        return
    text = index.read_text(encoding="utf-8")
    if 'http-equiv="Refresh"' in text and 'rel="icon"' not in text:
        index.write_text(f'<link rel="icon" href="_static/{Path(favicon).name}" />\n' + text, encoding="utf-8")


def drop_unused_theme_assets(site: Path) -> None:
    """Remove what no page loads, and the one script tag that loads fontawesome.js."""
    for rel in UNUSED_THEME_FILES:
        (site / rel).unlink(missing_ok=True)
    for rel in UNUSED_THEME_DIRS:
        shutil.rmtree(site / rel, ignore_errors=True)
    # Source maps are fetched only by a browser's developer tools.
    for path in (site / "_static").rglob("*.map"):
        path.unlink()
    for path in (site / FONTAWESOME_TTF).glob("*.ttf"):
        path.unlink()
    for css in (site / "_static").rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        lighter = TTF_FALLBACK.sub("", text)
        if lighter != text:
            css.write_text(lighter, encoding="utf-8")
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        lighter = FONTAWESOME_SCRIPT.sub("", text)
        if lighter != text:
            page.write_text(lighter, encoding="utf-8")


def quantize_figures(images: Path, pool: ThreadPoolExecutor) -> list:
    """Re-encode each opaque PNG with a palette of PALETTE_COLOURS colours, in the pool; palette PNGs are done.

    Returns the futures. Pillow releases the GIL while it quantizes and compresses: threads use every core.
    """
    paths = sorted(images.glob("*.png")) if images.is_dir() else []
    return [pool.submit(_quantize, path) for path in paths]


def _quantize(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as im:
        if im.mode == "P":
            return
        im.load()
        if "A" in im.getbands() and im.getchannel("A").getextrema()[0] < 255:
            return  # transparent parts would be lost
        info = {"dpi": im.info["dpi"]} if "dpi" in im.info else {}
        # Median cut keeps white white and cell colours close; no dithering, so
        # flat cells and text edges stay clean.
        palette = im.convert("RGB").quantize(PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE)
    palette.save(path, optimize=True, **info)


_CSS_UNICODE_RANGE = re.compile(r"unicode-range:\s*([^;}]+)")
_JS_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def font_ranges(css: str) -> list[tuple[int, int]]:
    """The code point ranges of the web font's @font-face rule in cjk.css."""
    match = _CSS_UNICODE_RANGE.search(css)
    if not match:
        raise ValueError(f"{FONT_CSS} has no unicode-range")
    ranges = []
    for part in match.group(1).split(","):
        first, _, last = part.strip().removeprefix("U+").removeprefix("u+").partition("-")
        ranges.append((int(first, 16), int(last or first, 16)))
    return ranges


def used_characters(site: Path, ranges: list[tuple[int, int]]) -> set[str]:
    """Characters within `ranges` in the site's HTML and in the scripts and stylesheets it ships.

    Whole files, not only their text nodes: scripts inlined in a page write
    text too, and JavaScript may spell a character as a \\uXXXX escape.
    """
    found = set()
    for path in site.rglob("*"):
        if path.suffix not in (".html", ".js", ".css") or "mathjax" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        text = html.unescape(text) + "".join(chr(int(h, 16)) for h in _JS_ESCAPE.findall(text))
        found.update(text)
    return {c for c in found if any(first <= ord(c) <= last for first, last in ranges)}


def subset_web_font(site: Path, pool: ThreadPoolExecutor | None = None) -> None:
    """Write WEB_FONT (the shipped font cut to the characters the site uses) and REST_FONT (the rest of it).

    With a pool, the two subsets are cut side by side in it.
    """
    from fontTools.ttLib import TTFont

    css = (site / FONT_CSS).read_text(encoding="utf-8")
    used = {ord(c) for c in used_characters(site, font_ranges(css))}
    with TTFont(FONT_SOURCE, lazy=True) as font:
        shipped = set(font.getBestCmap())
    missing = used - shipped
    if missing:
        # Readers with no Chinese font would see empty boxes for these.
        logger.warning("the shipped CJK font lacks %s, used on the site: add them to "
                       "tools/make_font_subset.py (EXTRA_CHARS) and rebuild the font",
                       " ".join(f"{chr(c)} (U+{c:04X})" for c in sorted(missing)))
    site_font = (pool.submit if pool else _now)(write_subset, used - missing, site / WEB_FONT)
    # Only the CJK code points the face is for (Latin text keeps the theme's fonts), and not GB2312's
    # second level (3 008 rarer hanzi, about 0.5 MB more): with it the site would pass its 15 MB.
    cjk = {c for c in shipped - used if any(first <= c <= last for first, last in font_ranges(css))}
    left_out = cjk & gb2312_level2()
    rest = cjk - left_out
    write_subset(rest, site / REST_FONT)
    site_font.result()
    rule = {"family": re.search(r'font-family:\s*"([^"]+)"', css).group(1),
            "local": re.findall(r'local\("[^"]+"\)', css), "file": REST_FONT,
            "unicode_range": unicode_range(rest), "characters": len(rest), "bytes": (site / REST_FONT).stat().st_size,
            "left_out": "".join(chr(c) for c in sorted(left_out))}
    (site / REST_FONT_RULE).write_text(json.dumps(rule, ensure_ascii=False), encoding="utf-8")
    shutil.copyfile(FONT_LICENCE, site / WEB_FONT_LICENCE)


class _now:
    """A call made at once, with a future's result(): subset_web_font's stand-in for a pool."""

    def __init__(self, fn, *args):
        self.value = fn(*args)

    def result(self):
        return self.value


def gb2312_level2() -> set[int]:
    """The code points of GB2312's second level (rows 56-87: rarer hanzi, ordered by radical)."""
    codes = set()
    for hi in range(0xD8, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                codes.add(ord(bytes((hi, lo)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return codes


def unicode_range(codes) -> str:
    """Code points -> a CSS unicode-range, runs of consecutive ones as one range (U+4E00-4E03, U+4E07)."""
    runs = []
    for c in sorted(codes):
        if runs and c == runs[-1][1] + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return ", ".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in runs)


def write_subset(unicodes: set[int], target: Path) -> None:
    """The shipped font cut to `unicodes`, as WOFF2 at target; skipped when target already holds exactly them."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    if target.is_file():
        with TTFont(target, lazy=True) as existing:
            if existing.flavor == "woff2" and set(existing.getBestCmap()) == unicodes:
                return
    # recalcBBoxes=False: the bounding boxes stay the whole font's (a superset, harmless) instead of each glyph's
    # outline being drawn again to recompute them, a second of pure Python per font and build.
    font = TTFont(FONT_SOURCE, recalcTimestamp=False, recalcBBoxes=False)
    options = subset.Options()
    options.name_IDs = ["*"]  # keeps the copyright and licence fields the OFL asks for
    options.notdef_outline = True
    options.layout_features = ["kern", "palt", "halt"]
    options.desubroutinize = True  # lets WOFF2's Brotli find the repeats itself: smaller
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    font.flavor = "woff2"
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(target)
