"""Write the tables the site's segmenter and typed sentences load lazily: the dictionary and the word vectors.

Generated at build time, never committed: both come from what is installed
(jieba's dict.txt, MIT licence, shipped in the jieba package; the embedding
source that builds the site), with no network, and the same inputs give the
same bytes.

How the dictionary is cut (attn_steps.segmenter.site_dictionary):
  - every word of dict.txt's 349 046 lines that jieba counted at least MIN_COUNT (50) times: 52 178 words
    (16 000 before, which cut 散步 into 散 / 步 and 饭馆 into 饭 / 馆);
  - plus every dict.txt word that occurs anywhere inside a chapter's sentence (segmenter.CHAPTER_SENTENCES)
    or a sentence of the 苹果 corpus
    (all the candidates jieba's DAG has there, so those sentences cut exactly as jieba cuts them);
  - jieba's total count (the sum over every line) is kept, so each log P(word) is jieba's.

    .venv/bin/python tools/make_segmenter_dict.py [out_dir]   # default _build/segmenter

writes segmenter-dict.json (segmenter.to_json), wordvecs-d10.json
(wordvecs.export_table, dim 10) and head-ch4.json (wordvecs.export_head_table of
the head chapter 4 trains: ats.train_head(the training split, seed=0)), and
prints their sizes raw and gzipped. About a minute, most of it training the head.

Then it prints the options measured for the dictionary (`options`): how many
words, and their size on the wire as one JSON list of words and one of counts
(the format before) and packed as to_json packs them (words grouped by length
with no separators, counts as differences). Chapter 2 loads the dictionary and
the vectors, 600 kB at most; a vector row costs about 20 bytes gzipped whatever
the encoding (the numbers look random), so the vectors keep VECTOR_WORDS words
and the characters, and the dictionary gets the rest of the budget.
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import attn_steps as ats  # noqa: E402
from attn_steps import segmenter, typing_tables, wordvecs  # noqa: E402
from attn_steps.typing_tables import DIM, dumps  # noqa: E402



def write_atomic(path: Path, data: bytes) -> None:
    """A page never sees half a table: write beside it, then rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; a static host serves it to everyone
    os.replace(tmp, path)


def build(out_dir: Path) -> dict[str, tuple[int, int]]:
    """Write both tables into out_dir; their sizes (raw bytes, gzip -9 bytes) by file name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = ats.apple_sentences()
    head = ats.train_head(corpus[corpus.split == "train"], seed=0)  # as chapter 4 trains it
    files = typing_tables.tables(head)
    sizes = {}
    for name, data in files.items():
        write_atomic(out_dir / name, data)
        sizes[name] = (len(data), len(gzip.compress(data, 9, mtime=0)))
    return sizes


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, 9, mtime=0))


def options() -> list[tuple[str, int, int, int]]:
    """(which words, how many, kB gzipped as plain lists, kB gzipped packed) for the dictionaries considered."""
    entries, total = segmenter.read_jieba_dict()
    ranked = sorted(dict(entries).items(), key=lambda wc: -wc[1])
    rows = [("the 16 000 most frequent (before)", ranked[:16_000])]
    rows += [(f"counted ≥ {m}", [wc for wc in ranked if wc[1] >= m]) for m in (100, segmenter.MIN_COUNT, 20, 3)]
    rows.append(("all of dict.txt", ranked))
    out = []
    for name, kept in rows:
        plain = dumps({"words": [w for w, _ in kept], "counts": [c for _, c in kept], "total": total})
        d = segmenter.prefix_dict(kept, total)
        out.append((name, len(kept), gzipped(plain), gzipped(dumps(segmenter.to_json(d)))))
    return out


def main(argv: list[str]) -> None:
    out_dir = Path(argv[0]) if argv else ROOT / "_build" / "segmenter"
    sizes = build(out_dir)
    for name, (raw, packed) in sizes.items():
        print(f"{out_dir / name}: {raw / 1000:.0f} kB, {packed / 1000:.0f} kB gzipped")
    wire = {name: packed for name, (_, packed) in sizes.items()}
    for page, tables in (("chapter 2", ("segmenter-dict.json", f"wordvecs-d{DIM}.json")),
                         ("chapter 4", ("segmenter-dict.json", "head-ch4.json"))):
        print(f"{page} loads {' + '.join(tables)}: {sum(wire[t] for t in tables) / 1000:.0f} kB gzipped "
              f"(budget 600 kB on the wire per page)")
    print(f"vectors: the {wordvecs.VECTOR_WORDS} most frequent words and every GB2312 character; "
          "rarer words are looked up character by character")
    print("dictionary options, gzipped: one list of words and one of counts / packed as to_json packs it")
    for name, n, plain, packed in options():
        print(f"  {name:<36} {n:>7} words  {plain / 1000:>5.0f} kB / {packed / 1000:>5.0f} kB")


if __name__ == "__main__":
    main(sys.argv[1:])
