"""Chinese text in matplotlib figures renders with real glyphs, not boxes.

Each check runs matplotlib in a fresh subprocess with an empty MPLCONFIGDIR,
so the font cache is built from scratch as on a new machine, and collects
the "Glyph N (...) missing from font(s) ..." warnings matplotlib emits for
every character it draws as an empty box.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from attn_steps.fonts import CJK_FAMILIES, FALLBACK_FAMILIES, SHIPPED_FAMILY, SHIPPED_FILE, shipped_font_path
from tools.make_font_subset import gb2312_chars  # the characters the shipped subset was cut to

REPO_ROOT = Path(__file__).resolve().parent.parent

LABELS = ["QKᵀ/√d_k  (8×8)", "−0.53", "我喜欢的水果是橙子和苹果"]

# Runs in the subprocess.  Its last line of output is a JSON report.
DRAW_SCRIPT = textwrap.dedent("""
    import json, logging, sys, warnings

    args = json.loads(sys.argv[1])

    log_records = []
    class Collect(logging.Handler):
        def emit(self, record):
            log_records.append(record.getMessage())
    logging.getLogger("matplotlib").addHandler(Collect(logging.WARNING))

    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    report = {"family": None}
    if args["use"] == "shipped":
        from attn_steps.fonts import use_cjk_font
        report["family"] = use_cjk_font(prefer_installed=False)
        ttflist_size = len(font_manager.fontManager.ttflist)
        report["repeat_same"] = (
            use_cjk_font(prefer_installed=False) == report["family"]
            and len(font_manager.fontManager.ttflist) == ttflist_size)
    elif args["use"] == "default":
        from attn_steps.fonts import use_cjk_font
        report["family"] = use_cjk_font()
    else:
        matplotlib.rcParams["font.family"] = ["DejaVu Sans"]
    if report["family"]:
        report["font_path"] = font_manager.findfont(
            font_manager.FontProperties(family=report["family"]),
            fallback_to_default=False)

    lines = args["lines"]
    fig = plt.figure(figsize=(8, 0.12 * len(lines) + 1))
    for i, line in enumerate(lines):
        fig.text(0.01, 1 - (i + 1) / (len(lines) + 1), line, fontsize=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for out in args["outputs"]:
            fig.savefig(out)
    report["glyph_warnings"] = [str(w.message) for w in caught
                                if "missing from font" in str(w.message)]
    report["log_warnings"] = log_records
    print(json.dumps(report))
""")


def fresh_env(tmp_path: Path) -> dict[str, str]:
    config_dir = tmp_path / "mplconfig"
    config_dir.mkdir()
    env = dict(os.environ)
    env.pop("MPLRC", None)
    env["MPLCONFIGDIR"] = str(config_dir)
    env["MPLBACKEND"] = "Agg"
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def run_python(code: str, env: dict[str, str], *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def draw(tmp_path: Path, use: str, lines: list[str],
         suffixes: tuple[str, ...] = ("png",)) -> dict:
    args = {
        "use": use,
        "lines": lines,
        "outputs": [str(tmp_path / f"text.{suffix}") for suffix in suffixes],
    }
    return run_python(DRAW_SCRIPT, fresh_env(tmp_path), json.dumps(args))


def gb2312_lines() -> list[str]:
    chars = gb2312_chars()
    return [chars[i:i + 100] for i in range(0, len(chars), 100)] + LABELS


def test_gb2312_with_shipped_font(tmp_path):
    """If this breaks, Chinese labels show as empty boxes on machines without
    a CJK font (e.g. a fresh Linux box or CI), or "−" / "√" / "ᵀ" vanish."""
    report = draw(tmp_path, "shipped", gb2312_lines(), suffixes=("png", "svg"))

    assert report["glyph_warnings"] == []
    assert report["log_warnings"] == []
    assert report["family"] == SHIPPED_FAMILY
    assert Path(report["font_path"]).name == SHIPPED_FILE
    assert report["repeat_same"]
    assert (tmp_path / "text.png").stat().st_size > 0


def test_gb2312_with_default_choice(tmp_path):
    """If this breaks, a user calling use_cjk_font() gets boxes for some
    Chinese characters, with whichever font this machine ends up using."""
    report = draw(tmp_path, "default", gb2312_lines())

    assert report["glyph_warnings"] == []
    assert report["log_warnings"] == []
    assert report["family"]


def shipped_font_renamed(family: str, postscript: str) -> TTFont:
    """The shipped subset under another family name (name IDs 1 and 4) and PostScript name (6)."""
    font = TTFont(shipped_font_path())
    for record in font["name"].names:
        if record.nameID in (1, 4):
            record.string = family
        elif record.nameID == 6:
            record.string = postscript
    return font


def stand_in_noto_sc(tmp_path: Path) -> Path:
    """Stands in for an installed Noto Sans CJK SC: the shipped subset renamed to it."""
    staged = tmp_path / "staged.otf"
    shipped_font_renamed("Noto Sans CJK SC", "NotoSansCJKsc-Regular").save(staged)
    return staged


def test_font_installed_after_cache_is_found(tmp_path):
    """If this breaks, a user who installs a Chinese font (say
    apt-get install fonts-noto-cjk) after matplotlib made its font cache
    still gets the shipped subset instead of the font they installed."""
    staged = stand_in_noto_sc(tmp_path)

    # matplotlib scans $XDG_DATA_HOME/fonts, where users install fonts.
    env = fresh_env(tmp_path)
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    installed = tmp_path / "xdg" / "fonts" / "NotoSansCJKsc-Regular.otf"
    code = textwrap.dedent(f"""
        import json, shutil
        from matplotlib import font_manager

        # matplotlib's font cache is built first; the font arrives after it,
        # before attn_steps is imported (importing it chooses the font).
        known = {{f.name for f in font_manager.fontManager.ttflist}}
        target = {str(installed)!r}
        shutil.copy({str(staged)!r}, target)
        from attn_steps.fonts import CJK_FAMILIES, use_cjk_font
        preinstalled = sorted(known & set(CJK_FAMILIES))
        family = use_cjk_font()
        path = font_manager.findfont(
            font_manager.FontProperties(family=family),
            fallback_to_default=False)
        print(json.dumps({{"preinstalled": preinstalled,
                          "family": family, "path": path}}))
    """)
    installed.parent.mkdir(parents=True)
    report = run_python(code, env)

    if report["preinstalled"]:
        pytest.skip("matplotlib already knows a CJK font on this machine "
                    f"({report['preinstalled']}), which is rightly preferred")
    assert report["family"] == "Noto Sans CJK SC"
    assert Path(report["path"]) == installed


def test_missing_glyphs_are_detected(tmp_path):
    """If this breaks, the checks above could pass while figures still show
    boxes: it proves a font without hanzi does raise the warning they count."""
    report = draw(tmp_path, "none", ["苹果"])

    assert len(report["glyph_warnings"]) >= 2
    assert all("DejaVu Sans" in w for w in report["glyph_warnings"])


def test_font_removed_after_cache_is_not_used(tmp_path):
    """If this breaks, uninstalling a Chinese font leaves every figure with
    boxes until the user finds and deletes matplotlib's font cache by hand."""
    env = fresh_env(tmp_path)
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    installed = tmp_path / "xdg" / "fonts" / "NotoSansCJKsc-Regular.otf"
    installed.parent.mkdir(parents=True)
    installed.write_bytes(stand_in_noto_sc(tmp_path).read_bytes())
    cached = run_python(
        "import json; from matplotlib import font_manager as fm; "
        "print(json.dumps(sorted({f.name for f in fm.fontManager.ttflist})))", env)
    assert "Noto Sans CJK SC" in cached  # the cache now lists the font
    installed.unlink()
    code = textwrap.dedent("""
        import json, warnings
        import matplotlib.pyplot as plt
        from attn_steps.fonts import use_cjk_font
        family = use_cjk_font()
        fig = plt.figure()
        fig.text(0.1, 0.5, "苹果")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.savefig(%r)
        print(json.dumps({"family": family,
                          "glyph_warnings": [str(w.message) for w in caught if "missing" in str(w.message)]}))
    """ % str(tmp_path / "after.png"))
    report = run_python(code, env)
    assert report["glyph_warnings"] == []
    assert report["family"] == SHIPPED_FAMILY


OUTSIDE_GB2312 = "丟"  # U+4E1F: in Noto Sans CJK, not in GB2312 (so not in the shipped subset)


def stand_in_noto_jp(tmp_path: Path) -> Path:
    """Stands in for Debian's fonts-noto-cjk as matplotlib sees it ("Noto Sans CJK JP"): the
    shipped subset renamed, with 苹 drawn with another glyph (a "Japanese form") and one
    character that the shipped subset lacks."""
    staged = tmp_path / "NotoSansCJK-Regular-standin.otf"
    font = shipped_font_renamed("Noto Sans CJK JP", "NotoSansCJKjp-Regular")
    glyph_of = font.getBestCmap()
    for table in font["cmap"].tables:
        if table.isUnicode():
            table.cmap[ord("苹")] = glyph_of[ord("果")]
            table.cmap[ord(OUTSIDE_GB2312)] = glyph_of[ord("水")]
    font.save(staged)
    return staged


ALL_CJK_FAMILIES = json.dumps([*CJK_FAMILIES, *FALLBACK_FAMILIES])

# Runs in the subprocess: only the given font files count as installed CJK fonts.
ONLY_THESE_CJK_FONTS = textwrap.dedent("""
    import json, sys, warnings
    import numpy as np
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    # Before attn_steps is imported (importing it chooses the font).
    staged, cjk_families = json.loads(sys.argv[1]), json.loads(sys.argv[3])
    fm = font_manager.fontManager
    fm.ttflist = [f for f in fm.ttflist if f.name not in cjk_families]
    font_manager.findSystemFonts = lambda *args, **kwargs: list(staged)
    for path in staged:
        fm.addfont(path)

    from attn_steps import fonts
    family = fonts.use_cjk_font()
    chosen = list(matplotlib.rcParams["font.family"])

    def pixels(text, families):
        fig = plt.figure(figsize=(1, 1), dpi=100)
        fig.text(0.1, 0.3, text, fontsize=40, fontfamily=families)
        fig.canvas.draw()
        image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
        plt.close(fig)
        return image

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drawn = pixels("苹果" + sys.argv[2], chosen)
    fonts._add_fonts([str(fonts.shipped_font_path())])  # to compare with, whatever was chosen
    sc_form = (pixels("苹", chosen) == pixels("苹", [fonts.LATIN_FAMILY, fonts.SHIPPED_FAMILY])).all()
    jp_form = (pixels("苹", chosen) == pixels("苹", [fonts.LATIN_FAMILY, "Noto Sans CJK JP"])).all()
    print(json.dumps({"family": family, "chosen": chosen, "ink": int((drawn < 128).sum()),
                      "sc_form": bool(sc_form), "jp_form": bool(jp_form),
                      "glyph_warnings": [str(w.message) for w in caught if "missing from font" in str(w.message)]}))
""")


def test_japanese_noto_face_only_fills_in_behind_the_shipped_subset(tmp_path):
    """If this breaks, figures on Binder (where matplotlib finds Debian's Noto CJK only as
    "Noto Sans CJK JP") draw hanzi in Japanese forms where they differ from Simplified Chinese,
    or a character outside GB2312 comes out as an empty box."""
    staged = stand_in_noto_jp(tmp_path)
    report = run_python(ONLY_THESE_CJK_FONTS, fresh_env(tmp_path), json.dumps([str(staged)]), OUTSIDE_GB2312,
                        ALL_CJK_FAMILIES)

    assert report["family"] == SHIPPED_FAMILY
    assert report["chosen"] == ["DejaVu Sans", SHIPPED_FAMILY, "Noto Sans CJK JP"]
    assert report["sc_form"], "苹 is not drawn by the shipped Simplified Chinese subset"
    assert not report["jp_form"], "苹 is drawn in the Japanese face's form"
    assert report["glyph_warnings"] == [], f"{OUTSIDE_GB2312} should come from the Japanese face"
    assert report["ink"] > 0


def test_simplified_chinese_font_wins_over_the_japanese_face(tmp_path):
    """If this breaks, a machine with both a Simplified Chinese font and Debian's Noto CJK
    draws figures with the Japanese face (or the smaller shipped subset) instead."""
    jp = stand_in_noto_jp(tmp_path)
    sc = stand_in_noto_sc(tmp_path)
    report = run_python(ONLY_THESE_CJK_FONTS, fresh_env(tmp_path), json.dumps([str(jp), str(sc)]), "",
                        ALL_CJK_FAMILIES)

    assert report["family"] == "Noto Sans CJK SC"
    assert report["chosen"] == ["DejaVu Sans", "Noto Sans CJK SC"]
    assert report["glyph_warnings"] == []
