"""Make matplotlib draw Chinese text.

matplotlib's default font, DejaVu Sans, has no Chinese glyphs: without a CJK
font every hanzi comes out as an empty box.  `use_cjk_font` finds one (an
installed Simplified Chinese font if there is one, else the subset shipped in
attn_steps/data) and lets matplotlib fall back to it glyph by glyph.
"""

from __future__ import annotations

import fnmatch
import functools
from pathlib import Path

import matplotlib
from matplotlib import font_manager

# Chinese (Simplified first) sans-serif families, best first.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "Arial Unicode MS",
)

# Debian's fonts-noto-cjk (also what Binder installs) ships collections (.ttc)
# of which matplotlib only reads the first face, "Noto Sans CJK JP": it has
# every hanzi, but in Japanese forms where they differ from Simplified Chinese
# (e.g. 骨, 写, 直).  With no Chinese font installed, the shipped SC subset
# draws what it covers (all of GB2312) and this face only the rest.
FALLBACK_FAMILIES = ("Noto Sans CJK JP",)

# File names of the fonts above, lower case, for fonts installed after
# matplotlib cached its font list.
CJK_FILE_PATTERNS = (
    "notosanscjk*",
    "notosanssc*",
    "sourcehansans*",
    "wqy-*",
    "simhei*",
    "msyh*",
    "pingfang*",
)

SHIPPED_FAMILY = "Noto Sans CJK SC GB2312 Subset"
SHIPPED_FILE = "NotoSansCJKsc-Regular-GB2312.otf"

# Listed first so Latin letters, digits and symbols such as "−", "√" and "ᵀ"
# keep matplotlib's usual look; the CJK font only fills in what it lacks.
LATIN_FAMILY = "DejaVu Sans"


def shipped_font_path() -> Path:
    """Path of the Noto Sans CJK SC subset shipped with attn_steps.

    It covers all of GB2312 plus common punctuation and math symbols.
    """
    return Path(__file__).resolve().parent / "data" / SHIPPED_FILE


def use_cjk_font(prefer_installed: bool = True) -> str:
    """Make matplotlib render Chinese text and return the CJK family used.

    Prefers an installed Simplified Chinese font; with prefer_installed=False,
    or when none is found, uses the subset shipped with attn_steps, followed
    by an installed Japanese face of Noto Sans CJK (if any) for characters
    outside GB2312.
    """
    families = _find_cjk_families(prefer_installed)
    # Set on every call, since a style or rcdefaults() may have reset them.
    matplotlib.rcParams["font.family"] = [LATIN_FAMILY, *families]
    # True draws U+2212 "−" instead of "-"; DejaVu Sans has that glyph, so
    # unlike with SimHei alone there is no need to turn this off.
    matplotlib.rcParams["axes.unicode_minus"] = True
    return families[0]


@functools.cache
def _find_cjk_families(prefer_installed: bool) -> tuple[str, ...]:
    """The CJK families to list after the Latin one, best first."""
    fallback = ()
    if prefer_installed:
        family = _known_family(CJK_FAMILIES)
        if family is None:
            _add_fonts(_newly_installed_cjk_files())
            family = _known_family(CJK_FAMILIES)
        if family is not None:
            return (family,)
        fallback = tuple(filter(None, [_known_family(FALLBACK_FAMILIES)]))
    _add_fonts([str(shipped_font_path())])
    return (SHIPPED_FAMILY, *fallback)


def _known_family(families: tuple[str, ...]) -> str | None:
    # A cached entry can outlive its file (font uninstalled after the cache was
    # built); choosing it would draw boxes, so only fonts still on disk count.
    known = {entry.name for entry in font_manager.fontManager.ttflist if Path(entry.fname).is_file()}
    return next((name for name in families if name in known), None)


def _newly_installed_cjk_files() -> list[str]:
    # findSystemFonts only lists files; addfont reads just the matching ones.
    return [
        path
        for path in font_manager.findSystemFonts()
        if any(fnmatch.fnmatch(Path(path).name.lower(), pattern)
               for pattern in CJK_FILE_PATTERNS)
    ]


def _add_fonts(paths: list[str]) -> None:
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for path in paths:
        if path in known:
            continue
        try:
            font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError):
            pass  # an unreadable font file should not stop the fallback
