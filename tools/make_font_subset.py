"""Build the CJK font subset shipped in attn_steps/data/.

matplotlib's default font (DejaVu Sans) has no Chinese glyphs, and many
Linux machines have no CJK font at all, so attn_steps ships a subset of
Noto Sans CJK SC (Regular) covering GB2312 plus the Latin, punctuation and
math symbols the book uses.  attn_steps.fonts falls back to it.

This is a dev-time script: the subset is committed, so users never run it.
It needs fontTools (a matplotlib dependency) and Debian's fonts-noto-cjk:

    apt-get update && apt-get install -y fonts-noto-cjk
    python tools/make_font_subset.py

It writes attn_steps/data/NotoSansCJKsc-Regular-GB2312.otf and
attn_steps/data/OFL.txt (the licence, with a header saying what changed).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

SOURCE_TTC = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SOURCE_COPYRIGHT = Path("/usr/share/doc/fonts-noto-cjk/copyright")
SOURCE_FAMILY = "Noto Sans CJK SC"

# The OFL forbids a Modified Version from using a Reserved Font Name
# (Noto CJK reserves "Source"), and asks that it be told apart from the
# original, hence a family name of our own.
FAMILY = "Noto Sans CJK SC GB2312 Subset"
PS_NAME = "NotoSansCJKscGB2312Subset-Regular"

DATA_DIR = Path(__file__).resolve().parent.parent / "attn_steps" / "data"
OUT_FONT = DATA_DIR / "NotoSansCJKsc-Regular-GB2312.otf"
OUT_LICENCE = DATA_DIR / "OFL.txt"

# GB2312 rows 0xA1-0xA9 are symbols, kana, Greek, Cyrillic, pinyin and box
# drawing; 0xB0-0xF7 are the 6763 hanzi.  Rows in between are unassigned.
GB2312_ROWS = [*range(0xA1, 0xAA), *range(0xB0, 0xF8)]

EXTRA_RANGES = [
    (0x0020, 0x007E),  # printable ASCII
    (0x00A0, 0x00FF),  # Latin-1 (· × ÷ ± ² ...)
    (0x2000, 0x206F),  # general punctuation
    (0x2070, 0x209F),  # superscripts and subscripts
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators (√ − ≈ ∑ ...)
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF00, 0xFFEF),  # half-width and full-width forms
]
EXTRA_CHARS = "ᵀ"  # used in "QKᵀ"; kept when the source face has it


def gb2312_chars() -> str:
    """Every character of GB2312, found by decoding each 2-byte code."""
    chars = []
    for row in GB2312_ROWS:
        for cell in range(0xA1, 0xFF):
            try:
                chars.append(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                pass  # unassigned code point
    return "".join(chars)


def wanted_codepoints() -> set[int]:
    codepoints = {ord(c) for c in gb2312_chars() + EXTRA_CHARS}
    for first, last in EXTRA_RANGES:
        codepoints.update(range(first, last + 1))
    return codepoints


def sc_face_index(ttc_path: Path) -> int:
    # Face order inside the collection is not guaranteed across releases.
    collection = TTCollection(str(ttc_path), lazy=True)
    for index, face in enumerate(collection.fonts):
        name = face["name"]
        if (name.getDebugName(1) == SOURCE_FAMILY
                and name.getDebugName(2) == "Regular"):
            return index
    raise SystemExit(f"no {SOURCE_FAMILY!r} Regular face in {ttc_path}")


def subset_font(font: TTFont, codepoints: set[int], hinting: bool) -> None:
    options = subset.Options()
    options.hinting = hinting
    # Keep the licence fields (13, 14) next to the names.
    options.name_IDs = ["*"]
    options.notdef_outline = True
    # Only spacing and vertical-writing features: the default set also keeps
    # 'locl', whose Japanese/Korean/Traditional alternates would nearly
    # double the glyph count; the SC face's default glyphs are the SC forms.
    options.layout_features = ["kern", "palt", "halt", "vert", "vrt2",
                               "vkrn", "vpal", "vhal"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints & set(font.getBestCmap()))
    subsetter.subset(font)


def rename(font: TTFont) -> None:
    name = font["name"]
    new_names = {
        1: FAMILY,
        3: f"{font['head'].fontRevision:.3f};{PS_NAME};attn_steps",
        4: FAMILY,
        6: PS_NAME,
    }
    for record in name.names:
        if record.nameID in new_names:
            record.string = new_names[record.nameID]
    for name_id in (16, 17, 21, 22):  # typographic names would override ours
        name.removeNames(nameID=name_id)

    # The CFF table is shared by all faces of the collection and still
    # carries the name of the first (Japanese) one.
    cff = font["CFF "].cff
    old_ps_name = cff.fontNames[0]
    cff.fontNames = [PS_NAME]
    top = cff.topDictIndex[0]
    top.FullName = FAMILY
    top.FamilyName = FAMILY
    for fd in getattr(top, "FDArray", []):
        fd.FontName = fd.FontName.replace(old_ps_name, PS_NAME)


def build(face_index: int, hinting: bool) -> TTFont:
    # Keeping the source's timestamp makes reruns byte-identical.
    font = TTFont(str(SOURCE_TTC), fontNumber=face_index,
                  recalcTimestamp=False)
    subset_font(font, wanted_codepoints(), hinting)
    rename(font)
    return font


def debian_version(package: str) -> str:
    return subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", package],
        check=True, capture_output=True, text=True,
    ).stdout


def ofl_text(copyright_file: Path) -> str:
    """The OFL 1.1 text from a Debian (DEP-5) copyright file, unindented."""
    text = copyright_file.read_text(encoding="utf-8")
    match = re.search(r"^License: SIL-1\.1\n((?: .*\n)+)", text, re.MULTILINE)
    if not match:
        raise SystemExit(f"no SIL-1.1 licence text in {copyright_file}")
    lines = [line[1:] for line in match.group(1).splitlines()]
    body = "\n".join("" if line == "." else line for line in lines) + "\n"
    for part in ("PREAMBLE", "DEFINITIONS", "PERMISSION & CONDITIONS",
                 "TERMINATION", "DISCLAIMER", "OTHER DEALINGS IN THE FONT"):
        if part not in body:
            raise SystemExit(f"OFL text in {copyright_file} lacks {part!r}")
    return body


def write_licence(font: TTFont, package_version: str, hinted: bool) -> None:
    copyright_notice = font["name"].getDebugName(0)
    hinting = "" if hinted else " hinting removed;"
    header = f"""\
{OUT_FONT.name} ("{FAMILY}")

A Modified Version of Noto Sans CJK SC Regular, taken from
{SOURCE_TTC.name} of the Debian package fonts-noto-cjk {package_version}
(upstream: https://github.com/googlefonts/noto-cjk).
Changes: subset with fontTools to GB2312 plus ASCII, Latin-1, punctuation,
CJK symbols, full-width forms, arrows and math operators; OpenType
features other than spacing and vertical forms (e.g. 'locl') dropped;{hinting}
family renamed to "{FAMILY}"
(PostScript name {PS_NAME}).
Made by tools/make_font_subset.py of attn_steps.

{copyright_notice}
Noto is a trademark of Google Inc.
Debian's copyright file gives: Copyright 2010-2012, Google Corporation.
Upstream reserves the font name "Source"; this version does not use it.

This Font Software is licensed under the SIL Open Font License, Version 1.1.
The licence text follows.

"""
    licence = header + ofl_text(SOURCE_COPYRIGHT)
    OUT_LICENCE.write_text(licence, encoding="utf-8")


def main() -> None:
    face_index = sc_face_index(SOURCE_TTC)
    # Hinting only helps at tiny pixel sizes; drop it when that saves space.
    hinted = build(face_index, hinting=True)
    unhinted = build(face_index, hinting=False)
    sizes = {}
    for label, font in (("hinted", hinted), ("unhinted", unhinted)):
        tmp = OUT_FONT.with_suffix(f".{label}.tmp")
        font.save(str(tmp))
        sizes[label] = tmp.stat().st_size
    best = "unhinted" if sizes["unhinted"] < sizes["hinted"] else "hinted"
    other = "hinted" if best == "unhinted" else "unhinted"
    OUT_FONT.with_suffix(f".{best}.tmp").replace(OUT_FONT)
    OUT_FONT.with_suffix(f".{other}.tmp").unlink()

    font = TTFont(str(OUT_FONT))
    write_licence(font, debian_version("fonts-noto-cjk"), best == "hinted")
    print(f"face {face_index} of {SOURCE_TTC}")
    print(f"sizes: {sizes} -> kept {best}")
    print(f"wrote {OUT_FONT}: {OUT_FONT.stat().st_size} bytes, "
          f"{font['maxp'].numGlyphs} glyphs, "
          f"{len(font.getBestCmap())} characters")
    print(f"wrote {OUT_LICENCE}")


if __name__ == "__main__":
    main()
